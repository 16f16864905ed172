"""Windowed summaries of daily aggregates per component life, as-of correct.

Every window ends the day *before* the row's day (sktime ``WindowSummarizer`` with a lag
of at least 1), so the row for day D uses data from before D only. Windows never cross
lives: the panel is indexed by (``life_id``, ``day``) and summarised per life.

Names: ``<column>_sum_<w>d`` (event counts and usage over the last ``w`` days),
``<column>_sum_7d_then`` (the same 7-day sum three weeks earlier: days D-28 .. D-22),
``<column>_level`` (median of the last 7 days), ``<column>_then`` (median of the 7 days
three weeks earlier: days D-28 .. D-22), ``<column>_trend`` (level minus then).
"""

from __future__ import annotations

import pandas as pd
from sktime.transformations.series.summarize import WindowSummarizer

COUNT_WINDOWS_DAYS: tuple[int, ...] = (1, 7, 28)
LEVEL_DAYS = 7
THEN_LAG_DAYS = 22


def _summarise(panel: pd.DataFrame, lag_feature: dict[str, list[list[int]]]) -> pd.DataFrame:
    if panel.empty or panel.shape[1] == 0:
        return pd.DataFrame(index=panel.index)
    summarizer = WindowSummarizer(
        lag_feature=lag_feature, target_cols=list(panel.columns), n_jobs=1, truncate=None
    )
    out: pd.DataFrame = summarizer.fit_transform(panel)
    return out


def window_sums(panel: pd.DataFrame) -> pd.DataFrame:
    """Sum counts and usage over the last 1, 7 and 28 days before each row's day.

    Parameters
    ----------
    panel : pandas.DataFrame
        Indexed by (``life_id``, ``day``) with one row per day of each life, in order;
        NaN counts must already be filled.

    Returns
    -------
    pandas.DataFrame
        ``<column>_sum_<w>d`` for each column and window, and ``<column>_sum_7d_then``,
        same index.
    """
    windows = [[1, w] for w in COUNT_WINDOWS_DAYS] + [[THEN_LAG_DAYS, LEVEL_DAYS]]
    out = _summarise(panel, {"sum": windows})
    return out.rename(columns=lambda c: _rename_sum(str(c)))


def _rename_sum(name: str) -> str:
    base, lag, window = name.rsplit("_", 2)
    then = "_then" if int(lag) == THEN_LAG_DAYS else ""
    return f"{base.removesuffix('_sum')}_sum_{window}d{then}"


def level_and_trend(panel: pd.DataFrame) -> pd.DataFrame:
    """Recent level, level three weeks earlier, and their difference, per indicator.

    Parameters
    ----------
    panel : pandas.DataFrame
        Indexed by (``life_id``, ``day``); indicators carried forward over days without a
        reading (so a weekend does not blank the window).

    Returns
    -------
    pandas.DataFrame
        ``<column>_level``, ``<column>_then`` and ``<column>_trend`` for each column.
    """
    raw = _summarise(panel, {"median": [[1, LEVEL_DAYS], [THEN_LAG_DAYS, LEVEL_DAYS]]})
    out = pd.DataFrame(index=panel.index)
    for column in panel.columns:
        level = raw[f"{column}_median_1_{LEVEL_DAYS}"]
        then = raw[f"{column}_median_{THEN_LAG_DAYS}_{LEVEL_DAYS}"]
        out[f"{column}_level"] = level
        out[f"{column}_then"] = then
        out[f"{column}_trend"] = level - then
    return out
