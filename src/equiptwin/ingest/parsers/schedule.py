"""Booked scans: ``schedule.csv`` or a FHIR R4 ``Bundle`` of ``Appointment`` resources.

``patient_ref`` becomes a keyed hash (see :mod:`equiptwin.ingest.privacy`); names,
birth dates and any other column the mapping does not name are never read. In FHIR,
the system is the participant whose actor references a ``Device``, the patient the
one referencing a ``Patient``; the exam code is the first coding of ``serviceType``
(else ``appointmentType``); ``priority`` is the FHIR number (1-3 ``stat``, 4-6
``inpatient``, others ``outpatient``) or one of the three words in an extension.
"""

from __future__ import annotations

import io
from typing import Any

import ijson
import pandas as pd

from equiptwin.formats import PRIORITIES, SCHEDULE_COLUMNS
from equiptwin.ingest.parsers.base import (
    BlockContext,
    ParsedBlock,
    decode_text,
    read_csv_rows,
    reject_rows,
    reject_unknown_systems,
    zones_of,
)
from equiptwin.ingest.parsers.times import to_utc

COLUMNS = SCHEDULE_COLUMNS


def _finish(
    frame: pd.DataFrame, timestamp_format: str, timezone: str, ctx: BlockContext
) -> pd.DataFrame:
    frame = reject_rows(
        frame,
        frame["appointment_id"] == "",
        "appointment_id",
        "missing_value",
        "must not be empty",
        ctx,
    )
    frame = reject_unknown_systems(frame, ctx)
    frame = reject_rows(
        frame,
        ~frame["priority"].isin(PRIORITIES),
        "priority",
        "bad_value",
        f"must be one of {', '.join(PRIORITIES)}",
        ctx,
    )
    minutes = pd.to_numeric(frame["duration_min"], errors="coerce")
    frame = reject_rows(
        frame,
        ~(minutes > 0),
        "duration_min",
        "bad_number",
        "must be a positive whole number of minutes",
        ctx,
    )
    start = to_utc(frame["start"], timestamp_format, zones_of(frame, timezone, ctx.systems))
    frame = reject_rows(
        frame,
        start.isna(),
        "start",
        "bad_timestamp",
        f"must be a timestamp in the layout {timestamp_format}",
        ctx,
    )
    start = start[frame.index]
    frame["start"] = start.dt.tz_convert("UTC").dt.tz_localize(None).astype(object)
    frame["duration_min"] = minutes[frame.index].round().astype(int)
    for column in ("site", "modality"):
        registry = frame["system_id"].map(
            lambda s, c=column: ctx.sites.get(s, ("", ""))[c == "modality"]
        )
        frame[column] = frame[column].where(frame[column] != "", registry)
    frame["patient_ref"] = (
        frame["patient_ref"].astype(object).where(frame["patient_ref"] != "", None)
    )
    frame = frame.drop_duplicates("appointment_id", keep="last")
    return frame.drop(columns=["_line"])[list(COLUMNS)]


def parse_schedule_csv(data: bytes, ctx: BlockContext) -> ParsedBlock:
    """Parse ``schedule.csv`` into ``appointments`` rows (see the module notes).

    Parameters
    ----------
    data : bytes
        The whole file.
    ctx : BlockContext
        File location, systems, mappings, privacy and quarantine.

    Returns
    -------
    ParsedBlock
        ``frame`` with the columns of ``appointments``.
    """
    mapping = ctx.mappings.csv["schedule"]
    frame, n_lines = read_csv_rows(decode_text(data, ctx), mapping, ctx)
    if frame.empty:
        return ParsedBlock(frame=frame, lines=n_lines)
    # Hash first, so that not even a quarantined row keeps the reference in clear.
    frame["patient_ref"] = frame["patient_ref"].map(ctx.privacy.patient_ref).fillna("")
    frame = _finish(frame, mapping.timestamp_format, mapping.timezone, ctx)
    return ParsedBlock(frame=frame, lines=n_lines)


def _reference(participants: list[Any], kind: str) -> str:
    for participant in participants:
        ref = str((participant.get("actor") or {}).get("reference", ""))
        if ref.startswith(kind + "/"):
            return ref.split("/", 1)[1]
    return ""


def _priority(resource: dict[str, Any]) -> str:
    for extension in resource.get("extension", []):
        if extension.get("valueCode") in PRIORITIES:
            return str(extension["valueCode"])
    value = resource.get("priority")
    if isinstance(value, str):
        return value
    if not isinstance(value, int):
        return "outpatient"
    return "stat" if 1 <= value <= 3 else "inpatient" if 4 <= value <= 6 else "outpatient"


def _code(resource: dict[str, Any]) -> str:
    for key in ("serviceType", "appointmentType"):
        concept = resource.get(key)
        concept = concept[0] if isinstance(concept, list) and concept else concept
        if isinstance(concept, dict) and concept.get("coding"):
            return str(concept["coding"][0].get("code", ""))
    return ""


def _appointment_row(entry: object, number: int, ctx: BlockContext) -> dict[str, object] | None:
    """Return one Bundle entry as an ``appointments`` row; quarantine a non-Appointment."""
    resource = entry.get("resource", {}) if isinstance(entry, dict) else {}
    if not isinstance(resource, dict) or resource.get("resourceType") != "Appointment":
        kind = resource.get("resourceType") if isinstance(resource, dict) else resource
        ctx.reject(
            number, "resourceType", "bad_value", "an entry must be an Appointment", str(kind)
        )
        return None
    participants = resource.get("participant", [])
    return {
        "appointment_id": str(resource.get("id", "")),
        "system_id": _reference(participants, "Device"),
        "site": "",
        "modality": "",
        "start": str(resource.get("start", "")),
        "duration_min": str(resource.get("minutesDuration", "")),
        "priority": _priority(resource),
        "exam_code": _code(resource),
        "patient_ref": ctx.privacy.patient_ref(_reference(participants, "Patient")) or "",
        "_line": number,
    }


def parse_schedule_fhir(data: bytes, ctx: BlockContext) -> ParsedBlock:
    """Parse a FHIR R4 ``Bundle`` of ``Appointment`` resources into ``appointments`` rows.

    Parameters
    ----------
    data : bytes
        The whole JSON file.
    ctx : BlockContext
        File location, systems, privacy and quarantine.

    Returns
    -------
    ParsedBlock
        ``frame`` with the columns of ``appointments``; an entry that is not an
        Appointment or lacks a field is quarantined (line = entry number).
    """
    text = decode_text(data, ctx)
    rows: list[dict[str, object]] = []
    try:
        # Entry by entry (ijson), not the whole tree: a fleet's bundle runs to hundreds of
        # megabytes, and its parsed tree to gigabytes.
        entries = ijson.items(io.BytesIO(text.encode("utf-8")), "entry.item", use_float=True)
        for number, entry in enumerate(entries, start=1):
            row = _appointment_row(entry, number, ctx)
            if row is not None:
                rows.append(row)
    except ijson.JSONError as exc:
        ctx.reject(0, "file", "malformed", f"the file must be one JSON Bundle ({exc})", text[:200])
        return ParsedBlock(frame=pd.DataFrame(columns=list(COLUMNS)), lines=text.count("\n"))
    frame = pd.DataFrame(rows, columns=[*COLUMNS, "_line"])
    frame = _finish(frame, "ISO8601", "system", ctx)
    return ParsedBlock(frame=frame, lines=text.count("\n") + 1)
