"""MRI cryogenics telemetry (JSON lines) to archive records."""

from __future__ import annotations

import json
import math

import pandas as pd
import pyarrow as pa

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
    frame = pd.DataFrame(records, columns=list(fields))
    ts = to_utc(
        frame["ts"].astype("str"),
        "ISO8601",
        zones_of(frame, ctx.mappings.cryo.timezone, ctx.systems),
    )
    for index in frame.index[ts.isna().to_numpy(dtype=bool)]:
        ctx.reject(
            numbers[index],
            "ts",
            "bad_timestamp",
            "`ts` must be an ISO-8601 timestamp",
            json.dumps(records[index]),
        )
    good = ts.notna().to_numpy(dtype=bool)
    frame, ts = frame[good], ts[good]
    columns: dict[str, object] = {
        "ts": pa.array(ts, pa.timestamp("ms", tz="UTC")),
        "system_id": pa.array(frame["system_id"].tolist(), pa.string()),
        "compressor_on": pa.array(frame["compressor_on"].tolist(), pa.bool_()),
    }
    for name in _NUMBERS:
        columns[name] = pa.array(frame[name].tolist(), pa.float64())
    table = pa.table(columns).select(SCHEMAS["cryo"].names)
    return ParsedBlock(table=table, lines=len(lines), duplicates=duplicates)
