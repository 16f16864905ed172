"""The asset registry (``assets.csv``) to rows of ``systems`` (plus tube data for lives)."""

from __future__ import annotations

import zoneinfo

import pandas as pd

from equiptwin.ingest.parsers.base import (
    BlockContext,
    ParsedBlock,
    decode_text,
    read_csv_rows,
    reject_rows,
)

MODALITIES = ("CT", "XR", "MR")


def _zone_ok(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def parse_dates(values: pd.Series) -> pd.Series:
    """Parse ``YYYY-MM-DD`` dates (a time part is ignored); empty cells become NaT."""
    return pd.to_datetime(values.str.slice(0, 10), format="%Y-%m-%d", errors="coerce")


def parse_assets(data: bytes, ctx: BlockContext) -> ParsedBlock:
    """Parse ``assets.csv``; rows with an unknown modality, zone or a bad date are quarantined.

    Parameters
    ----------
    data : bytes
        The whole file.
    ctx : BlockContext
        File location, mappings and quarantine.

    Returns
    -------
    ParsedBlock
        ``frame`` with the ``systems`` columns plus ``tube_model`` and
        ``tube_installed_on`` (dates), one row per system (the last row wins).
    """
    frame, n_lines = read_csv_rows(decode_text(data, ctx), ctx.mappings.csv["assets"], ctx)
    if frame.empty:
        return ParsedBlock(frame=frame, lines=n_lines)
    frame = reject_rows(
        frame, frame["system_id"] == "", "system_id", "missing_value", "must not be empty", ctx
    )
    frame = reject_rows(
        frame,
        ~frame["modality"].isin(MODALITIES),
        "modality",
        "bad_value",
        f"must be one of {', '.join(MODALITIES)}",
        ctx,
    )
    frame = reject_rows(
        frame,
        ~frame["timezone"].map(_zone_ok).astype(bool),
        "timezone",
        "bad_value",
        "must be an IANA zone name such as Europe/Amsterdam",
        ctx,
    )
    for column in ("installed_on", "tube_installed_on"):
        dates = parse_dates(frame[column])
        frame = reject_rows(
            frame,
            dates.isna() & (frame[column] != ""),
            column,
            "bad_date",
            "must be a date YYYY-MM-DD",
            ctx,
        )
        frame[column] = (
            dates[frame.index].dt.date.astype(object).where(dates[frame.index].notna(), None)
        )
    frame = frame.drop_duplicates("system_id", keep="last")
    return ParsedBlock(frame=frame.drop(columns=["_line"]), lines=n_lines)
