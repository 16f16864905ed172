"""Timestamps to UTC, including legacy local times around daylight-saving changes.

The rule for local times without an offset (documented in the README):

- **Ambiguous** (the repeated hour when clocks go back): read as the first occurrence
  (summer time), unless an earlier row of the same file already showed a later local
  time, which means the clock has gone back: then it is the second occurrence (winter
  time). Logs are written in order, so this recovers the true instant of every line.
- **Missing** (the skipped hour when clocks go forward): read with the offset in force
  before the change, i.e. shifted forward by the gap (one hour in Europe and the US):
  a console whose clock had not yet jumped wrote it.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

_GAP = dt.timedelta(hours=1)
_OFFSET_RE = r"(?:Z|[+-]\d\d:?\d\d)$"


def localize(naive: pd.Series, zone: str) -> pd.Series:
    """Convert naive local times of one zone, in file order, to UTC (rule above).

    Parameters
    ----------
    naive : pandas.Series
        ``datetime64`` values without zone (NaT allowed), in the order they were written.
    zone : str
        IANA zone name.

    Returns
    -------
    pandas.Series
        Aware UTC timestamps, same index.
    """
    values = naive if pd.api.types.is_datetime64_dtype(naive) else pd.to_datetime(naive)
    previous_max = values.cummax().shift(1)
    first_occurrence = ~(values < previous_max).to_numpy(dtype=bool)
    local = values.dt.tz_localize(zone, ambiguous=first_occurrence, nonexistent=_GAP)
    return local.dt.tz_convert("UTC")


def to_utc(values: pd.Series, timestamp_format: str, zones: pd.Series) -> pd.Series:
    """Parse timestamps to UTC; values with an offset keep it, others use their zone.

    Parameters
    ----------
    values : pandas.Series
        Timestamp strings, in file order.
    timestamp_format : str
        ``"ISO8601"`` or a ``strftime`` layout.
    zones : pandas.Series
        IANA zone of each row, for values without an offset.

    Returns
    -------
    pandas.Series
        Aware UTC timestamps; NaT where a value could not be parsed.
    """
    text = values.astype("str").str.strip()
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    if timestamp_format == "ISO8601":
        aware = text.str.contains(_OFFSET_RE, regex=True).to_numpy(dtype=bool)
    else:
        aware = np.full(len(text), "%z" in timestamp_format)
    if aware.any():
        out[aware] = pd.to_datetime(text[aware], format=timestamp_format, utc=True, errors="coerce")
    naive_mask = ~aware
    if naive_mask.any():
        naive = pd.to_datetime(text[naive_mask], format=timestamp_format, errors="coerce")
        for zone, index in naive.groupby(zones[naive_mask].to_numpy()).groups.items():
            out[index] = localize(naive[index], str(zone))
    return out
