from __future__ import annotations

import numpy as np
import pytest

from equiptwin.errors import ConfigError
from equiptwin.planning.policy import PRIORITIES, URGENCY, policies_by_system, policy_for

from .conftest import config_with, forecast, with_sections


@pytest.mark.parametrize(
    ("p14", "window_days", "expected"),
    [
        (0.05, None, None),
        (0.05, 20, None),
        (0.2, None, "low"),
        (0.5, None, "high"),
        (0.9, None, "critical"),
        (0.05, 10, "high"),
        (0.05, 2, "critical"),
        (0.6, 30, "high"),
    ],
    ids=["quiet", "far-window", "open", "high", "critical", "near-window", "imminent", "max"],
)
def test_priority_is_the_higher_of_probability_and_window(
    p14: float, window_days: int | None, expected: str | None
) -> None:
    policy = policy_for(config_with(), "AMS", "CT")
    f = forecast(p=(min(p14, 0.05), p14, max(p14, 0.95)), window_days=window_days)
    assert policy.priority(f) == expected


def test_opens_is_priority_for_many_forecasts_at_once() -> None:
    """The vectorised rule the backtest and the operations twin replay is the daily job's."""
    policy = policy_for(config_with(), "AMS", "CT")
    rng = np.random.default_rng(5)
    p14 = rng.uniform(0.0, 0.4, 200)
    window = rng.choice([np.nan, 1.0, 3.0, 10.0, 14.0, 15.0, 40.0], 200)
    expected = [
        policy.priority(
            forecast(p=(0.0, float(p), 1.0), window_days=None if np.isnan(w) else int(w))
        )
        is not None
        for p, w in zip(p14, window, strict=True)
    ]
    assert policy.opens(p14, window).tolist() == expected
    assert any(expected) and not all(expected)


def test_policies_by_system_apply_each_systems_overrides() -> None:
    cfg = with_sections(
        config_with(), policy_overrides={"modality": {"XR": {"horizon_days": 30, "p_open": 0.4}}}
    )
    systems = [("CT-1", "AMS", "CT"), ("XR-1", "AMS", "XR"), ("XR-2", "UTR", "XR")]
    policies = policies_by_system(cfg, systems)
    assert policies["CT-1"] == policy_for(cfg, "AMS", "CT")
    assert (policies["XR-1"].horizon_days, policies["XR-1"].p_open) == (30, 0.4)
    assert policies["XR-2"] == policies["XR-1"]


def test_priority_rises_with_probability() -> None:
    policy = policy_for(config_with(), "AMS", "CT")
    levels = [
        policy.priority(forecast(p=(0.0, p, 1.0), window_days=None))
        for p in (0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 1.0)
    ]
    ranks = [-1 if x is None else PRIORITIES.index(x) for x in levels]
    assert ranks == sorted(ranks)
    assert URGENCY["critical"] < URGENCY["high"] < URGENCY["low"]


def test_overrides_apply_most_specific_last() -> None:
    cfg = with_sections(
        config_with(),
        policy_overrides={
            "modality": {"MR": {"impact": 1, "p_open": 0.1}},
            "site": {"UTR": {"p_open": 0.3, "MR": {"p_open": 0.05}}},
        },
    )
    assert policy_for(cfg, "AMS", "CT").p_open == pytest.approx(0.2)
    assert policy_for(cfg, "AMS", "MR").p_open == pytest.approx(0.1)
    assert policy_for(cfg, "AMS", "MR").impact == 1
    assert policy_for(cfg, "UTR", "CT").p_open == pytest.approx(0.3)
    assert policy_for(cfg, "UTR", "MR").p_open == pytest.approx(0.05)
    assert policy_for(cfg, "UTR", "MR").impact == 1


@pytest.mark.parametrize(
    ("overrides", "pattern"),
    [
        ({"modality": {"CT": {"p_opn": 0.1}}}, r"`modality.CT.p_opn` is not a policy key"),
        ({"modality": {"CT": {"impact": 7}}}, r"policy.impact.*1 \(high\).*7"),
        ({"modality": {"CT": {"p_open": 0.9}}}, r"p_open <= p_high <= p_critical"),
        ({"sites": {}}, r"unknown table"),
    ],
    ids=["unknown-key", "bad-value", "order", "unknown-table"],
)
def test_bad_overrides_are_named(overrides: dict[str, object], pattern: str) -> None:
    cfg = with_sections(config_with(), policy_overrides=overrides)
    with pytest.raises(ConfigError, match=pattern):
        policy_for(cfg, "AMS", "CT")


def test_horizon_missing_from_forecast_is_a_config_error() -> None:
    policy = policy_for(config_with(policy__horizon_days=21), "AMS", "CT")
    with pytest.raises(ConfigError, match=r"forecast\.horizons_days"):
        policy.priority(forecast())
