"""The one survival-target type: construction, checks, conversions and landmark rows."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from equiptwin.survival.target import SurvivalTarget, check_survival_target, landmark_target

INF = np.inf


def test_from_arrays_right_and_interval_censoring() -> None:
    y = SurvivalTarget.from_arrays(
        [5.0, 8.0, 3.0], [True, False, True], upper_days=[np.nan, np.nan, 7.0]
    )
    np.testing.assert_array_equal(y.lower_days, [5.0, 8.0, 3.0])
    np.testing.assert_array_equal(y.upper_days, [5.0, INF, 7.0])
    np.testing.assert_array_equal(y.event, [True, False, True])
    np.testing.assert_array_equal(y.interval_censored, [False, False, True])
    np.testing.assert_array_equal(y.time_days, [5.0, 8.0, 5.0])  # interval at its midpoint


def test_one_value_feeds_every_library() -> None:
    y = SurvivalTarget.from_arrays([5.0, 8.0, 3.0], [True, False, True], upper_days=[5, INF, 7])
    lower, upper = y.aft_bounds()
    np.testing.assert_array_equal(lower, [5.0, 8.0, 3.0])
    np.testing.assert_array_equal(upper, [5.0, INF, 7.0])
    np.testing.assert_array_equal(y.cox_label(), [5.0, -8.0, 5.0])
    structured = y.to_structured()
    assert structured.dtype.names == ("event", "time_days")
    np.testing.assert_array_equal(structured["event"], [True, False, True])


def test_censored_at_zero_still_reads_as_censored_for_cox() -> None:
    y = SurvivalTarget.from_arrays([0.0, 3.0], [False, True])
    assert y.cox_label()[0] < 0


@pytest.mark.parametrize(
    ("time", "event", "upper", "match"),
    [
        ([-1.0, 2.0], [True, False], None, "must not be negative"),
        ([np.nan, 2.0], [True, False], None, "must not be NaN"),
        ([5.0, 2.0], [True, False], [4.0, np.nan], "must not exceed the upper bound"),
        ([0.0, 2.0], [True, False], None, r"after `as_of` \(> 0 days\)"),
        ([1.0, 2.0], [True, False, True], None, "has 3 rows"),
        ([1.0, 2.0], ["yes", "no"], None, "booleans"),
        ([1.0, 2.0], [True, False], [np.nan, 9.0], "inf or NaN on censored rows"),
        ([[1.0, 2.0]], [True], None, "1-dimensional"),
    ],
    ids=[
        "negative",
        "nan",
        "lower_above_upper",
        "event_at_zero",
        "length",
        "event_type",
        "censored_upper",
        "two_dimensional",
    ],
)
def test_rejects_bad_input(
    time: list[float], event: list[object], upper: list[float] | None, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        SurvivalTarget.from_arrays(time, event, upper_days=upper)


def test_checker_names_the_type_and_length() -> None:
    y = SurvivalTarget.from_arrays([1.0, 2.0], [True, False])
    assert check_survival_target(y, 2) is y
    with pytest.raises(TypeError, match=r"SurvivalTarget\.from_arrays"):
        check_survival_target(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="`y` has 2 rows but `X` has 3"):
        check_survival_target(y, 3)


def test_target_is_immutable_and_sliceable() -> None:
    y = SurvivalTarget.from_arrays([1.0, 2.0, 3.0], [True, False, True])
    with pytest.raises(ValueError, match="read-only"):
        y.lower_days[0] = 9.0
    sub = y[np.array([False, True, True])]
    assert len(sub) == 2 and sub.event.tolist() == [False, True]


def test_censored_at_hides_later_outcomes() -> None:
    y = SurvivalTarget.from_arrays([5.0, 20.0, 30.0], [True, True, False])
    known = y.censored_at(10.0)
    np.testing.assert_array_equal(known.lower_days, [5.0, 10.0, 10.0])
    np.testing.assert_array_equal(known.event, [True, False, False])


def test_as_censored_keeps_the_time_known_working() -> None:
    y = SurvivalTarget.from_arrays([5.0, 20.0, 3.0], [True, True, False], upper_days=[5, 24, INF])
    out = y.as_censored([False, True, True])
    np.testing.assert_array_equal(out.lower_days, y.lower_days)
    np.testing.assert_array_equal(out.event, [True, False, False])
    with pytest.raises(ValueError, match="rows"):
        y.as_censored([True])


def test_observed_by_horizon() -> None:
    y = SurvivalTarget.from_arrays(
        [5.0, 20.0, 3.0, 6.0], [True, False, False, True], upper_days=[5, INF, INF, 12]
    )
    known, failed = y.observed_by(10.0)
    np.testing.assert_array_equal(known, [True, True, False, False])
    np.testing.assert_array_equal(failed[known], [True, False])


def _lives() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "life_id": ["fail", "prev", "open", "late"],
            "installed_on": pd.to_datetime(
                ["2024-01-01", "2024-01-01", "2024-01-08", "2024-01-01"]
            ),
            "ended_on": pd.to_datetime(["2024-01-05", "2024-01-03", None, "2024-03-01"]),
            "end_reason": ["failure", "preventive", None, "failure"],
        }
    )


def test_landmark_rows_and_targets() -> None:
    rows, y = landmark_target(_lives(), data_end=dt.date(2024, 1, 10))
    fail = rows["life_id"] == "fail"
    assert rows.loc[fail, "as_of"].dt.day.tolist() == [1, 2, 3, 4]
    np.testing.assert_array_equal(y.time_days[fail.to_numpy()], [4.0, 3.0, 2.0, 1.0])
    assert y.event[fail.to_numpy()].all()
    prev = (rows["life_id"] == "prev").to_numpy()
    np.testing.assert_array_equal(y.time_days[prev], [2.0, 1.0])
    assert not y.event[prev].any()
    open_ = (rows["life_id"] == "open").to_numpy()
    np.testing.assert_array_equal(y.time_days[open_], [2.0, 1.0])  # censored at data_end
    late = (rows["life_id"] == "late").to_numpy()
    assert late.sum() == 9 and not y.event[late].any()  # failure after data_end is not known
    assert rows["as_of"].max() < pd.Timestamp("2024-01-10")


def test_landmark_step_and_interval_censoring() -> None:
    lives = _lives().iloc[:1].assign(failed_after=pd.to_datetime(["2024-01-03"]))
    rows, y = landmark_target(lives, data_end=dt.date(2024, 2, 1), step_days=2)
    assert rows["as_of"].dt.day.tolist() == [1, 3]
    np.testing.assert_array_equal(y.lower_days, [2.0, 0.0])
    np.testing.assert_array_equal(y.upper_days, [4.0, 2.0])


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"end_reason": ["broken", None, None, None]}, "must be one of"),
        ({"life_id": ["a", "a", "b", "c"]}, "unique"),
        ({"installed_on": pd.to_datetime(["2024-02-01"] * 4)}, "before it is installed"),
        ({"installed_on": pd.to_datetime(["2024-01-01", None] * 2)}, "no `installed_on`"),
    ],
    ids=["end_reason", "duplicate", "ends_before_start", "no_start"],
)
def test_landmark_rejects_bad_lives(change: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        landmark_target(_lives().assign(**change), data_end=dt.date(2024, 1, 10))


def test_landmark_needs_its_columns() -> None:
    with pytest.raises(ValueError, match="lacks the column"):
        landmark_target(_lives().drop(columns="end_reason"), data_end=dt.date(2024, 1, 10))


def test_landmark_end_on_data_end_is_not_known_yet() -> None:
    lives = _lives().iloc[:1]
    _, y = landmark_target(lives, data_end=dt.date(2024, 1, 5))
    assert not y.event.any()
    _, y = landmark_target(lives, data_end=dt.date(2024, 1, 6))
    assert y.event.all()
