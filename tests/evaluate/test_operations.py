"""Invariants of the operations twin on small hand-built worlds."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import pandas as pd
import pytest

from equiptwin.config import PipelineConfig, defaults
from equiptwin.evaluate.advice import Advice
from equiptwin.evaluate.exams import EXAM_OUTCOMES
from equiptwin.evaluate.metrics import COST_PARTS, run_metrics
from equiptwin.evaluate.operations import (
    AHEAD_TOLERANCE_DAYS,
    Outcome,
    simulate_department,
    spare_lives,
)
from equiptwin.evaluate.policies import (
    Chances,
    Equiptwin,
    FixedInterval,
    Policy,
    RunToFailure,
    ThresholdAlarms,
    ticket_policies,
)
from equiptwin.evaluate.world import World, WorldLife

from .conftest import DAYS, START, hours_since_start, local, make_world, with_settings


@dataclass(frozen=True)
class Oracle(Policy):
    """Knows the truth: asks for a replacement two days (one part lead time plus a day)
    before each failure, so the new component is in the day before it."""

    name: str = "oracle"

    def advise(self, component: str, life: WorldLife, age_days: int) -> Chances | None:
        if life.fails_at_h is None or age_days < int(life.fails_at_h // 24) - 2:
            return None
        return (1.0, 1.0, 1.0)


def _advice(world: World) -> Advice:
    """Forecast alerts and alarms on CT-A's first life three days before it fails."""
    life = world.lives["CT-A"][0]
    assert life.fails_at_h is not None
    day = int(life.fails_at_h // 24) - 3
    return Advice(
        START,
        START + dt.timedelta(days=DAYS),
        (7, 14, 30),
        {(life.life_id, day): (0.3, 0.5, 0.7)},
        frozenset({(life.life_id, day)}),
    )


def _policies(world: World) -> list[Policy]:
    advice = _advice(world)
    return [
        RunToFailure(),
        FixedInterval({"xray_tube": 104.0}, 3),
        ThresholdAlarms(advice),
        Equiptwin(advice, ticket_policies(world, defaults())),
        Oracle(),
    ]


def _run(world: World, policy: Policy, config: PipelineConfig) -> Outcome:
    return simulate_department(world, policy, config, start=START, days=DAYS)


POLICY_IDS = ["run-to-failure", "fixed", "threshold", "equiptwin", "oracle"]


@pytest.mark.parametrize("k", range(5), ids=POLICY_IDS)
def test_no_exam_is_lost(world: World, config: PipelineConfig, k: int) -> None:
    outcome = _run(world, _policies(world)[k], config)
    end = local(DAYS, 0.0) + dt.timedelta(hours=1)  # the period ends 00:00 UTC
    booked = {
        b.appointment_id
        for b in world.bookings
        if hours_since_start(b.start) >= 0 and b.start < end
    }
    exams = outcome.exams
    assert set(exams["appointment_id"]) == booked
    assert exams["appointment_id"].is_unique
    assert exams["outcome"].isin(EXAM_OUTCOMES).all()
    metrics = run_metrics(outcome, config)
    parts = ("done", "rebooked", "cancelled_short_notice", "cancelled_no_room")
    assert sum(metrics[p] for p in parts) == metrics["exams"] == len(booked)


@pytest.mark.parametrize("k", range(5), ids=POLICY_IDS)
def test_costs_add_up(world: World, config: PipelineConfig, k: int) -> None:
    outcome = _run(world, _policies(world)[k], config)
    metrics = run_metrics(outcome, config)
    assert metrics["total_cost"] == pytest.approx(sum(metrics[p] for p in COST_PARTS))
    jobs = len(outcome.jobs)
    assert metrics["cost_parts"] == pytest.approx(jobs * config["operations.part_cost_xray_tube"])
    assert metrics["cost_emergency"] == pytest.approx(
        metrics["failures"] * config["cost.emergency_premium"]
    )
    per_hour = config["cost.downtime_per_day_ct"] / 24
    assert metrics["cost_downtime"] == pytest.approx(metrics["unplanned_downtime_h"] * per_hour)


def test_run_to_failure_discards_no_life(world: World, config: PipelineConfig) -> None:
    outcome = _run(world, RunToFailure(), config)
    metrics = run_metrics(outcome, config)
    assert metrics["planned_replacements"] == 0
    assert metrics["discarded_life_days"] == 0
    assert metrics["failures"] == 2
    assert metrics["unplanned_downtime_h"] > 0


def test_replacing_the_day_before_each_failure_avoids_all_downtime(
    world: World, config: PipelineConfig
) -> None:
    outcome = _run(world, Oracle(), config)
    metrics = run_metrics(outcome, config)
    assert metrics["failures"] == 0
    assert metrics["unplanned_downtime_h"] == 0
    assert metrics["planned_replacements"] == 2
    # Each replacement came the day before its failure: under two days of life thrown away.
    planned = outcome.jobs["discarded_days"]
    assert planned.between(0.25, 2.0).all()
    assert metrics["discarded_life_days"] == pytest.approx(planned.sum())
    assert metrics["rebooked"] > 0


def test_same_world_same_result(config: PipelineConfig) -> None:
    for policy in _policies(make_world()):
        first = _run(make_world(), policy, config)
        again = _run(make_world(), policy, config)
        pd.testing.assert_frame_equal(first.jobs, again.jobs)
        pd.testing.assert_frame_equal(first.exams, again.exams)


def test_a_failure_cancels_the_exams_until_the_repair(world: World, config: PipelineConfig) -> None:
    outcome = _run(world, RunToFailure(), config)
    failure = outcome.jobs.iloc[0]
    assert failure["kind"] == "failure"
    # Fails on day 4 (a Friday) at 13:30; the part comes a day later, on Saturday, so the
    # repair waits for Monday 07:00 and ends at 13:00.
    assert failure["start_h"] == pytest.approx(hours_since_start(local(4, 13.5)))
    assert failure["end_h"] == pytest.approx(hours_since_start(local(7, 13.0)))
    exams = outcome.exams.set_index("appointment_id")["outcome"]
    assert exams["CT-A-04-5"] == "done"  # 13:00-13:30, before the failure
    assert exams["CT-A-04-6"] == "cancelled_short_notice"
    assert exams["CT-A-07-4"] == "cancelled_short_notice"  # Monday 12:00, still down
    assert exams["CT-A-07-5"] == "done"  # Monday 13:00, repaired
    assert exams["CT-B-04-6"] == "done"


def test_engineers_are_shared(config: PipelineConfig) -> None:
    """Two systems failing together with one engineer: the second repair waits."""
    world = make_world(failures_a=((4, 13.5),))
    failing_b = WorldLife(
        "CT-B:0",
        local(-50, 0.0),
        (local(4, 14.0) - local(-50, 0.0)).total_seconds() / 3600,
        None,
        0.0,
    )
    world = World(
        world.name,
        world.systems,
        world.components,
        world.bookings,
        {**world.lives, "CT-B": (failing_b,)},
    )
    one = with_settings(config, operations__engineers=1)
    two = with_settings(config, operations__engineers=2)
    alone = _run(world, RunToFailure(), two).jobs.set_index("system_id")
    shared = _run(world, RunToFailure(), one).jobs.set_index("system_id")
    # Both parts arrive on Saturday: with two engineers both repairs end Monday 13:00.
    assert alone.loc["CT-B", "end_h"] == pytest.approx(alone.loc["CT-A", "end_h"])
    assert shared.loc["CT-B", "end_h"] == pytest.approx(shared.loc["CT-A", "end_h"] + 6.0)


def test_fixed_interval_replaces_at_its_age(world: World, config: PipelineConfig) -> None:
    outcome = _run(world, FixedInterval({"xray_tube": 102.0}, 3), config)
    planned = outcome.jobs[outcome.jobs["kind"] == "planned"]
    first = planned.iloc[0]
    assert first["life_id"] == "CT-A:0"
    # Decided at age 102 days (day 2), part in a day later: replaced on day 3, before the
    # failure on day 4, and the life left over is thrown away.
    assert hours_since_start(local(3, 7.0)) <= first["start_h"] < hours_since_start(local(4, 0))
    assert first["discarded_days"] > 0
    assert "CT-B:0" not in set(planned["life_id"])  # installed 50 days ago


def test_time_past_what_the_world_saw_is_reported(config: PipelineConfig) -> None:
    world = make_world()
    *failed, last = world.lives["CT-A"]
    # the world's logs end with the period: its last CT-A life was seen only that long
    seen_h = (local(DAYS, 0.0) - last.installed_at).total_seconds() / 3600.0
    lives = {**world.lives, "CT-A": (*failed, replace(last, known_until_h=seen_h))}
    short = replace(world, lives=lives)
    assert run_metrics(_run(short, RunToFailure(), config), config)["beyond_world_days"] == 0
    # replacing before each failure starts the last life days earlier than the world did,
    # so this run reaches the end of what the world saw before the period ends
    oracle = run_metrics(_run(short, Oracle(), config), config)
    assert 1.0 < oracle["beyond_world_days"] < 2 * DAYS


def _ended(life_id: str, installed_day: int, fails_day: int, hour: float) -> WorldLife:
    installed = local(installed_day, 0.0)
    fails_h = (local(fails_day, hour) - installed).total_seconds() / 3600.0
    return WorldLife(life_id, installed, fails_h, None, fails_h)


def _running(life_id: str, installed_day: int, seen_until_day: int) -> WorldLife:
    installed = local(installed_day, 0.0)
    seen_h = (local(seen_until_day, 0.0) - installed).total_seconds() / 3600.0
    return WorldLife(life_id, installed, None, None, seen_h)


def _short_world() -> World:
    """CT-A's second life, installed eight days after the first failed, was seen only a day
    past the period; CT-B's lives are short, and its second (installed on day 3, failing
    five and a half days later) is a spare."""
    lives = {
        "CT-A": (_ended("CT-A:0", -10, 4, 13.5), _running("CT-A:1", 12, DAYS + 1)),
        "CT-B": (
            _ended("CT-B:0", -3, 2, 10.0),
            _ended("CT-B:1", 3, 8, 12.0),
            _running("CT-B:2", 10, DAYS + 30),
        ),
    }
    return replace(make_world(), lives=lives)


def test_spare_lives_are_the_worlds_own_ended_lives() -> None:
    world = _short_world()
    origin = dt.datetime.combine(START, dt.time(0), tzinfo=dt.UTC)
    # CT-B:0 was installed before the backtest; lives installed later than the longest
    # ended life (CT-A:0, 14.6 days) before day DAYS + 30 might not have ended yet.
    assert [life.life_id for life in spare_lives(world, "CT", origin)] == ["CT-B:1"]
    assert spare_lives(world, "MR", origin) == ()


def test_a_run_ahead_of_the_world_installs_spare_lives(config: PipelineConfig) -> None:
    world = _short_world()
    # Replacing before each failure starts CT-A:1 nine days before the world did, more
    # than AHEAD_TOLERANCE_DAYS: it would outrun what the world saw, so CT-B's ended life
    # stands in, again and again; its time can fail (once here, when no working day fell
    # between the alert and the failure).
    early = _run(world, Oracle(), config)
    assert early.spare_lives >= 2 and early.beyond_world_days == 0
    on_a = early.jobs[early.jobs["system_id"] == "CT-A"]
    assert list(on_a["life_id"][:2]) == ["CT-A:0", "CT-B:1"]
    assert set(on_a.loc[on_a["life_id"] == "CT-B:1", "kind"]) == {"planned", "failure"}
    # Run to failure installs CT-A:1 five days early, within the tolerance: no spare life.
    follow = _run(world, RunToFailure(), config)
    assert follow.spare_lives == 0 and 0 < follow.beyond_world_days <= AHEAD_TOLERANCE_DAYS
    assert set(follow.jobs["life_id"]) <= {"CT-A:0", "CT-B:0", "CT-B:1"}


def test_a_sudden_failure_strikes_whatever_life_runs_then(config: PipelineConfig) -> None:
    sudden = replace(_ended("CT-A:0", -10, 8, 10.0), sudden=True)
    world = make_world()
    world = replace(
        world, lives={**world.lives, "CT-A": (sudden, _running("CT-A:1", 10, DAYS + 30))}
    )
    strike = hours_since_start(local(8, 10.0))
    follow = _run(world, RunToFailure(), config).jobs
    assert follow.loc[follow["kind"] == "failure", ["life_id", "start_h"]].values.tolist() == [
        ["CT-A:0", pytest.approx(strike)]
    ]
    # replacing CT-A:0 at 12 days old (before the strike) does not dodge it: the new
    # component fails then instead
    early = _run(world, FixedInterval({"xray_tube": 12.0}, 3), config).jobs
    failed = early[early["kind"] == "failure"]
    assert failed[["life_id", "start_h"]].values.tolist() == [["CT-A:1", pytest.approx(strike)]]
    assert not early.loc[early["life_id"] == "CT-A:0", "discarded_exact"].any()
