"""Exposure records (X-ray/CT, one row per exam) to archive records."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from equiptwin.ingest.mapping import OPTIONAL_COLUMNS, CsvMapping
from equiptwin.ingest.parsers.base import (
    BlockContext,
    ParsedBlock,
    decode_text,
    line_array,
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
#: What the fast path takes: timestamps with an offset (to the millisecond, valid fields)
#: and plain decimals short enough that every parser rounds them alike.
_ISO = r"^\d{4}-\d\d-\d\d[T ]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,3})?(Z|[+-]\d\d:\d\d)$"
_DECIMAL = r"^\d{1,9}(\.\d{1,6})?$"
_TS = pa.timestamp("ms", tz="UTC")


def _fast(data: bytes, mapping: CsvMapping, ctx: BlockContext) -> ParsedBlock | None:
    """Parse a block with Arrow when nothing in it needs the exact path, else ``None``.

    That is: printable ASCII without quotes or blank lines, every row with the header's
    number of cells, known systems, ISO-8601 timestamps and plain decimals. The result
    is the exact path's (the equivalence is tested); anything else goes that way.
    """
    raw = np.frombuffer(data, np.uint8)
    if (
        mapping.timestamp_format != "ISO8601"
        or mapping.decimal != "."
        or not data.endswith(b"\n")
        or b'"' in data
        or b"\n\n" in data
        or ((raw < 32) & (raw != 10)).any()
        or (raw > 126).any()
    ):
        return None
    lines = line_array(data).cast(pa.large_string())
    n_lines = len(lines)
    header_text = ctx.header
    if header_text is None:
        header_text, lines = lines[0].as_py()[:-1], lines[1:]
    header = next(csv.reader([header_text], delimiter=mapping.delimiter))
    position = {name.strip(): i for i, name in enumerate(header)}
    if not len(lines) or any(
        t not in position and o not in OPTIONAL_COLUMNS for o, t in mapping.columns.items()
    ):
        return None
    cells = pc.split_pattern(pc.utf8_rtrim(lines, characters="\n"), mapping.delimiter)
    if not pc.all(pc.equal(pc.list_value_length(cells), len(header))).as_py():
        return None
    starts = cells.offsets.to_numpy()[:-1]
    columns = {
        ours: pc.utf8_trim(cells.values.take(pa.array(starts + position[theirs])), " ")
        if theirs in position
        else pa.array([""] * len(cells), pa.large_string())
        for ours, theirs in mapping.columns.items()
    }
    rows = pa.table(columns).append_column("_row", pa.array(np.arange(len(cells))))
    first = rows.group_by(list(columns), use_threads=False).aggregate([("_row", "min")])
    keep = pa.array(np.sort(first.column("_row_min").to_numpy()))
    rows = rows.take(keep)
    ts_text = rows.column("timestamp")
    checks = [
        pc.is_in(rows.column("system_id"), value_set=pa.array(list(ctx.systems))),
        pc.match_substring_regex(ts_text, _ISO),
        *(pc.match_substring_regex(rows.column(c), _DECIMAL) for c in _REQUIRED),
        *(
            pc.or_(pc.equal(rows.column(c), ""), pc.match_substring_regex(rows.column(c), _DECIMAL))
            for c in _OPTIONAL
        ),
    ]
    if not all(pc.all(check).as_py() for check in checks):
        return None
    try:
        ts = pc.cast(ts_text, _TS)
    except pa.ArrowInvalid:  # an impossible date
        return None
    numbers = {
        c: pc.cast(pc.if_else(pc.equal(rows.column(c), ""), None, rows.column(c)), pa.float64())
        for c in (*_REQUIRED, *_OPTIONAL)
    }
    table = pa.table(
        {
            "ts": ts,
            **{c: rows.column(c) for c in ("system_id", "exam_id", "protocol", "focal_spot")},
            **{c: pc.fill_null(v, float("nan")) for c, v in numbers.items()},
        }
    ).select(SCHEMAS["exposures"].names)
    return ParsedBlock(
        table=table.cast(SCHEMAS["exposures"]), lines=n_lines, duplicates=len(cells) - len(keep)
    )


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
    fast = _fast(data, mapping, ctx)
    return fast if fast is not None else _exact(data, mapping, ctx)


def _exact(data: bytes, mapping: CsvMapping, ctx: BlockContext) -> ParsedBlock:
    """Parse row by row where needed, quarantining each bad row with its reason."""
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
