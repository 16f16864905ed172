"""The simulator's truth, matched to the store's lives."""

from __future__ import annotations

import pandas as pd

from equiptwin.evaluate.truth import sudden_failures, with_precursors


def test_only_failures_without_precursors_are_sudden() -> None:
    lives = pd.DataFrame(
        {
            "life_id": ["a", "b", "c", "d"],
            "system_id": ["S1", "S2", "S3", "S4"],
            "component": "xray_tube",
            "ended_on": pd.to_datetime(["2025-03-01", "2025-04-01", "2025-05-01", None]),
            "end_reason": ["failure", "failure", "preventive", None],
        }
    )
    truth = pd.DataFrame(
        {
            "system_id": ["S1", "S2"],
            "component": "xray_tube",
            "ended_on": pd.to_datetime(["2025-03-01", "2025-04-01"]),
            "has_precursor": [True, False],
        }
    )
    assert sudden_failures(with_precursors(lives, truth)).tolist() == ["b"]
