"""Alert metrics on hand-built lives and forecasts."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from equiptwin.config import defaults
from equiptwin.evaluate.alerts import (
    AlertRules,
    alert_metrics,
    alert_outcomes,
    paired_leads,
    ticket_alerts,
)
from equiptwin.planning.policy import policy_for

DATA_END = dt.date(2024, 7, 1)
FIRST = pd.Timestamp("2024-01-01")


def _day(offset: int) -> pd.Timestamp:
    return FIRST + pd.Timedelta(days=offset)


# life: (modality, ended_on offset or None, end_reason, has_precursor, alert day ranges)
LIVES = {
    "early_warned": ("CT", 100, "failure", True, [(88, 100)]),  # alert 12 d ahead, kept on
    "long_warned": ("CT", 100, "failure", True, [(75, 100)]),  # raised 25 d ahead, kept on
    "too_late": ("CT", 100, "failure", True, [(98, 100)]),  # 2 d ahead: missed, not false
    "before_window": ("XR", 100, "failure", False, [(78, 79)]),  # off before the window
    "standing": ("XR", None, None, False, [(10, 80)]),  # on for 70 d: raised 3 times, false
    "false_alarm": ("MR", None, None, True, [(50, 52)]),  # no failure in 30 d: false
    "unresolved": ("MR", None, None, True, [(170, 172)]),  # data ends 12 d later: unknown
    "replaced": ("MR", 60, "preventive", True, [(55, 57)]),  # replaced 5 d later: unknown
}


@pytest.fixture
def lives() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "life_id": name,
                "modality": mod,
                "component": "coldhead" if mod == "MR" else "xray_tube",
                "ended_on": _day(end) if end is not None else pd.NaT,
                "end_reason": reason,
                "has_precursor": pre,
            }
            for name, (mod, end, reason, pre, _) in LIVES.items()
        ]
    )


@pytest.fixture
def forecasts() -> pd.DataFrame:
    frames = []
    for name, (_, end, _, _, spans) in LIVES.items():
        days = np.arange(0, 182 if end is None else end + 10)  # rows after the end are ignored
        alert = np.zeros(days.size, dtype=bool)
        for lo, hi in spans:
            alert[lo:hi] = True
        frames.append(
            pd.DataFrame(
                {"life_id": name, "as_of": FIRST + pd.to_timedelta(days, "D"), "alert": alert}
            )
        )
    return pd.concat(frames, ignore_index=True)


def _row(table: pd.DataFrame, modality: str) -> pd.Series:
    return table[table["modality"] == modality].iloc[0]


def test_recall_and_lead_time(lives: pd.DataFrame, forecasts: pd.DataFrame) -> None:
    table = alert_metrics(forecasts, lives, data_end=DATA_END)
    ct = _row(table, "CT")
    assert (ct["n_failures"], ct["n_alerted"]) == (3, 2)
    assert ct["recall"] == pytest.approx(2 / 3)
    assert ct["median_lead_days"] == pytest.approx((12 + 25) / 2)
    assert ct["false_alerts"] == 0
    xr = _row(table, "XR")
    assert (xr["n_failures"], xr["n_alerted"], xr["false_alerts"]) == (1, 0, 3)
    assert np.isnan(xr["median_lead_days"])


def test_a_missed_failure_warns_zero_days(lives: pd.DataFrame, forecasts: pd.DataFrame) -> None:
    table = alert_metrics(forecasts, lives, data_end=DATA_END).set_index("modality")
    # CT warned 12 and 25 days and missed one; XR missed its only failure; MR had none
    assert table.loc["CT", "median_warning_days"] == pytest.approx(12.0)
    assert table.loc["XR", "median_warning_days"] == 0.0
    assert np.isnan(table.loc["MR", "median_warning_days"])
    assert table.loc["all", "median_warning_days"] == pytest.approx((0.0 + 12.0) / 2)


def test_false_and_unresolved_alerts(lives: pd.DataFrame, forecasts: pd.DataFrame) -> None:
    mr = _row(alert_metrics(forecasts, lives, data_end=DATA_END), "MR")
    assert (mr["n_failures"], mr["false_alerts"], mr["unresolved_alerts"]) == (0, 1, 2)
    years = (182 + 182 + 60) / 365.25
    assert mr["system_years"] == pytest.approx(years)
    assert mr["false_alerts_per_system_year"] == pytest.approx(1 / years)


def test_all_row_and_precursor_recall(lives: pd.DataFrame, forecasts: pd.DataFrame) -> None:
    table = alert_metrics(forecasts, lives, data_end=DATA_END)
    overall = table[table["modality"] == "all"].iloc[0]
    assert overall["component"] == "all"
    assert overall["n_failures"] == table["n_failures"].iloc[:-1].sum() == 4
    assert overall["recall"] == pytest.approx(2 / 4)
    assert overall["recall_precursor"] == pytest.approx(2 / 3)  # before_window had none
    assert list(table["modality"]) == ["CT", "MR", "XR", "all"]


def test_rules_change_the_verdicts(lives: pd.DataFrame, forecasts: pd.DataFrame) -> None:
    strict = AlertRules(min_lead_days=3, max_lead_days=20, false_after_days=20)
    ct = _row(alert_metrics(forecasts, lives, data_end=DATA_END, rules=strict), "CT")
    assert ct["false_alerts"] == 1  # long_warned raised 25 d ahead: false under 20 d
    with pytest.raises(ValueError, match="min_lead_days <= max_lead_days"):
        AlertRules(min_lead_days=5, max_lead_days=3)


def test_ticket_alerts_follow_each_systems_policy() -> None:
    base = policy_for(defaults(), "AMS", "CT")  # P14 >= 0.2 or a window within 14 days
    xr = dataclasses.replace(base, horizon_days=30, p_open=0.5)
    frame = pd.DataFrame(
        {
            "system_id": ["CT-1", "CT-1", "CT-1", "XR-1", "XR-1"],
            "p_fail_14d": [0.1, 0.3, 0.1, 0.3, 0.1],
            "p_fail_30d": [0.2, 0.4, 0.9, 0.4, 0.6],
            "window_start_days": [np.nan, np.nan, 12.0, np.nan, np.nan],
        }
    )
    alert = ticket_alerts(frame, {"CT-1": base, "XR-1": xr})
    assert alert.tolist() == [False, True, True, False, True]
    with pytest.raises(ValueError, match=r"no ticket policy for system\(s\) \['XR-1'\]"):
        ticket_alerts(frame, {"CT-1": base})
    with pytest.raises(ValueError, match="p_fail_7d"):
        ticket_alerts(frame, {"CT-1": base, "XR-1": dataclasses.replace(xr, horizon_days=7)})


def test_inputs_are_checked(lives: pd.DataFrame, forecasts: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="lacks the column"):
        alert_metrics(forecasts.drop(columns="alert"), lives, data_end=DATA_END)
    stray = pd.concat(
        [forecasts, pd.DataFrame({"life_id": ["ghost"], "as_of": [FIRST], "alert": [True]})]
    )
    with pytest.raises(ValueError, match="'ghost', which is not in `lives`"):
        alert_metrics(stray, lives, data_end=DATA_END)


def test_paired_leads_compare_on_failures_both_alerted() -> None:
    nan = float("nan")
    leads = pd.DataFrame(
        {
            "model": ["ours"] * 3 + ["early few"] * 3,
            "life_id": ["a", "b", "c"] * 2,
            "lead_days": [10.0, 12.0, 5.0, 18.0, nan, nan],
        }
    )
    table = paired_leads(leads, "ours").set_index("model")
    row = table.loc["early few"]
    assert row["both_alerted"] == 1
    assert row["median_lead_days"] == 18.0 and row["reference_median_lead_days"] == 10.0
    assert row["model_earlier"] == 1 and row["reference_earlier"] == 0
    with pytest.raises(ValueError, match="reference"):
        paired_leads(leads, "nobody")
    alone = paired_leads(leads[leads["model"] == "ours"], "ours")  # nothing to compare
    assert alone.empty and "model" in alone.columns


def test_the_failures_are_what_the_alert_metrics_summarise(
    lives: pd.DataFrame, forecasts: pd.DataFrame
) -> None:
    table, leads = alert_outcomes(forecasts, lives, data_end=DATA_END)
    assert table.equals(alert_metrics(forecasts, lives, data_end=DATA_END))
    overall = _row(table, "all")
    assert len(leads) == overall["n_failures"]
    assert leads["alerted"].sum() == overall["n_alerted"]
    assert leads["lead_days"].median() == overall["median_lead_days"]
    assert leads.loc["early_warned", "lead_days"] == 12.0
    assert np.isnan(leads.loc["too_late", "lead_days"])
