"""The outbox delivery loop and the registry of sinks.

Ticket revisions are written to the ``outbox`` table in the transaction that changes the
ticket (:mod:`equiptwin.planning.tickets`), one row per enabled sink, status ``pending``.
:func:`deliver_outbox` sends each due row to its sink and records the outcome in its own
transaction:

- success: ``delivered``, with ``delivered_at``;
- a retryable failure: still ``pending``, ``attempts`` + 1, ``next_attempt_at`` after an
  exponential backoff (``outbox.backoff_s`` doubling up to ``outbox.backoff_max_s``),
  ``last_error`` with any secret of the sink redacted; after ``outbox.max_attempts``
  attempts, or on a failure that retrying cannot fix, ``failed``.

Revisions of one ticket reach one sink in order: a row waits while an earlier revision
for the same sink is still pending. A crash between a sink's success and the commit
leaves the row pending; the next run sends it again and the sink, idempotent by
``(dedup_key, revision)``, applies it once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from equiptwin.config import PipelineConfig, defaults
from equiptwin.errors import ConfigError
from equiptwin.planning.mail import smtp_sink
from equiptwin.planning.sinks import DeliveryError, FileSink, Sink
from equiptwin.planning.webhook import WebhookSink
from equiptwin.store.schema import OutboxMessage


def _file_sink(config: PipelineConfig) -> Sink:
    folder = Path(config["sinks.file.dir"])
    return FileSink(folder if folder.is_absolute() else Path(config["outputs.dir"]) / folder)


def _webhook_sink(config: PipelineConfig) -> Sink:
    if not config["sinks.webhook.url"]:
        raise ConfigError(
            "the `webhook` sink is enabled but `sinks.webhook.url` is empty; set the desk's "
            "base URL or remove `webhook` from `sinks.enabled`."
        )
    return WebhookSink(
        config["sinks.webhook.url"],
        token_env=config["sinks.webhook.token_env"],
        timeout_s=config["sinks.webhook.timeout_s"],
        tries=config["sinks.webhook.tries"],
        backoff_s=config["sinks.webhook.backoff_s"],
    )


def _email_sink(config: PipelineConfig) -> Sink:
    return smtp_sink(config)


SINK_TYPES: Mapping[str, Callable[[PipelineConfig], Sink]] = {
    "file": _file_sink,
    "webhook": _webhook_sink,
    "email": _email_sink,
}
"""Sink builders by the name used in ``sinks.enabled`` and the outbox's ``sink`` column."""


def build_sinks(config: PipelineConfig) -> dict[str, Sink]:
    """Return the sinks named in ``sinks.enabled``, configured from the pipeline.

    Raises
    ------
    ConfigError
        When an enabled sink lacks a required setting.
    """
    return {name: SINK_TYPES[name](config) for name in config["sinks.enabled"]}


@dataclass(frozen=True)
class DeliveryReport:
    """What one run of the delivery loop did.

    Parameters
    ----------
    delivered : int
        Rows delivered now.
    retrying : int
        Rows that failed now and will be tried again.
    failed : int
        Rows given up now (``failed``).
    waiting : int
        Pending rows not tried now (not due, behind an earlier revision, or no such sink).
    """

    delivered: int
    retrying: int
    failed: int
    waiting: int


def _redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text[:2000]


def _naive_utc(at: dt.datetime) -> dt.datetime:
    if at.tzinfo is None:
        raise ValueError(f"`now` must be timezone-aware, but found {at.isoformat()}")
    return at.astimezone(dt.UTC).replace(tzinfo=None)


def deliver_outbox(
    engine: Engine,
    sinks: Mapping[str, Sink],
    now: dt.datetime,
    config: PipelineConfig | None = None,
) -> DeliveryReport:
    """Send every due pending outbox row to its sink (see the module docstring).

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store.
    sinks : Mapping of str to Sink
        Sinks by name (:func:`build_sinks`); rows for a sink not given wait.
    now : datetime.datetime
        Aware current time.
    config : PipelineConfig, optional
        ``outbox.*`` settings; defaults when omitted.

    Returns
    -------
    DeliveryReport
    """
    config = config or defaults()
    max_attempts = config["outbox.max_attempts"]
    backoff_s, backoff_max_s = config["outbox.backoff_s"], config["outbox.backoff_max_s"]
    at = _naive_utc(now)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                OutboxMessage.id,
                OutboxMessage.sink,
                OutboxMessage.dedup_key,
                OutboxMessage.next_attempt_at,
            )
            .where(OutboxMessage.status == "pending")
            .order_by(OutboxMessage.sink, OutboxMessage.dedup_key, OutboxMessage.revision)
        ).all()
    delivered = retrying = failed = waiting = 0
    blocked: set[tuple[str, str]] = set()
    for row_id, sink_name, key, next_at in rows:
        sink = sinks.get(sink_name)
        if sink is None or (sink_name, key) in blocked or (next_at is not None and next_at > at):
            blocked.add((sink_name, key))
            waiting += 1
            continue
        with Session(engine) as session, session.begin():
            message = session.get_one(OutboxMessage, row_id)
            message.attempts += 1
            try:
                sink.send(message.payload, now)
            except DeliveryError as exc:
                message.last_error = _redact(str(exc), sink.secrets())
                if exc.retryable and message.attempts < max_attempts:
                    pause = min(backoff_max_s, backoff_s * 2 ** (message.attempts - 1))
                    message.next_attempt_at = at + dt.timedelta(seconds=pause)
                    blocked.add((sink_name, key))
                    retrying += 1
                else:
                    message.status, message.next_attempt_at = "failed", None
                    failed += 1
                continue
            message.status, message.delivered_at = "delivered", at
            message.next_attempt_at, message.last_error = None, None
            delivered += 1
    return DeliveryReport(delivered, retrying, failed, waiting)


def deliver(engine: Engine, config: PipelineConfig, now: dt.datetime) -> DeliveryReport:
    """Build the enabled sinks from the pipeline and run :func:`deliver_outbox` once.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store.
    config : PipelineConfig
        ``sinks.*`` and ``outbox.*`` settings.
    now : datetime.datetime
        Aware current time.

    Returns
    -------
    DeliveryReport
    """
    return deliver_outbox(engine, build_sinks(config), now, config)
