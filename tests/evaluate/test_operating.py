"""Operating points and the matched comparison, on hand-built forecasts and points."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from equiptwin.config import defaults
from equiptwin.evaluate.alerts import alert_outcomes, ticket_alerts
from equiptwin.evaluate.operating import (
    MATCHED_COLUMNS,
    POINT_COLUMNS,
    fleet_point,
    matched_comparison,
    operating_points,
)
from equiptwin.planning.policy import policy_for

FIRST = pd.Timestamp("2024-01-01")
DATA_END = dt.date(2024, 7, 1)
DAYS = 182


@pytest.fixture
def lives() -> pd.DataFrame:
    """Six lives: four fail (days 60, 90, 120, 150), two run to the end of the data."""
    ends = [60, 90, 120, 150, None, None]
    return pd.DataFrame(
        {
            "life_id": [f"L{i}" for i in range(6)],
            "modality": "CT",
            "component": "xray_tube",
            "ended_on": [FIRST + pd.Timedelta(days=e) if e else pd.NaT for e in ends],
            "end_reason": ["failure" if e else None for e in ends],
            "has_precursor": [True, True, True, False, False, False],
        }
    )


@pytest.fixture
def forecasts(lives: pd.DataFrame) -> pd.DataFrame:
    """Two models: P(fail within 14 d) rising towards each failure, plus seeded noise;
    the noisy one also raises it to 0.95 for a week twice on each life that never fails."""
    rng = np.random.default_rng(7)
    frames = []
    for model, noise in (("ours", 0.05), ("noisy", 0.1)):
        for life, ended in zip(lives["life_id"], lives["ended_on"], strict=True):
            days = np.arange(DAYS if pd.isna(ended) else (ended - FIRST).days)
            left = days[-1] + 1 - days if not pd.isna(ended) else np.full(days.size, 999)
            p = np.clip(1.0 - left / 30.0, 0.0, 1.0) + noise * rng.random(days.size)
            if model == "noisy" and pd.isna(ended):
                p[(days % 70) < 7] = 0.95
            frames.append(
                pd.DataFrame(
                    {
                        "model": model,
                        "life_id": life,
                        "system_id": f"CT-{life}",
                        "as_of": FIRST + pd.to_timedelta(days, "D"),
                        "p_fail_14d": np.clip(p, 0.0, 1.0),
                        "window_start_days": np.nan,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


@pytest.fixture
def policies(lives: pd.DataFrame) -> dict[str, object]:
    base = policy_for(defaults(), "AMS", "CT")  # P14 >= 0.2 or a window within 14 days
    return {f"CT-{life}": base for life in lives["life_id"]}


def test_points_follow_the_ticket_rule_at_each_threshold(
    forecasts: pd.DataFrame, lives: pd.DataFrame, policies: dict[str, object]
) -> None:
    grid = (0.1, 0.2, 0.5, 0.9)
    points = operating_points(forecasts, lives, policies, data_end=DATA_END, p_open_grid=grid)
    assert list(points.columns) == list(POINT_COLUMNS)
    assert len(points) == 2 * 2 * len(grid)  # two models, window rule on and off
    for key, own in points.groupby(["model", "window_rule"]):
        # a higher threshold alerts a subset of the rows: never more failures
        assert own["n_alerted"].is_monotonic_decreasing, key
        assert (own["n_failures"] == 3).all()  # recall over the failures with precursors
    ours = forecasts[forecasts["model"] == "ours"]
    at = {s: dataclasses.replace(p, p_open=0.5) for s, p in policies.items()}
    alerts = ours[["life_id", "as_of"]].assign(alert=ticket_alerts(ours, at))
    table, _ = alert_outcomes(alerts, lives, data_end=DATA_END)
    expected = fleet_point(table)
    row = points[(points["model"] == "ours") & (points["p_open"] == 0.5) & points["window_rule"]]
    for key, value in expected.items():
        assert row.iloc[0][key] == pytest.approx(value, nan_ok=True), key


def test_the_window_rule_is_switched_off(
    forecasts: pd.DataFrame, lives: pd.DataFrame, policies: dict[str, object]
) -> None:
    """A failure window 5 days out on a life that never fails alerts only with the rule on."""
    ours = forecasts[forecasts["model"] == "ours"].copy()
    ours.loc[(ours["life_id"] == "L4") & (ours["as_of"] == FIRST), "window_start_days"] = 5.0
    points = operating_points(ours, lives, policies, data_end=DATA_END, p_open_grid=(0.9,))
    false = points.set_index("window_rule")["false_alerts_per_system_year"]
    assert false[True] > 0.0 and false[False] == 0.0


def test_the_noisy_model_pays_for_its_recall_in_false_alerts(
    forecasts: pd.DataFrame, lives: pd.DataFrame, policies: dict[str, object]
) -> None:
    points = operating_points(forecasts, lives, policies, data_end=DATA_END)
    ours = (points["model"] == "ours") & (points["p_open"] == 0.5) & points["window_rule"]
    ref = points[ours].iloc[0]
    table = matched_comparison(points, "ours", ref.to_dict())
    assert list(table.columns) == list(MATCHED_COLUMNS)
    matched = table.set_index("matched_on")
    assert set(matched["model"]) == {"noisy"}
    at_fa, at_recall = matched.loc["false alerts"], matched.loc["recall"]
    assert at_fa["false_alerts_per_system_year"] <= ref["false_alerts_per_system_year"] + 1e-9
    assert at_recall["recall"] >= ref["recall"] - 1e-9
    assert at_recall["false_alerts_per_system_year"] > ref["false_alerts_per_system_year"]
    assert at_recall["reference_better"] and at_fa["reference_better"]


def _points(model: str, rows: list[tuple[float, float, float, float]]) -> pd.DataFrame:
    """Points of one model from (p_open, recall, median warning, false alerts) tuples."""
    return pd.DataFrame(
        [
            {
                "model": model,
                "p_open": p,
                "window_rule": True,
                "n_failures": 10,
                "n_alerted": round(10 * r),
                "recall": r,
                "median_lead_days": w,
                "median_warning_days": w,
                "false_alerts_per_system_year": fa,
            }
            for p, r, w, fa in rows
        ],
        columns=POINT_COLUMNS,
    )


REFERENCE = {"recall": 0.9, "median_warning_days": 12.0, "false_alerts_per_system_year": 0.2}


def test_matching_picks_the_baselines_best_threshold_with_hindsight() -> None:
    points = pd.concat(
        [
            _points("ref", [(0.2, 0.9, 12.0, 0.2)]),
            # more recall only at more false alerts; at 0.2 false alerts it alerts 0.6
            _points("loose", [(0.05, 1.0, 20.0, 3.0), (0.2, 0.9, 15.0, 0.8), (0.5, 0.6, 8, 0.2)]),
            # as good as the reference at its false-alert rate: not better than it
            _points("twin", [(0.2, 0.9, 12.0, 0.2), (0.5, 0.9, 12.0, 0.1)]),
            # never as few false alerts, never as much recall
            _points("noisy", [(0.1, 0.8, 9.0, 2.0), (0.9, 0.5, 5.0, 0.5)]),
        ],
        ignore_index=True,
    )
    table = matched_comparison(points, "ref", REFERENCE).set_index(["model", "matched_on"])
    assert "ref" not in table.index.get_level_values("model")
    loose_fa = table.loc[("loose", "false alerts")]
    assert loose_fa["matched"] and loose_fa["p_open"] == 0.5 and loose_fa["reference_better"]
    loose_recall = table.loc[("loose", "recall")]
    assert loose_recall["p_open"] == 0.2 and loose_recall["reference_better"]
    twin_fa = table.loc[("twin", "false alerts")]
    assert twin_fa["p_open"] == 0.5  # most recall, then the longest warning, then fewest FA
    assert not twin_fa["reference_better"]
    assert not table.loc[("twin", "recall"), "reference_better"]  # 0.1 FA at the same recall
    noisy_fa, noisy_recall = table.loc[("noisy", "false alerts")], table.loc[("noisy", "recall")]
    assert not noisy_fa["matched"] and noisy_fa["p_open"] == 0.9  # nearest: fewest FA
    assert not noisy_recall["matched"] and noisy_recall["p_open"] == 0.1  # nearest: most recall
    assert noisy_fa["reference_better"] and noisy_recall["reference_better"]
