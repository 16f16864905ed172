"""Deliver ticket revisions to a service desk's REST API (ServiceNow incident shape).

The desk does not deduplicate creates, so the sender keeps the key: the incident's
``correlation_id`` is the ticket's ``dedup_key``. Each delivery first looks the key up
(``GET /api/now/table/incident?sysparm_query=correlation_id=<key>``); it creates the
incident (``POST``) only when none exists and otherwise updates it (``PATCH
/api/now/table/incident/<sys_id>``). The revision travels in ``u_equiptwin_revision``;
an incident that already holds this revision (or a later one) is left alone, so a
revision repeated after a lost response is applied once.

Transient failures (connection refused or reset, timeouts, HTTP 408, 429 and 5xx) are
tried again with exponential backoff and jitter; other 4xx answers are not. The bearer
token comes from the environment variable named by ``sinks.webhook.token_env`` and
never appears in messages.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from equiptwin.planning.sinks import DeliveryError, Sink, description, short_description, ticket_key

INCIDENT_PATH = "/api/now/table/incident"
RESOLVED_STATE = "6"
_RETRY_STATUS = frozenset({408, 429})


def incident(ticket: Mapping[str, Any]) -> dict[str, Any]:
    """Return the ServiceNow incident fields for one ticket revision.

    Parameters
    ----------
    ticket : Mapping
        A ticket revision's payload.

    Returns
    -------
    dict
        ``short_description``, ``description``, ``urgency``, ``impact``, ``cmdb_ci``,
        ``correlation_id``, ``u_equiptwin_revision``, ``work_notes``; a closed ticket
        adds ``state`` (resolved) and ``close_notes``.
    """
    fields = {
        "short_description": short_description(ticket),
        "description": description(ticket),
        "urgency": str(ticket["urgency"]),
        "impact": str(ticket["impact"]),
        "cmdb_ci": ticket["system_id"],
        "correlation_id": ticket["dedup_key"],
        "correlation_display": "equiptwin",
        "u_equiptwin_revision": str(ticket["revision"]),
        "work_notes": ticket.get("note", ""),
    }
    if ticket["status"] == "closed":
        fields |= {
            "state": RESOLVED_STATE,
            "close_code": "Solved (Permanently)",
            "close_notes": ticket.get("note", ""),
        }
    return fields


class WebhookSink(Sink):
    """A ServiceNow-style table API (see the module docstring).

    Parameters
    ----------
    base_url : str
        The desk's base URL (``https://example.service-now.com``).
    token_env : str
        Name of the environment variable holding the bearer token.
    timeout_s : float
        Seconds to wait for one request.
    tries : int
        Tries per :meth:`send`.
    backoff_s : float
        First pause between tries, seconds; doubles each try, times a jitter in [0.5, 1).
    sleep : Callable, optional
        Pauses for the given seconds (tests pass a recorder).
    rng : random.Random, optional
        Source of jitter.
    """

    def __init__(
        self,
        base_url: str,
        *,
        token_env: str,
        timeout_s: float = 10.0,
        tries: int = 3,
        backoff_s: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.base_url = base_url
        self.token_env = token_env
        self.timeout_s = timeout_s
        self.tries = tries
        self.backoff_s = backoff_s
        self.sleep = sleep
        self.rng = rng or random.Random(0)

    def secrets(self) -> tuple[str, ...]:
        """Return the token, if set, so that logs can redact it."""
        token = os.environ.get(self.token_env)
        return (token,) if token else ()

    def _token(self) -> str:
        token = os.environ.get(self.token_env)
        if not token:
            raise DeliveryError(
                f"the desk token is not set: export {self.token_env}=<token> (the name comes "
                "from `sinks.webhook.token_env`).",
                retryable=True,
            )
        return token

    def _where(self, path: str) -> str:
        parts = urllib.parse.urlsplit(self.base_url.rstrip("/") + path)
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{parts.hostname}{port}{parts.path}"  # no user, password or query

    def _request(self, method: str, path: str, body: Mapping[str, Any] | None) -> Any:
        url = self.base_url.rstrip("/") + path
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = {"Accept": "application/json", "Authorization": f"Bearer {self._token()}"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        where = f"{method} {self._where(path)}"
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            retry = exc.code >= 500 or exc.code in _RETRY_STATUS
            raise DeliveryError(
                f"{where} answered HTTP {exc.code} {exc.reason}", retryable=retry
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DeliveryError(f"{where} failed: {reason}", retryable=True) from None
        try:
            return json.loads(raw) if raw else {}
        except ValueError:
            raise DeliveryError(f"{where} answered with invalid JSON", retryable=True) from None

    def _deliver(self, ticket: Mapping[str, Any]) -> None:
        key, revision = ticket_key(ticket)
        query = urllib.parse.urlencode(
            {
                "sysparm_query": f"correlation_id={key}",
                "sysparm_fields": "sys_id,u_equiptwin_revision",
                "sysparm_limit": "1",
            }
        )
        found = self._request("GET", f"{INCIDENT_PATH}?{query}", None).get("result") or []
        fields = incident(ticket)
        if not found:
            self._request("POST", INCIDENT_PATH, fields)
            return
        held = str(found[0].get("u_equiptwin_revision") or "0")
        if held.isdigit() and int(held) >= revision:
            return
        sys_id = urllib.parse.quote(str(found[0]["sys_id"]), safe="")
        self._request("PATCH", f"{INCIDENT_PATH}/{sys_id}", fields)

    def send(self, ticket: Mapping[str, Any], now: dt.datetime) -> None:
        """Look up, then create or update the incident, trying again on transient errors."""
        for attempt in range(self.tries):
            try:
                self._deliver(ticket)
                return
            except DeliveryError as exc:
                if not exc.retryable or attempt == self.tries - 1:
                    raise
            self.sleep(self.backoff_s * 2**attempt * (0.5 + 0.5 * self.rng.random()))
