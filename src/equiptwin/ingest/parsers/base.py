"""What every parser gets and returns, and the helpers the CSV parsers share."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from equiptwin.ingest.mapping import OPTIONAL_COLUMNS, CsvMapping, Mappings
from equiptwin.ingest.privacy import Privacy
from equiptwin.ingest.quarantine import QuarantineBuffer


@dataclass(frozen=True)
class BlockContext:
    """Where a block of lines comes from and what a parser may consult.

    Parameters
    ----------
    source : str
        Source kind (``events``, ``exposures``, ...).
    rel : str
        File path relative to the fleet directory.
    first_line : int
        1-based number of the block's first line in the file.
    header : str or None
        The file's first line, for CSV blocks that start after it.
    systems : Mapping[str, str]
        Known ``system_id`` -> IANA timezone (from ``assets.csv``).
    mappings : Mappings
        Validated vendor mappings.
    privacy : Privacy
        Rules for personal data.
    quarantine : QuarantineBuffer
        Where rejected lines go.
    sites : Mapping[str, tuple[str, str]]
        Known ``system_id`` -> ``(site, modality)``.
    """

    source: str
    rel: str
    first_line: int
    header: str | None
    systems: Mapping[str, str]
    mappings: Mappings
    privacy: Privacy
    quarantine: QuarantineBuffer
    sites: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    def reject(self, line: int, field: str, reason: str, message: str, raw: str) -> None:
        """Quarantine one line (``raw`` is scrubbed of personal data here)."""
        self.quarantine.add(
            self.source, self.rel, line, field, reason, message, self.privacy.scrub(raw)
        )


@dataclass
class ParsedBlock:
    """What a parser made of one block.

    Attributes
    ----------
    table : pyarrow.Table or None
        Good records for the archive (log sources), ``None`` for table sources.
    frame : pandas.DataFrame or None
        Good rows for an SQL table (table sources).
    lines : int
        Physical lines in the block.
    duplicates : int
        Repeated lines dropped.
    unknown_codes : dict
        Event code -> count, for codes not in the mapping's code table.
    """

    table: pa.Table | None = None
    frame: pd.DataFrame | None = None
    lines: int = 0
    duplicates: int = 0
    unknown_codes: dict[int, int] = field(default_factory=dict)


def read_csv_rows(text: str, mapping: CsvMapping, ctx: BlockContext) -> tuple[pd.DataFrame, int]:
    """Split CSV text into a frame of equiptwin's columns (strings) plus ``_line`` and ``_raw``.

    Rows with the wrong number of cells are quarantined (``malformed``); a required
    column missing from the header quarantines the whole file (``missing_column``).
    Columns the mapping does not name (``patient_name``, ``birth_date``...) are never read.

    Parameters
    ----------
    text : str
        The block, without the header when ``ctx.header`` is given.
    mapping : CsvMapping
        Column names and delimiter.
    ctx : BlockContext
        Location and quarantine.

    Returns
    -------
    tuple of (pandas.DataFrame, int)
        The rows and the number of physical lines read.
    """
    lines = text.splitlines()
    first_line = ctx.first_line
    if ctx.header is None:
        if not lines:
            return pd.DataFrame(), 0
        header_text, lines = lines[0], lines[1:]
        first_line += 1
    else:
        header_text = ctx.header
    header = next(csv.reader([header_text], delimiter=mapping.delimiter))
    position = {name.strip(): i for i, name in enumerate(header)}
    wanted = {ours: theirs for ours, theirs in mapping.columns.items()}
    missing = [t for o, t in wanted.items() if t not in position and o not in OPTIONAL_COLUMNS]
    n_lines = len(lines) + (0 if ctx.header is not None else 1)
    if missing:
        ctx.reject(
            0,
            missing[0],
            "missing_column",
            f"the header must name the column {missing[0]!r} (mapping), but it has {header}",
            header_text,
        )
        return pd.DataFrame(), n_lines
    take = {o: position.get(t) for o, t in wanted.items()}
    records: list[list[str]] = []
    numbers: list[int] = []
    for offset, row in enumerate(csv.reader(lines, delimiter=mapping.delimiter)):
        number = first_line + offset
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != len(header):
            raw = mapping.delimiter.join(
                row[i] for i in take.values() if i is not None and i < len(row)
            )
            ctx.reject(
                number,
                "line",
                "malformed",
                f"a row must have {len(header)} cells, but found {len(row)}",
                raw,
            )
            continue
        records.append([row[i].strip() if i is not None else "" for i in take.values()])
        numbers.append(number)
    frame = pd.DataFrame(records, columns=list(take), dtype="str")
    frame["_line"] = numbers
    return frame, n_lines


def line_array(data: bytes) -> pa.Array:
    """Cut ``data`` (ending with a newline) into a binary array of lines, zero-copy."""
    ends = np.flatnonzero(np.frombuffer(data, np.uint8) == 10)
    offsets = np.empty(len(ends) + 1, np.int64)
    offsets[0] = 0
    offsets[1:] = ends + 1
    return pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), len(ends), [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )


def raw_row(frame: pd.DataFrame, index: int, delimiter: str = ",") -> str:
    """Rebuild the raw text of a row from the columns that were read (no personal columns)."""
    cells = [str(frame.at[index, c]) for c in frame.columns if not str(c).startswith("_")]
    return delimiter.join(cells)


def reject_rows(
    frame: pd.DataFrame, bad: pd.Series, column: str, reason: str, rule: str, ctx: BlockContext
) -> pd.DataFrame:
    """Quarantine the rows where ``bad`` is true and return the others."""
    lines = frame["_line"].to_numpy(dtype=np.int64) if len(frame) else np.array([], np.int64)
    for position in np.flatnonzero(bad.to_numpy(dtype=bool)).tolist():
        index = frame.index[int(position)]
        value = str(frame.at[index, column]) if column in frame.columns else ""
        ctx.reject(
            int(lines[position]),
            column,
            reason,
            f"`{column}` {rule}, but found {value!r}",
            raw_row(frame, index),
        )
    return frame[~bad.to_numpy(dtype=bool)]


def reject_unknown_systems(frame: pd.DataFrame, ctx: BlockContext) -> pd.DataFrame:
    """Quarantine the rows whose ``system_id`` is not in the asset registry."""
    return reject_rows(
        frame,
        ~frame["system_id"].isin(list(ctx.systems)),
        "system_id",
        "unknown_system",
        "must be a system of assets.csv",
        ctx,
    )


def to_number(values: pd.Series, decimal: str) -> pd.Series:
    """Parse decimal strings (``.`` or ``,`` mark); empty cells become NaN."""
    text = values.astype("str")
    if decimal == ",":
        text = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    return pd.to_numeric(text.replace("", None), errors="coerce")


def reject_not_utf8(ctx: BlockContext, line: int, raw: bytes, exc: UnicodeDecodeError) -> None:
    """Quarantine a line that is not UTF-8 (its raw text kept with escapes)."""
    ctx.reject(
        line,
        "line",
        "not_utf8",
        f"a line must be UTF-8, but byte {exc.start} is {raw[exc.start : exc.start + 1]!r}",
        raw.decode("utf-8", "backslashreplace").rstrip("\r\n"),
    )


def decode_text(data: bytes, ctx: BlockContext) -> str:
    """Decode a block as UTF-8; lines that are not UTF-8 are quarantined and left blank.

    Blank lines keep the numbering of the lines after them.
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    out = []
    for i, raw in enumerate(data.split(b"\n")):
        try:
            out.append(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            reject_not_utf8(ctx, ctx.first_line + i, raw, exc)
            out.append("")
    return "\n".join(out)


def zones_of(frame: pd.DataFrame, timezone: str, systems: Mapping[str, str]) -> pd.Series:
    """Return the zone of each row's naive timestamps: the mapping's zone or its system's zone."""
    if timezone != "system":
        return pd.Series(timezone, index=frame.index)
    return frame["system_id"].map(dict(systems)).fillna("UTC").astype("str")
