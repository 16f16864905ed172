"""Deliver ticket revisions by e-mail (SMTP), threaded per ticket.

Every revision has a stable ``Message-ID`` derived from the ticket's ``dedup_key`` and the
revision, so a message re-sent after a lost server reply is recognised as the same one
by the desk's mail system and by mail clients. Revisions after the first carry
``In-Reply-To`` and ``References`` pointing at the first revision's ``Message-ID``,
so the desk sees one thread per component life. The password comes from the
environment variable named by ``sinks.email.password_env`` and never appears in messages.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from equiptwin.config import PipelineConfig
from equiptwin.planning.sinks import DeliveryError, Sink, description, short_description, ticket_key


def message_id(dedup_key: str, revision: int, domain: str) -> str:
    """Return the stable ``Message-ID`` of one ticket revision.

    Parameters
    ----------
    dedup_key : str
        The ticket.
    revision : int
        The revision.
    domain : str
        Right-hand side of the id (the sender's domain).

    Returns
    -------
    str
        ``<ticket-<hash>.r<revision>@<domain>>``.
    """
    digest = hashlib.sha256(dedup_key.encode("utf-8")).hexdigest()[:24]
    return f"<ticket-{digest}.r{revision}@{domain}>"


def build_message(
    ticket: Mapping[str, Any], sender: str, to: Sequence[str], now: dt.datetime
) -> EmailMessage:
    """Return the e-mail of one ticket revision, with the JSON attached.

    Parameters
    ----------
    ticket : Mapping
        A ticket revision's payload.
    sender : str
        From address; its domain names the ``Message-ID``.
    to : Sequence of str
        Recipients.
    now : datetime.datetime
        Aware time for the ``Date`` header.

    Returns
    -------
    email.message.EmailMessage
    """
    key, revision = ticket_key(ticket)
    domain = sender.rpartition("@")[2] or "equiptwin"
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Subject"] = short_description(ticket)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = message_id(key, revision, domain)
    if revision > 1:
        first = message_id(key, 1, domain)
        msg["In-Reply-To"] = first
        msg["References"] = first
    msg["X-Equiptwin-Dedup-Key"] = key
    msg["X-Equiptwin-Revision"] = str(revision)
    msg.set_content(description(ticket))
    msg.add_attachment(
        json.dumps(dict(ticket), indent=2, sort_keys=True).encode("utf-8"),
        maintype="application",
        subtype="json",
        filename=f"ticket-r{revision}.json",
    )
    return msg


class SmtpSink(Sink):
    """An SMTP server (see the module docstring).

    Parameters
    ----------
    host : str
        SMTP server host.
    port : int
        SMTP server port.
    sender : str
        From address.
    to : Sequence of str
        Recipients.
    user : str
        Login user; empty for no login.
    password_env : str
        Name of the environment variable holding the password.
    starttls : bool
        Upgrade the connection with STARTTLS before login.
    timeout_s : float
        Seconds to wait for the server.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        sender: str,
        to: Sequence[str],
        user: str = "",
        password_env: str = "EQUIPTWIN_SMTP_PASSWORD",
        starttls: bool = False,
        timeout_s: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.to = tuple(to)
        self.user = user
        self.password_env = password_env
        self.starttls = starttls
        self.timeout_s = timeout_s

    def secrets(self) -> tuple[str, ...]:
        """Return the password, if set, so that logs can redact it."""
        password = os.environ.get(self.password_env)
        return (password,) if password else ()

    def send(self, ticket: Mapping[str, Any], now: dt.datetime) -> None:
        """Send the revision's e-mail (see :meth:`Sink.send`)."""
        self.send_message(build_message(ticket, self.sender, self.to, now))

    def send_message(self, msg: EmailMessage) -> None:
        """Send one message through the server (login and STARTTLS as configured).

        Raises
        ------
        DeliveryError
            Naming the server and its answer; ``retryable`` for 4xx and network errors.
        """
        where = f"SMTP {self.host}:{self.port}"
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    password = os.environ.get(self.password_env)
                    if not password:
                        raise DeliveryError(
                            f"the SMTP password is not set: export {self.password_env}=... "
                            "(the name comes from `sinks.email.password_env`).",
                            retryable=True,
                        )
                    smtp.login(self.user, password)
                smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = sorted({code for code, _ in exc.recipients.values()})
            raise DeliveryError(
                f"{where} refused the recipients (codes {codes})",
                retryable=all(c < 500 for c in codes),
            ) from None
        except smtplib.SMTPResponseException as exc:
            text = (
                exc.smtp_error.decode("utf-8", "replace")
                if isinstance(exc.smtp_error, bytes)
                else str(exc.smtp_error)
            )
            raise DeliveryError(
                f"{where} answered {exc.smtp_code} {text}", retryable=exc.smtp_code < 500
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(
                f"{where} failed: {exc.__class__.__name__}: {exc}", retryable=True
            ) from None


def smtp_sink(config: PipelineConfig, to: Sequence[str] | None = None) -> SmtpSink:
    """Return the SMTP sink of the ``sinks.email.*`` settings.

    Parameters
    ----------
    config : PipelineConfig
        Server, sender, login and timeout settings.
    to : sequence of str, optional
        Recipients instead of ``sinks.email.to`` (the daily report has its own list).

    Returns
    -------
    SmtpSink
    """
    return SmtpSink(
        config["sinks.email.host"],
        config["sinks.email.port"],
        sender=config["sinks.email.sender"],
        to=config["sinks.email.to"] if to is None else to,
        user=config["sinks.email.user"],
        password_env=config["sinks.email.password_env"],
        starttls=config["sinks.email.starttls"],
        timeout_s=config["sinks.email.timeout_s"],
    )
