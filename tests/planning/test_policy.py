from __future__ import annotations

import pytest

from equiptwin.errors import ConfigError
from equiptwin.planning.policy import PRIORITIES, URGENCY, policy_for

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
