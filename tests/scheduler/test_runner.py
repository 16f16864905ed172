from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from equiptwin.errors import SchedulerLockedError
from equiptwin.scheduler import ledger, lock
from equiptwin.scheduler.jobs import JOBS, JobEnv
from equiptwin.scheduler.runner import Runner, serve_once
from tests.scheduler.conftest import FakeClock, counting_jobs, job_runs, with_values

AMS = ZoneInfo("Europe/Amsterdam")


def _fire_times(env: JobEnv, name: str, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """Every time APScheduler's trigger for job ``name`` fires in ``[start, end)``.

    On an autumn daylight-saving day a daily trigger inside the repeated hour fires twice
    (APScheduler 3.11): the run ledger is what keeps the job to once that day.
    """
    trigger = JOBS[name].trigger(env.config, env.timezone)
    times: list[dt.datetime] = []
    previous = None
    now = start
    while True:
        fire = trigger.get_next_fire_time(previous, now)
        if fire is None or fire >= end:
            return times
        times.append(fire)
        # step in UTC: local arithmetic would lose the fold of a repeated hour
        previous, now = fire, fire.astimezone(dt.UTC) + dt.timedelta(microseconds=1)


def test_every_job_runs_once_and_is_recorded(light_env: JobEnv, sqlite_url: str) -> None:
    calls: list[tuple[str, dt.datetime]] = []
    at = dt.datetime(2026, 10, 1, 6, tzinfo=AMS)
    outcomes = Runner(light_env, holder="h", jobs=counting_jobs(calls)).run_all(at)
    assert [o.job for o in outcomes] == ["ingest", "daily", "deliver", "report", "retrain"]
    assert {o.status for o in outcomes} == {"succeeded"}
    assert [o.run_key for o in outcomes] == [
        "2026-10-01T04:00Z",
        "2026-10-01",
        "2026-10-01T04:00Z",
        "2026-10-01",
        "2026-W40",
    ]
    rows = job_runs(sqlite_url)
    assert [(r["job"], r["status"], r["attempt"], r["holder"]) for r in rows] == [
        (name, "succeeded", 1, "h") for name in JOBS
    ]
    assert all(r["finished_at"] > r["started_at"] for r in rows)  # the clock ticks


def test_a_restart_does_not_redo_a_finished_day(light_env: JobEnv) -> None:
    calls: list[tuple[str, dt.datetime]] = []
    jobs = counting_jobs(calls)
    Runner(light_env, holder="first", jobs=jobs).run_all(dt.datetime(2026, 10, 1, 6, tzinfo=AMS))
    later = dt.datetime(2026, 10, 1, 23, 59, tzinfo=AMS)
    outcomes = Runner(light_env, holder="second", jobs=jobs).run_all(later)
    status = {o.job: o.status for o in outcomes}
    assert status == {
        "ingest": "succeeded",
        "daily": "skipped",
        "deliver": "succeeded",
        "report": "skipped",
        "retrain": "skipped",
    }
    assert [name for name, _ in calls].count("daily") == 1


def test_a_failing_job_is_recorded_and_the_others_still_run(
    light_env: JobEnv, sqlite_url: str
) -> None:
    calls: list[tuple[str, dt.datetime]] = []

    def broken(_env: JobEnv, _at: dt.datetime) -> str:
        raise OSError("disk full while writing capacity.csv")

    jobs = counting_jobs(calls)
    jobs["daily"] = dataclasses.replace(jobs["daily"], run=broken)
    at = dt.datetime(2026, 10, 1, 6, tzinfo=AMS)
    outcomes = Runner(light_env, holder="h", jobs=jobs).run_all(at)
    assert {o.job: o.status for o in outcomes}["daily"] == "failed"
    assert [name for name, _ in calls] == ["ingest", "deliver", "report", "retrain"]
    failed = [r for r in job_runs(sqlite_url) if r["job"] == "daily"]
    assert failed[0]["status"] == "failed"
    assert str(failed[0]["error"]).startswith("OSError: disk full while writing capacity.csv")
    assert "Traceback" in str(failed[0]["error"])
    # the failed day is tried again (attempt 2) the next time round; done days are not
    jobs["daily"] = counting_jobs(calls)["daily"]
    again = Runner(light_env, holder="h", jobs=jobs).run_all(at + dt.timedelta(hours=1))
    assert {o.job: o.status for o in again}["daily"] == "succeeded"
    daily = [r for r in job_runs(sqlite_url) if r["job"] == "daily"]
    assert [(r["attempt"], r["status"]) for r in daily] == [(1, "failed"), (2, "succeeded")]


@pytest.mark.parametrize(
    ("day", "at"),
    [
        (dt.date(2026, 10, 25), "02:30"),  # autumn: 02:30 happens twice
        (dt.date(2026, 3, 29), "02:30"),  # spring: 02:30 does not happen
        (dt.date(2026, 10, 25), "05:00"),
    ],
    ids=["autumn-repeated-hour", "spring-missing-hour", "autumn-default-time"],
)
def test_a_daylight_saving_day_runs_the_daily_job_once(
    light_env: JobEnv, day: dt.date, at: str
) -> None:
    env = dataclasses.replace(light_env, config=with_values(light_env.config, jobs__daily__at=at))
    calls: list[tuple[str, dt.datetime]] = []
    runner = Runner(env, holder="h", jobs=counting_jobs(calls))
    start = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(), AMS)
    fires = _fire_times(env, "daily", start, start + dt.timedelta(days=3))
    assert len(fires) == (4 if (day.month, at) == (10, "02:30") else 3)
    hour, minute = (int(p) for p in at.split(":"))
    # the repeated local time, both instants, as a scheduler woken twice would see it
    first = dt.datetime.combine(day, dt.time(hour, minute), AMS)
    twice = [first.replace(fold=0).astimezone(dt.UTC), first.replace(fold=1).astimezone(dt.UTC)]
    for when in sorted([*fires, *twice]):
        runner.run("daily", when)
    days = [env.local_day(when) for name, when in calls if name == "daily"]
    assert days == [day - dt.timedelta(days=1), day, day + dt.timedelta(days=1)]


def test_runs_left_running_by_a_dead_scheduler_are_abandoned_and_rerun(
    light_env: JobEnv, clock: FakeClock, sqlite_url: str
) -> None:
    engine = light_env.engine
    ledger.start(engine, "daily", "2026-10-01", "dead-holder", clock())
    assert not ledger.is_done(engine, "daily", "2026-10-01")
    calls: list[tuple[str, dt.datetime]] = []
    at = dt.datetime(2026, 10, 1, 6, tzinfo=AMS)
    outcomes = Runner(light_env, holder="new", jobs=counting_jobs(calls)).run_all(at)
    assert {o.job: o.status for o in outcomes}["daily"] == "succeeded"
    assert [r["status"] for r in job_runs(sqlite_url) if r["job"] == "daily"] == [
        "running",
        "succeeded",
    ]
    assert ledger.abandon_stale(engine, "new", clock()) == 1
    assert [r["status"] for r in job_runs(sqlite_url) if r["job"] == "daily"] == [
        "abandoned",
        "succeeded",
    ]


def test_serve_once_refuses_while_another_scheduler_holds_the_store(
    light_env: JobEnv, clock: FakeClock
) -> None:
    lock.acquire(light_env.engine, "other-host:42:cafe", clock(), 120.0)
    with pytest.raises(SchedulerLockedError, match="other-host:42:cafe"):
        serve_once(light_env, "me", dt.datetime(2026, 10, 1, 6, tzinfo=AMS))


def test_history_lists_newest_first_with_durations(light_env: JobEnv) -> None:
    calls: list[tuple[str, dt.datetime]] = []
    Runner(light_env, holder="h", jobs=counting_jobs(calls)).run_all(
        dt.datetime(2026, 10, 1, 6, tzinfo=AMS)
    )
    runs = ledger.history(light_env.engine, limit=3)
    assert [r.job for r in runs] == ["retrain", "report", "deliver"]
    assert all(r.duration_s is not None and r.duration_s > 0 for r in runs)
