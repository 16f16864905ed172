"""CMMS work orders (``service_records.csv``) to rows of ``service_records``."""

from __future__ import annotations

from equiptwin.ingest.parsers.base import (
    BlockContext,
    ParsedBlock,
    decode_text,
    read_csv_rows,
    reject_rows,
    reject_unknown_systems,
    to_number,
    zones_of,
)
from equiptwin.ingest.parsers.times import to_utc

KINDS = ("corrective", "preventive", "inspection", "helium_fill")
COMPONENTS = (
    "xray_tube",
    "coldhead",
    "compressor",
    "gradient_amp",
    "rf_amp",
    "detector",
    "generator",
    "other",
)
ACTIONS = ("replaced", "repaired", "adjusted", "inspected", "refilled")
_YES = {
    "yes": True,
    "y": True,
    "true": True,
    "1": True,
    "no": False,
    "n": False,
    "false": False,
    "0": False,
    "": False,
}


def parse_service(data: bytes, ctx: BlockContext) -> ParsedBlock:
    """Parse ``service_records.csv``; a bad row is quarantined, the others kept.

    Parameters
    ----------
    data : bytes
        The whole file.
    ctx : BlockContext
        File location, systems, mappings and quarantine.

    Returns
    -------
    ParsedBlock
        ``frame`` with the columns of ``service_records`` (times naive UTC).
    """
    mapping = ctx.mappings.csv["service_records"]
    frame, n_lines = read_csv_rows(decode_text(data, ctx), mapping, ctx)
    if frame.empty:
        return ParsedBlock(frame=frame, lines=n_lines)
    frame = reject_rows(
        frame, frame["work_order"] == "", "work_order", "missing_value", "must not be empty", ctx
    )
    frame = reject_unknown_systems(frame, ctx)
    for column, allowed in (("kind", KINDS), ("component", COMPONENTS), ("action", ACTIONS)):
        frame = reject_rows(
            frame,
            ~frame[column].isin(allowed),
            column,
            "bad_value",
            f"must be one of {', '.join(allowed)}",
            ctx,
        )
    frame = reject_rows(
        frame,
        ~frame["failure"].str.lower().isin(list(_YES)),
        "failure",
        "bad_value",
        "must be yes or no",
        ctx,
    )
    zones = zones_of(frame, mapping.timezone, ctx.systems)
    for column in ("opened_at", "closed_at"):
        ts = to_utc(frame[column], mapping.timestamp_format, zones[frame.index])
        bad = ts.isna() & ((frame[column] != "") | (column == "opened_at"))
        frame = reject_rows(
            frame,
            bad,
            column,
            "bad_timestamp",
            f"must be a timestamp in the layout {mapping.timestamp_format}",
            ctx,
        )
        ts = ts[frame.index]
        frame[column] = (
            ts.dt.tz_convert("UTC").dt.tz_localize(None).astype(object).where(ts.notna(), None)
        )
    hours = to_number(frame["downtime_h"], mapping.decimal)
    frame = reject_rows(
        frame,
        hours.isna() & (frame["downtime_h"] != ""),
        "downtime_h",
        "bad_number",
        "must be a number of hours",
        ctx,
    )
    frame["downtime_h"] = hours[frame.index].astype(object).where(hours[frame.index].notna(), None)
    frame["failure"] = frame["failure"].str.lower().map(_YES).astype(bool)
    frame["notes"] = frame["notes"].astype(object).where(frame["notes"] != "", None)
    frame = frame.drop_duplicates("work_order", keep="last")
    return ParsedBlock(frame=frame.drop(columns=["_line"]), lines=n_lines)
