"""Daily event counts by code, one column per code that carries degradation signal.

The codes are those of the event table in formats.md; every other code (noise, unrelated
or unknown to this version) is summed into ``ev_other`` so nothing is dropped.
"""

from __future__ import annotations

import pandas as pd

SIGNAL_CODES: dict[int, str] = {
    1000: "System startup",
    1001: "System shutdown",
    1011: "Daily quality check failed",
    2100: "Tube warm-up completed",
    2301: "Tube arc detected",
    2302: "Exposure aborted after repeated arcs",
    2310: "Filament current out of tolerance",
    2311: "Emission current regulation error",
    2320: "Anode rotor start slow",
    2321: "Anode coast-down time short",
    2330: "Tube housing temperature high",
    2331: "Cooling wait inserted",
    3105: "kV regulation deviation",
    3200: "DC bus voltage low",
    6100: "Chiller flow low",
    6200: "Water temperature high",
    7110: "Cold head temperature high",
    7120: "Compressor trip",
    7121: "Compressor restart",
    7130: "Magnet pressure high",
    7140: "Helium level low",
    7300: "Gradient coil temperature high",
    7310: "Gradient amplifier thermal trip",
    7400: "RF amplifier reflected power high",
}
"""Codes kept as their own feature, with their message (failure codes 2399, 7199 and 7200
are left out on purpose: they mark the failure itself, not a precursor)."""

OTHER = "ev_other"


def event_column(code: int) -> str:
    """Return the feature column of an event code (``ev_2301``)."""
    return f"ev_{code}"


def event_code_panel(event_counts: pd.DataFrame) -> pd.DataFrame:
    """Pivot daily event counts to one column per signal code plus ``ev_other``.

    Parameters
    ----------
    event_counts : pandas.DataFrame
        Columns ``system_id``, ``day``, ``code``, ``n``.

    Returns
    -------
    pandas.DataFrame
        Indexed by (``system_id``, ``day``); every signal code has a column, zero where
        the system logged that day but not that code.
    """
    named = event_counts["code"].map(
        lambda c: event_column(int(c)) if int(c) in SIGNAL_CODES else OTHER
    )
    wide = (
        event_counts.assign(column=named)
        .pivot_table(index=["system_id", "day"], columns="column", values="n", aggfunc="sum")
        .fillna(0.0)
    )
    columns = [event_column(c) for c in SIGNAL_CODES] + [OTHER]
    wide = wide.reindex(columns=columns, fill_value=0.0).astype(float)
    wide.columns.name = None
    return wide
