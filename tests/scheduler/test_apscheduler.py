from __future__ import annotations

import dataclasses
import os
import signal
import threading

import pytest
import sqlalchemy as sa

from equiptwin.errors import SchedulerLockedError
from equiptwin.scheduler import lock
from equiptwin.scheduler.jobs import JOBS, JobEnv
from equiptwin.scheduler.runner import serve_forever, stop_on_signals
from equiptwin.store.schema import SchedulerJob, SchedulerLock


def _stored_jobs(engine: sa.Engine) -> dict[str, float]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(SchedulerJob.id, SchedulerJob.next_run_time)).all()
    return {row.id: row.next_run_time for row in rows}


def _lease_holder(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return conn.execute(sa.select(SchedulerLock.holder)).scalar_one_or_none()


def _serve_briefly(env: JobEnv, holder: str, while_running: list[object]) -> None:
    """Run serve_forever in a thread, look at the store while it runs, then stop it."""
    stop, ready = threading.Event(), threading.Event()
    thread = threading.Thread(target=serve_forever, args=(env, holder, stop, ready))
    thread.start()
    assert ready.wait(30)
    while_running.append(_stored_jobs(env.engine))
    while_running.append(_lease_holder(env.engine))
    with pytest.raises(SchedulerLockedError, match=holder):
        lock.acquire(env.engine, "intruder", env.clock(), 120.0)
    stop.set()
    thread.join(30)
    assert not thread.is_alive()


def test_serve_keeps_its_jobs_in_the_database_and_releases_the_lease(light_env: JobEnv) -> None:
    from equiptwin.clock import utc_now

    env = dataclasses.replace(light_env, clock=utc_now)
    first: list[object] = []
    _serve_briefly(env, "first", first)
    jobs, holder = first
    assert set(jobs) == set(JOBS)  # type: ignore[arg-type]
    assert holder == "first"
    assert _lease_holder(env.engine) is None  # released on stop
    # a restart keeps each job's next run time (so a run missed meanwhile still fires)
    second: list[object] = []
    _serve_briefly(env, "second", second)
    assert second[0] == jobs


def test_a_changed_time_reschedules_only_that_job(light_env: JobEnv) -> None:
    from equiptwin.clock import utc_now
    from tests.scheduler.conftest import with_values

    env = dataclasses.replace(light_env, clock=utc_now)
    before: list[object] = []
    _serve_briefly(env, "a", before)
    moved = dataclasses.replace(env, config=with_values(env.config, jobs__report__at="07:45"))
    after: list[object] = []
    _serve_briefly(moved, "b", after)
    old, new = before[0], after[0]
    assert isinstance(old, dict) and isinstance(new, dict)
    assert old["report"] != new["report"]
    assert {k: v for k, v in old.items() if k != "report"} == {
        k: v for k, v in new.items() if k != "report"
    }


def test_sigterm_and_sigint_stop_the_scheduler() -> None:
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for signum in (signal.SIGTERM, signal.SIGINT):
            stop = stop_on_signals()
            os.kill(os.getpid(), signum)
            assert stop.wait(5)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def test_job_defaults_come_from_the_settings(light_env: JobEnv) -> None:
    from equiptwin.scheduler.runner import build_scheduler
    from tests.scheduler.conftest import with_values

    config = with_values(
        light_env.config, serve__coalesce=False, serve__max_instances=2, serve__misfire_grace_s=60
    )
    scheduler = build_scheduler(dataclasses.replace(light_env, config=config))
    assert scheduler._job_defaults == {  # APScheduler has no public getter
        "coalesce": False,
        "max_instances": 2,
        "misfire_grace_time": 60,
    }
    assert str(scheduler.timezone) == "Europe/Amsterdam"
