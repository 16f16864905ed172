"""The particle filter: tracking, missing data, survival, replay, serialisation, errors."""

from __future__ import annotations

import numpy as np
import pytest

from equiptwin.twin.base import DegradationModel, WorkloadError
from equiptwin.twin.coldhead import ColdheadModel
from equiptwin.twin.estimate import FilterState, ParticleFilter, weighted_quantiles
from equiptwin.twin.xray_tube import XrayTubeModel
from tests.twin.conftest import weekly_workload


def _one_life(model: DegradationModel, days: int, seed: int):
    w = weekly_workload(model, days)
    return w, model.simulate(w, 1, np.random.default_rng(seed))


@pytest.mark.parametrize("days", [900], ids=["900d"])
def test_filter_tracks_a_simulated_life(model: DegradationModel, days: int) -> None:
    w, life = _one_life(model, days, seed=31)
    pf = ParticleFilter(model, n_particles=400)
    state = pf.start(seed=1)
    est, true, inside = [], [], []
    for d in range(days):
        if life.failure_day[0] >= 0 and d > life.failure_day[0]:
            break
        state = pf.update(state, w[d], life.outputs[0, d])
        if d % 30 == 29:
            s = pf.summary(state)
            h = float(model.health(life.states[0, d + 1][None])[0])
            est.append(s.health_mean)
            true.append(h)
            lo, _, hi = s.health_quantiles
            inside.append(lo - 0.01 <= h <= hi + 0.01)
    assert np.corrcoef(est, true)[0, 1] > 0.95
    assert np.mean(np.abs(np.subtract(est, true))) < 0.03
    assert np.mean(inside) > 0.6


def test_missing_days_only_predict_and_widen(model: DegradationModel) -> None:
    pf = ParticleFilter(model, n_particles=300)
    w = weekly_workload(model, 60)
    start = pf.start(seed=2)
    blind = pf.run(start, w, np.full((60, len(model.outputs)), np.nan))
    assert blind.day == 60
    first = model.states[0]
    spread0 = np.ptp(pf.summary(start).state_quantiles[first])
    spread1 = np.ptp(pf.summary(blind).state_quantiles[first])
    assert spread1 > spread0
    assert pf.summary(blind).health_mean < pf.summary(start).health_mean


def test_particles_past_a_threshold_lose_their_weight() -> None:
    model = ColdheadModel()
    pf = ParticleFilter(model, n_particles=100, resample_below=0.01)
    n = 100
    x = np.column_stack([np.where(np.arange(n) < 50, 0.5, 1.2), np.full(n, 70.0), np.ones(n)])
    state = FilterState("coldhead", 0, 3, x, np.ones((n, 1)), np.full(n, -np.log(n)))
    after = pf.update(state, [8.0, 0.0, 0.0], [np.nan] * 5)
    assert after.weight[50:].sum() < 1e-12


def test_replay_is_deterministic_and_serialisation_round_trips(model: DegradationModel) -> None:
    w, life = _one_life(model, 40, seed=32)
    pf = ParticleFilter(model, n_particles=200)
    a = pf.run(pf.start(seed=4), w[:20], life.outputs[0, :20])
    restored = FilterState.from_bytes(a.to_bytes(), model)
    for field in ("x", "theta", "log_weight"):
        np.testing.assert_array_equal(getattr(restored, field), getattr(a, field))
    assert (restored.day, restored.seed, restored.component) == (a.day, a.seed, a.component)
    direct = pf.run(pf.start(seed=4), w, life.outputs[0, :40])
    resumed = pf.run(restored, w[20:], life.outputs[0, 20:40])
    np.testing.assert_array_equal(direct.x, resumed.x)


def test_saved_state_of_another_component_or_garbage_is_refused() -> None:
    tube = ParticleFilter(XrayTubeModel(), n_particles=50).start(seed=5)
    with pytest.raises(WorkloadError, match="does not fit the coldhead model"):
        FilterState.from_bytes(tube.to_bytes(), ColdheadModel())
    with pytest.raises(WorkloadError, match="not a saved filter state"):
        FilterState.from_bytes(b"not an archive", XrayTubeModel())


def test_aged_start_is_less_healthy_than_new() -> None:
    model = XrayTubeModel()
    pf = ParticleFilter(model, n_particles=200)
    new = pf.summary(pf.start(seed=6))
    aged = pf.summary(pf.start(seed=6, past_workload=weekly_workload(model, 700)))
    assert aged.health_mean < new.health_mean - 0.1
    assert aged.state_mean["filament_loss"] > 0


def test_summary_quantiles_are_ordered(model: DegradationModel) -> None:
    pf = ParticleFilter(model, n_particles=300)
    s = pf.summary(pf.start(seed=7, past_workload=weekly_workload(model, 200)))
    assert s.quantile_levels == (0.1, 0.5, 0.9)
    for q in [
        s.health_quantiles,
        *s.state_quantiles.values(),
        *s.life_parameter_quantiles.values(),
    ]:
        assert list(q) == sorted(q)
    assert set(s.life_parameter_mean) == set(model.life_parameters)
    assert 0 < s.ess <= 300


def test_weighted_quantiles_match_unweighted_on_equal_weights() -> None:
    v = np.random.default_rng(8).normal(size=1001)
    got = weighted_quantiles(v, np.ones(1001), (0.1, 0.5, 0.9))
    np.testing.assert_allclose(got, np.quantile(v, [0.1, 0.5, 0.9], method="inverted_cdf"))


def test_bad_updates_name_the_problem(model: DegradationModel) -> None:
    pf = ParticleFilter(model, n_particles=20)
    state = pf.start(seed=9)
    u = weekly_workload(model, 1)[0]
    y = np.full(len(model.outputs), np.nan)
    with pytest.raises(WorkloadError, match="indicators must be"):
        pf.update(state, u, y[:-1])
    with pytest.raises(WorkloadError, match=">= 0"):
        pf.update(state, -u - 1.0, y)
    with pytest.raises(WorkloadError, match="shape"):
        pf.update(state, u[:-1], y)
    with pytest.raises(WorkloadError, match="n_particles"):
        ParticleFilter(model, n_particles=1).start(seed=0)
    other = ColdheadModel() if isinstance(model, XrayTubeModel) else XrayTubeModel()
    with pytest.raises(WorkloadError, match="cannot be updated"):
        ParticleFilter(other, n_particles=20).update(
            state, weekly_workload(other, 1)[0], np.full(len(other.outputs), np.nan)
        )


def test_a_life_that_outlives_every_particle_is_held_not_lost() -> None:
    model = ColdheadModel()
    pf = ParticleFilter(model, n_particles=50)
    n = 50
    x = np.column_stack([np.full(n, 0.99999), np.full(n, 70.0), np.full(n, 50.0)])
    state = FilterState("coldhead", 0, 3, x, np.ones((n, 1)), np.full(n, -np.log(n)))
    after = pf.update(state, [8.0, 0.0, 0.0], [np.nan] * 5)
    np.testing.assert_array_equal(after.x, x)
    assert np.isfinite(after.log_weight).all()
