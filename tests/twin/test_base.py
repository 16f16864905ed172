"""Contract tests every degradation model passes (run over each model)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from equiptwin.errors import EquiptwinError
from equiptwin.twin.base import SUDDEN, DegradationModel, ModelParameterError, WorkloadError
from tests.twin.conftest import MODELS, weekly_workload


def test_declaration_is_complete(model: DegradationModel) -> None:
    assert model.component in ("xray_tube", "coldhead")
    assert model.events[-1] == SUDDEN
    assert set(model.count_outputs) <= set(model.outputs)
    assert set(model.load_inputs) <= set(model.inputs)
    for name in model.outputs:
        if name not in model.count_outputs:
            assert f"{name}_sd" in model.default_parameters
    rng = np.random.default_rng(1)
    x = model.initial_state(5, rng)
    theta = model.sample_life_parameters(5, rng)
    u = np.tile(weekly_workload(model, 1), (5, 1))
    assert x.shape == (5, len(model.states))
    assert theta.shape == (5, len(model.life_parameters))
    assert model.next_state(x, u, theta, rng).shape == x.shape
    assert model.expected_output(x, u, theta).shape == (5, len(model.outputs))
    assert model.damage(x).shape == (5, len(model.events) - 1)
    assert np.all((model.health(x) >= 0) & (model.health(x) <= 1))


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.component)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scale=arrays(np.float64, 120, elements=st.floats(0.0, 3.0)), seed=st.integers(0, 2**16))
def test_wear_never_decreases_within_a_life(
    cls: type[DegradationModel], scale: np.ndarray, seed: int
) -> None:
    model = cls()
    base = weekly_workload(model, 120)
    workload = base * scale[:, None]
    if model.component == "xray_tube":
        workload[:, 3] = base[:, 3]  # mean mA is a level, not a load
    result = model.simulate(workload, 20, np.random.default_rng(seed), stop_at_failure=False)
    wear = np.stack([model.damage(result.states[:, d]) for d in range(121)], axis=1)
    assert np.all(np.diff(wear, axis=1) >= 0.0)


def test_more_load_fails_earlier_in_distribution(model: DegradationModel) -> None:
    days = 365 * 12
    q = [10, 25, 50, 75, 90]
    ttf = {}
    for scale in (1.0, 1.5):
        res = model.simulate(weekly_workload(model, days, scale), 600, np.random.default_rng(7))
        ttf[scale] = np.percentile(np.where(res.failed, res.failure_day, days), q)
    assert np.all(ttf[1.5] < ttf[1.0])


def test_simulation_result_is_consistent(model: DegradationModel) -> None:
    days = 365 * 8
    res = model.simulate(weekly_workload(model, days), 200, np.random.default_rng(3))
    assert res.states.shape == (200, days + 1, len(model.states))
    assert res.outputs.shape == (200, days, len(model.outputs))
    assert res.failed.mean() > 0.5
    for i in np.flatnonzero(res.failed)[:50]:
        d, mode = res.failure_day[i], res.failure_mode[i]
        assert np.isnan(res.outputs[i, d + 1 :]).all()
        assert np.all(res.states[i, d + 1 :] == res.states[i, d + 1])
        damage = model.damage(res.states[i, d + 1][None])[0]
        if model.events[mode] == SUDDEN:
            assert damage.max() < 1.0
        else:
            assert damage[mode] >= 1.0
            assert model.damage(res.states[i, d][None])[0].max() < 1.0
    # both kinds of failure occur
    assert set(res.failure_mode[res.failed]) >= {0, len(model.events) - 1}


def test_same_seed_same_lives(model: DegradationModel) -> None:
    w = weekly_workload(model, 200)
    a = model.simulate(w, 10, np.random.default_rng(5))
    b = model.simulate(w, 10, np.random.default_rng(5))
    np.testing.assert_array_equal(a.states, b.states)
    np.testing.assert_array_equal(a.outputs, b.outputs)


def test_time_to_failure_matches_simulate_in_distribution(model: DegradationModel) -> None:
    days = 365 * 10
    w = weekly_workload(model, days)
    rng = np.random.default_rng(11)
    x0 = model.initial_state(800, rng)
    theta = model.sample_life_parameters(800, rng)
    fd, mode = model.time_to_failure(w, x0, theta, np.random.default_rng(12))
    res = model.simulate(w, 800, np.random.default_rng(13), x0=x0, theta=theta)
    a = np.where(fd >= 0, fd, days)
    b = np.where(res.failed, res.failure_day, days)
    assert abs(np.median(a) - np.median(b)) < 0.05 * np.median(b)
    assert np.all((mode >= 0) == (fd >= 0))


def test_log_likelihood_prefers_the_true_state_and_ignores_missing(
    model: DegradationModel,
) -> None:
    rng = np.random.default_rng(2)
    u = np.tile(weekly_workload(model, 1), (2, 1))
    theta = np.ones((2, len(model.life_parameters)))
    x = np.stack([model.initial_state(1, rng)[0], model.initial_state(1, rng)[0]])
    x[1, 0] += 0.5 * (0.1 if model.component == "xray_tube" else 1.0)
    y = model.observe(x[:1], u[:1], theta[:1], rng)[0]
    ll = model.log_likelihood(y, x, u, theta)
    assert ll[0] > ll[1]
    missing = np.full_like(y, np.nan)
    np.testing.assert_array_equal(model.log_likelihood(missing, x, u, theta), [0.0, 0.0])


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (lambda w: w[:, :-1], "must have shape"),
        (lambda w: np.where(np.arange(w.shape[0])[:, None] == 3, -1.0, w), "finite number >= 0"),
        (lambda w: np.where(np.arange(w.shape[0])[:, None] == 2, np.nan, w), "day 2"),
        (lambda w: np.stack([w, w, w]), "3 lives but 5"),
    ],
    ids=["columns", "negative", "nan", "lives"],
)
def test_bad_workload_names_the_problem(model: DegradationModel, bad, match: str) -> None:
    w = weekly_workload(model, 10)
    with pytest.raises(WorkloadError, match=match) as info:
        model.simulate(bad(w), 5, np.random.default_rng(0))
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, EquiptwinError)


def test_bad_states_and_parameters_are_refused(model: DegradationModel) -> None:
    w = weekly_workload(model, 10)
    with pytest.raises(WorkloadError, match="x0"):
        model.simulate(w, 5, np.random.default_rng(0), x0=np.zeros((4, len(model.states))))
    with pytest.raises(WorkloadError, match="at least 1"):
        model.simulate(w, 0, np.random.default_rng(0))
    with pytest.raises(ModelParameterError, match="no parameter 'wear_speed'"):
        _ = type(model)(wear_speed=2.0).parameters
    with pytest.raises(ModelParameterError, match=">= 0"):
        _ = type(model)(sudden_failure_per_day=-1.0).parameters


def test_overrides_are_stored_not_computed(model: DegradationModel) -> None:
    m = type(model)(sudden_failure_per_day=0.5)
    assert m.parameter_overrides == {"sudden_failure_per_day": 0.5}
    assert m.parameters["sudden_failure_per_day"] == 0.5
