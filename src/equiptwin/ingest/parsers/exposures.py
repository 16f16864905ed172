"""Exposure records (X-ray/CT, one row per exam) to archive records."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

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
from equiptwin.store.archive import SCHEMAS

_REQUIRED = ("kvp", "ma", "exposure_s")
_OPTIONAL = ("filament_a", "oil_temp_c", "coastdown_s")


def parse_exposures(data: bytes, ctx: BlockContext) -> ParsedBlock:
    """Parse a block of exposure CSV rows (formats.md, through ``mappings.exposures``).

    Parameters
    ----------
    data : bytes
        Whole lines; the header when the block starts the file.
    ctx : BlockContext
        File location, systems, mappings and quarantine.

    Returns
    -------
    ParsedBlock
        Good rows (archive schema ``exposures``); a row repeated verbatim is kept once.
    """
    mapping = ctx.mappings.csv["exposures"]
    frame, n_lines = read_csv_rows(decode_text(data, ctx), mapping, ctx)
    if frame.empty:
        return ParsedBlock(table=SCHEMAS["exposures"].empty_table(), lines=n_lines)
    before = len(frame)
    frame = frame.drop_duplicates(subset=[c for c in frame.columns if c != "_line"])
    duplicates = before - len(frame)
    frame = reject_unknown_systems(frame, ctx)
    ts = to_utc(
        frame["timestamp"], mapping.timestamp_format, zones_of(frame, mapping.timezone, ctx.systems)
    )
    frame = reject_rows(
        frame,
        ts.isna(),
        "timestamp",
        "bad_timestamp",
        f"must be a timestamp in the layout {mapping.timestamp_format}",
        ctx,
    )
    ts = ts[frame.index]
    numbers: dict[str, pd.Series] = {}
    for column in (*_REQUIRED, *_OPTIONAL):
        values = to_number(frame[column], mapping.decimal)
        empty = frame[column] == ""
        bad = values.isna() & (
            ~empty if column in _OPTIONAL else pd.Series(True, index=frame.index)
        )
        frame = reject_rows(frame, bad, column, "bad_number", "must be a number", ctx)
        numbers = {k: v[frame.index] for k, v in numbers.items()}
        numbers[column] = values[frame.index]
        ts = ts[frame.index]
    table = pa.table(
        {
            "ts": pa.array(ts, pa.timestamp("ms", tz="UTC")),
            "system_id": frame["system_id"].to_numpy(),
            "exam_id": frame["exam_id"].to_numpy(),
            "protocol": frame["protocol"].to_numpy(),
            **{c: numbers[c].to_numpy(dtype=float) for c in (*_REQUIRED, *_OPTIONAL)}
            | {"focal_spot": frame["focal_spot"].to_numpy()},
        }
    ).select(SCHEMAS["exposures"].names)
    return ParsedBlock(table=table.cast(SCHEMAS["exposures"]), lines=n_lines, duplicates=duplicates)
