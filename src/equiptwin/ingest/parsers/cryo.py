"""MRI cryogenics telemetry (JSON lines) to archive records."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from equiptwin.ingest.parsers.base import BlockContext, ParsedBlock, decode_text, zones_of
from equiptwin.ingest.parsers.times import to_utc
from equiptwin.store.archive import SCHEMAS

_NUMBERS = (
    "he_level_pct",
    "he_pressure_psi",
    "coldhead_stage1_k",
    "coldhead_stage2_k",
    "water_temp_c",
    "water_flow_lpm",
    "grad_coil_temp_c",
)
_TS = pa.timestamp("ms", tz="UTC")


def _check(record: object, fields: dict[str, str]) -> tuple[dict[str, object], str, str]:
    """Return the mapped record, or the failing field and rule."""
    if not isinstance(record, dict):
        return {}, "line", "must be a JSON object"
    out: dict[str, object] = {}
    for ours, theirs in fields.items():
        value = record.get(theirs)
        if ours in ("ts", "system_id"):
            if not isinstance(value, str) or not value:
                return {}, ours, "must be a non-empty string"
        elif ours == "compressor_on":
            if value is not None and not isinstance(value, bool):
                return {}, ours, "must be true, false or null"
        elif value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value)
        ):
            return {}, ours, "must be a number or null"
        out[ours] = value
    return out, "", ""


def _readings(records: list[dict[str, object]], name: str, missing: set[str]) -> list[object]:
    """One sensor's readings: a dropout is NaN, or null when the block has no reading at all."""
    if name in missing:
        return [None] * len(records)
    return [math.nan if (v := r[name]) is None else float(v) for r in records]  # type: ignore[arg-type]


def _timestamps(records: list[dict[str, object]], ctx: BlockContext) -> pa.Array:
    """``ts`` in UTC, null where it is not a timestamp.

    Arrow's ISO-8601 cast when it takes every value (they all carry an offset), else
    :func:`times.to_utc` value by value.
    """
    text = pa.array([r["ts"] for r in records], pa.string())
    try:
        return pc.cast(text, _TS)
    except pa.ArrowInvalid:
        pass
    frame = pd.DataFrame({"system_id": [r["system_id"] for r in records]}, dtype="str")
    ts = to_utc(
        pd.Series(text.to_pylist(), dtype="str"),
        "ISO8601",
        zones_of(frame, ctx.mappings.cryo.timezone, ctx.systems),
    )
    return pa.array(ts, _TS)


def parse_cryo(data: bytes, ctx: BlockContext) -> ParsedBlock:
    """Parse a block of cryogenics JSON lines; missing or null fields are sensor dropouts.

    Parameters
    ----------
    data : bytes
        Whole lines.
    ctx : BlockContext
        File location, systems, mappings and quarantine.

    Returns
    -------
    ParsedBlock
        Good readings (archive schema ``cryo``); a line repeated verbatim is kept once.
    """
    fields = dict(ctx.mappings.cryo.fields)
    lines = decode_text(data, ctx).split("\n")[:-1]
    records, numbers, seen = [], [], set()
    duplicates = 0
    for i, line in enumerate(lines):
        text = line.strip()
        if not text:
            continue
        if text in seen:
            duplicates += 1
            continue
        seen.add(text)
        number = ctx.first_line + i
        try:
            record, field, rule = _check(json.loads(text), fields)
        except json.JSONDecodeError as exc:
            ctx.reject(
                number, "line", "malformed", f"a line must be one JSON object ({exc.msg})", text
            )
            continue
        if field:
            ctx.reject(number, field, "bad_value", f"`{field}` {rule}", text)
            continue
        if record["system_id"] not in ctx.systems:
            ctx.reject(
                number,
                "system_id",
                "unknown_system",
                "`system_id` must be a system of assets.csv",
                text,
            )
            continue
        records.append(record)
        numbers.append(number)
    missing = {n for n in _NUMBERS if all(r[n] is None for r in records)}
    ts = _timestamps(records, ctx)
    for index in np.flatnonzero(pc.is_null(ts).to_numpy(zero_copy_only=False)).tolist():
        ctx.reject(
            numbers[index],
            "ts",
            "bad_timestamp",
            "`ts` must be an ISO-8601 timestamp",
            json.dumps(records[index]),
        )
    if ts.null_count:
        records = [r for r, good in zip(records, pc.is_valid(ts).to_pylist(), strict=True) if good]
        ts = ts.drop_null()
    columns: dict[str, pa.Array] = {
        "ts": ts,
        "system_id": pa.array([r["system_id"] for r in records], pa.string()),
        "compressor_on": pa.array([r["compressor_on"] for r in records], pa.bool_()),
    }
    for name in _NUMBERS:
        columns[name] = pa.array(_readings(records, name, missing), pa.float64())
    table = pa.table(columns).select(SCHEMAS["cryo"].names)
    return ParsedBlock(table=table, lines=len(lines), duplicates=duplicates)
