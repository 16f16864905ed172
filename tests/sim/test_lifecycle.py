from __future__ import annotations

import itertools
import math

import numpy as np

from equiptwin.sim.lifecycle import LifePolicy, Trace, run_lives
from equiptwin.twin.xray_tube import XrayTubeModel

POLICY = LifePolicy(
    attentive_share=0.5,
    act_below_health=(0.05, 0.2),
    lead_days=(2, 5),
    service_age_days=None,
    downtime_days=(1, 2),
)


def _run(seed: int) -> tuple[XrayTubeModel, Trace]:
    model = XrayTubeModel(
        filament_loss_per_day=2.4e-4,
        vacuum_damage_per_day=3.5e-4,
        bearing_wear_per_day=2.5e-3,
        anode_wear_per_day=2.3e-3,
        sudden_failure_per_day=4e-4,
    )
    day = np.array([60.0, 500.0, 1.5e7, 250.0])
    trace = run_lives(
        model,
        days=400,
        inputs_of_day=lambda d, cutoff, x: day * (0.5 if math.isfinite(cutoff) else 1.0),
        typical_week=np.tile(day, (7, 1)),
        age_days=200,
        policy=POLICY,
        failure_time_s=lambda d: 40_000.0,
        rng=np.random.default_rng(seed),
    )
    return model, trace


def test_lives_follow_each_other_and_wear_only_grows() -> None:
    failures = 0
    for seed in range(4):
        model, trace = _run(seed)
        lives = trace.lives
        assert lives[0].installed_day <= 0
        failures += sum(life.end_reason == "failure" for life in lives)
        for before, after in itertools.pairwise(lives):
            assert before.replaced_day == after.installed_day
            assert before.ended_day is not None and before.ended_day <= after.installed_day
        for i, life in enumerate(lives):
            days = np.flatnonzero(trace.life_of_day == i)
            if life.end_reason == "failure":
                assert life.failure_mode in model.events
                assert days.max() == life.ended_day
                assert trace.cutoff_s[life.ended_day] == 40_000.0
                assert trace.inputs[life.ended_day, 0] == 30.0  # exams before the failure only
            cols = [model.states.index(n) for n in ("filament_loss", "bearing_wear", "anode_wear")]
            wear = trace.states[days][:, cols]
            assert (np.diff(wear, axis=0) >= 0).all()
        down = trace.life_of_day < 0
        assert np.isnan(trace.states[down]).all()
    assert failures > 0


def test_same_seed_same_lives() -> None:
    assert _run(7)[1].lives == _run(7)[1].lives
