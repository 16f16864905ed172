"""The simulator's ground truth, read for evaluation only (never by ingest).

A simulated fleet's ``_truth/lives.csv`` says which failures showed precursors. Its lives
are matched to the store's by system, component and end date, since ingest numbers lives
from the CMMS history and the truth names them by installation date.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

TRUTH_COLUMNS: tuple[str, ...] = ("system_id", "component", "ended_on", "has_precursor")


def read_truth_lives(path: Path) -> pd.DataFrame:
    """Return the failures of a truth file with whether each showed precursors.

    Parameters
    ----------
    path : Path
        A simulated fleet's ``_truth/lives.csv``.

    Returns
    -------
    pandas.DataFrame
        ``system_id``, ``component``, ``ended_on`` (datetime64) and ``has_precursor``
        (bool), one row per failure.
    """
    truth = pd.read_csv(path)
    missing = [c for c in (*TRUTH_COLUMNS, "end_reason") if c not in truth.columns]
    if missing:
        raise ValueError(f"{path}: a truth file needs the column(s) {missing}.")
    failures = truth[truth["end_reason"] == "failure"].copy()
    failures["ended_on"] = pd.to_datetime(failures["ended_on"])
    failures["has_precursor"] = failures["has_precursor"].astype(str).str.lower() == "yes"
    return failures[list(TRUTH_COLUMNS)].reset_index(drop=True)


def with_precursors(lives: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Add ``has_precursor`` to the store's lives (False where the truth has no failure)."""
    keys = ["system_id", "component", "ended_on"]
    merged = lives.merge(truth, on=keys, how="left")
    merged["has_precursor"] = merged["has_precursor"].fillna(False).astype(bool)
    return merged


def sudden_failures(lives: pd.DataFrame) -> pd.Series:
    """Return the ``life_id`` of every failure that showed no precursor.

    ``lives`` carries ``has_precursor`` (:func:`with_precursors`); a sudden failure has a
    constant hazard, so no forecast can rank it.
    """
    failed = lives["end_reason"].eq("failure") & ~lives["has_precursor"].astype(bool)
    ids: pd.Series = lives.loc[failed, "life_id"]
    return ids
