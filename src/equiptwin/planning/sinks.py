"""Where ticket revisions go: a small ABC, an in-memory sink for tests and a drop folder.

Every sink is *idempotent by* ``(dedup_key, revision)``: sending the same revision twice
has the effect of sending it once. That, and the outbox recording a delivery only after
the sink returns, gives exactly-once delivery in effect across crashes and retries.

A sink raises :class:`DeliveryError` when a revision did not arrive; ``retryable`` says
whether trying again later can help. Messages never carry secrets.

The sinks for the service desk's REST API and for e-mail are in
:mod:`equiptwin.planning.webhook` and :mod:`equiptwin.planning.mail`; the registry that
builds sinks by name from the pipeline settings is in :mod:`equiptwin.planning.outbox`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from equiptwin.errors import EquiptwinError

CSV_COLUMNS: tuple[str, ...] = (
    "dedup_key",
    "revision",
    "status",
    "priority",
    "urgency",
    "impact",
    "system_id",
    "site",
    "modality",
    "component",
    "life_id",
    "opened_as_of",
    "as_of",
    "closed_as_of",
    "p_fail_7d",
    "p_fail_14d",
    "p_fail_30d",
    "window_start",
    "window_end",
    "median_days_left",
    "recommended_action",
    "slot_start",
    "slot_end",
    "evidence",
    "model_version",
    "note",
)
"""Columns of ``tickets.csv``, in order."""


class DeliveryError(EquiptwinError, RuntimeError):
    """A ticket revision did not reach its sink.

    Parameters
    ----------
    message : str
        What failed, without secrets.
    retryable : bool
        Whether a later attempt may succeed (server down, 5xx) or not (request refused).
    """

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class Sink(ABC):
    """A destination of ticket revisions."""

    @abstractmethod
    def send(self, ticket: Mapping[str, Any], now: dt.datetime) -> None:
        """Deliver one ticket revision; sending it again must change nothing.

        Parameters
        ----------
        ticket : Mapping
            The revision's payload (see :mod:`equiptwin.planning.tickets`); it holds at
            least ``dedup_key`` and ``revision``.
        now : datetime.datetime
            Aware current time (for headers that carry a date).

        Raises
        ------
        DeliveryError
            When the revision did not arrive.
        """

    def secrets(self) -> tuple[str, ...]:
        """Return the secret values this sink uses, so that logs can redact them."""
        return ()


def ticket_key(ticket: Mapping[str, Any]) -> tuple[str, int]:
    """Return the ``(dedup_key, revision)`` a sink deduplicates on."""
    return str(ticket["dedup_key"]), int(ticket["revision"])


class MemorySink(Sink):
    """Keeps revisions in a list; for tests and dry runs.

    Parameters
    ----------
    fail_times : int
        Fail this many sends (retryably) before accepting any.
    """

    def __init__(self, fail_times: int = 0) -> None:
        self.fail_times = fail_times
        self.received: list[dict[str, Any]] = []

    def send(self, ticket: Mapping[str, Any], now: dt.datetime) -> None:
        """Append the revision unless it is already held (see :meth:`Sink.send`)."""
        if self.fail_times > 0:
            self.fail_times -= 1
            raise DeliveryError("memory sink told to fail", retryable=True)
        if ticket_key(ticket) not in {ticket_key(t) for t in self.received}:
            self.received.append(dict(ticket))


def csv_row(ticket: Mapping[str, Any]) -> dict[str, Any]:
    """Flatten a ticket revision into one ``tickets.csv`` row (no line breaks in fields)."""
    slot = ticket.get("slot") or {}
    flat = dict(ticket) | {
        "slot_start": slot.get("start"),
        "slot_end": slot.get("end"),
        "evidence": " | ".join(ticket.get("evidence", ())),
    }
    return {
        c: str(flat.get(c) if flat.get(c) is not None else "").replace("\n", " ")
        for c in CSV_COLUMNS
    }


def _append_line(path: Path, line: str) -> None:
    """Append one line with a single write; repair a torn last line first."""
    data = line.encode("utf-8")
    if path.exists() and path.stat().st_size:
        with path.open("rb") as fh:
            fh.seek(-1, os.SEEK_END)
            if fh.read(1) != b"\n":
                data = b"\n" + data
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


class FileSink(Sink):
    """A drop folder: ``tickets.jsonl`` (one JSON object a line) and ``tickets.csv``.

    Each revision is appended once to each file with a single write; a revision already
    in a file (same ``dedup_key`` and ``revision``) is not written again, and a torn last
    line left by a crash is skipped on reading and closed before the next append.

    Parameters
    ----------
    folder : Path
        The drop folder; created on first send.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    @property
    def jsonl_path(self) -> Path:
        """The JSON lines file."""
        return self.folder / "tickets.jsonl"

    @property
    def csv_path(self) -> Path:
        """The CSV file."""
        return self.folder / "tickets.csv"

    def _jsonl_keys(self) -> set[tuple[str, int]]:
        keys = set()
        if self.jsonl_path.exists():
            for line in self.jsonl_path.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    keys.add(ticket_key(json.loads(line)))
                except (ValueError, KeyError, TypeError):
                    continue  # a torn line from a crash: its revision is written again
        return keys

    def _csv_keys(self) -> set[tuple[str, int]]:
        keys = set()
        if self.csv_path.exists():
            text = self.csv_path.read_text(encoding="utf-8", errors="replace")
            for row in csv.DictReader(io.StringIO(text)):
                if len(row) == len(CSV_COLUMNS) and None not in row.values():
                    keys.add((row["dedup_key"], int(row["revision"])))
        return keys

    def send(self, ticket: Mapping[str, Any], now: dt.datetime) -> None:
        """Append the revision to both files unless already there (see :meth:`Sink.send`)."""
        key = ticket_key(ticket)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if key not in self._jsonl_keys():
                _append_line(self.jsonl_path, json.dumps(dict(ticket), sort_keys=True) + "\n")
            if not self.csv_path.exists() or not self.csv_path.stat().st_size:
                header = io.StringIO()
                csv.writer(header, lineterminator="\n").writerow(CSV_COLUMNS)
                _append_line(self.csv_path, header.getvalue())
            if key not in self._csv_keys():
                buffer = io.StringIO()
                csv.DictWriter(buffer, CSV_COLUMNS, lineterminator="\n").writerow(csv_row(ticket))
                _append_line(self.csv_path, buffer.getvalue())
        except OSError as exc:
            raise DeliveryError(
                f"cannot write ticket {key[0]} rev {key[1]} to {self.folder}: {exc.strerror}; "
                "check the folder exists and is writable.",
                retryable=True,
            ) from None


def short_description(ticket: Mapping[str, Any]) -> str:
    """Return a one-line summary of a ticket revision, as a desk's title or e-mail subject."""
    state = "closed" if ticket["status"] == "closed" else f"{ticket['priority']} risk"
    return (
        f"[equiptwin] {ticket['system_id']} {ticket['component']}: {state}, "
        f"{ticket['recommended_action']}"
    )


def description(ticket: Mapping[str, Any]) -> str:
    """Return the ticket revision as text an engineer reads (figures, slot, evidence)."""
    horizons = sorted(
        (int(k[len("p_fail_") : -1]), v)
        for k, v in ticket.items()
        if k.startswith("p_fail_") and k.endswith("d")
    )
    slot = ticket.get("slot")
    lines = [
        ticket.get("note", ""),
        "",
        f"System {ticket['system_id']} ({ticket['modality']}, site {ticket['site']}), "
        f"component {ticket['component']}, life {ticket['life_id']}.",
        "Failure probability: " + ", ".join(f"{p:.0%} within {h} d" for h, p in horizons) + ".",
    ]
    if ticket.get("window_start"):
        lines.append(
            f"Likely failure window: {ticket['window_start']} to {ticket['window_end']} "
            f"({ticket['window_coverage']:.0%} coverage)."
        )
    lines.append(f"Recommended action: {ticket['recommended_action']}.")
    if slot:
        lines.append(
            f"Proposed maintenance slot: {slot['start']} to {slot['end']} (UTC), displacing "
            f"{slot['displaced_exams']} exam(s)."
        )
    evidence = ticket.get("evidence") or []
    if evidence:
        lines += ["Evidence:", *(f"  - {e}" for e in evidence)]
    lines += [
        f"Forecast as of {ticket['as_of']}, model {ticket['model_version']}; "
        f"ticket {ticket['dedup_key']} revision {ticket['revision']}."
    ]
    return "\n".join(lines).strip() + "\n"
