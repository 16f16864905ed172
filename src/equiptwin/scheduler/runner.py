"""Run the jobs: once each (``serve --once``), or on their triggers (``serve``).

:class:`Runner` runs one job for one logical time through the run ledger: a period
already done is skipped, an attempt is recorded with its start, end, status and error,
and an exception in one job is recorded and never reaches the others. The scheduler
(APScheduler 3, ``BackgroundScheduler`` with its job store in the project database)
fires the jobs at their times in ``serve.timezone``; the process holds the store's
scheduler lease (:mod:`equiptwin.scheduler.lock`) while it runs, renews it, and releases
it when SIGINT or SIGTERM stops it. Only this module and the CLI read the clock, and
only through the :class:`~equiptwin.clock.Clock` they are given.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from equiptwin.errors import SchedulerLockedError
from equiptwin.scheduler import ledger
from equiptwin.scheduler.jobs import JOBS, Job, JobEnv
from equiptwin.scheduler.lock import holding, renew
from equiptwin.store.schema import SchedulerJob

log = logging.getLogger(__name__)

Status = Literal["succeeded", "failed", "skipped"]


@dataclass(frozen=True)
class JobOutcome:
    """What asking a job to run at one logical time did.

    Parameters
    ----------
    job : str
        The job's name.
    run_key : str
        Its period (see :meth:`~equiptwin.scheduler.jobs.Job.run_key`).
    status : {"succeeded", "failed", "skipped"}
        ``skipped`` when the period was done already.
    detail : str
        The job's summary, the error, or why it was skipped.
    """

    job: str
    run_key: str
    status: Status
    detail: str

    def line(self) -> str:
        """Return the outcome as one line for the console and the log."""
        return f"{self.job:<8} {self.run_key:<18} {self.status:<9} {self.detail}"


class Runner:
    """Runs jobs for logical times through the run ledger.

    Parameters
    ----------
    env : JobEnv
        What the jobs work on.
    holder : str
        This scheduler's lease holder id (recorded with every attempt).
    jobs : Mapping of str to Job
        The job registry; :data:`~equiptwin.scheduler.jobs.JOBS` by default.
    """

    def __init__(self, env: JobEnv, *, holder: str, jobs: Mapping[str, Job] = JOBS) -> None:
        self.env = env
        self.holder = holder
        self.jobs = jobs

    def run(self, name: str, at: dt.datetime) -> JobOutcome:
        """Run job ``name`` for the period holding ``at``, unless that period is done.

        Parameters
        ----------
        name : str
            A key of the registry.
        at : datetime.datetime
            Aware logical time.

        Returns
        -------
        JobOutcome
            Never raises for a failing job: the failure is recorded and returned.
        """
        job = self.jobs[name]
        engine, key = self.env.engine, job.run_key(at, self.env.config)
        if ledger.is_done(engine, name, key):
            return JobOutcome(name, key, "skipped", "done already")
        try:
            run_id = ledger.start(engine, name, key, self.holder, self.env.clock())
        except sa.exc.IntegrityError:
            return JobOutcome(name, key, "skipped", "claimed by another attempt")
        log.info("%s %s started", name, key)
        try:
            summary = job.run(self.env, at)
        except Exception as exc:  # one failing job is recorded and never stops the others
            error = f"{type(exc).__name__}: {exc}"
            ledger.finish(
                engine, run_id, self.env.clock(), error=f"{error}\n{traceback.format_exc()}"
            )
            log.error("%s %s failed: %s", name, key, error)
            return JobOutcome(name, key, "failed", error)
        ledger.finish(engine, run_id, self.env.clock(), summary=summary)
        log.info("%s %s succeeded: %s", name, key, summary)
        return JobOutcome(name, key, "succeeded", summary)

    def run_all(self, at: dt.datetime) -> list[JobOutcome]:
        """Run every job of the registry once for ``at``, in registry order."""
        return [self.run(name, at) for name in self.jobs]


def serve_once(env: JobEnv, holder: str, at: dt.datetime) -> list[JobOutcome]:
    """Take the lease, run every job once for ``at`` in registry order, release the lease.

    The order is ingest, daily cycle, delivery, report, retraining (which trains only
    when due); a failed job is recorded and the next one still runs.

    Raises
    ------
    SchedulerLockedError
        When another scheduler holds the store's lease.
    """
    with holding(env.engine, holder, env.clock, float(env.config["serve.lease_s"])):
        ledger.abandon_stale(env.engine, holder, env.clock())
        return Runner(env, holder=holder).run_all(at)


_RUNNERS: dict[str, Runner] = {}
"""The live runner of each store served by this process (one: the lease sees to it).

APScheduler keeps jobs in the database by the reference of a module-level function and
pickled arguments; :func:`fire` finds the runner through the store's URL."""


def _store_key(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def fire(store: str, name: str) -> None:
    """Run job ``name`` now on the runner serving ``store`` (APScheduler calls this)."""
    runner = _RUNNERS.get(store)
    if runner is None:
        log.warning("job %s fired for %s, which this process no longer serves", name, store)
        return
    runner.run(name, runner.env.clock())


def build_scheduler(env: JobEnv) -> BackgroundScheduler:
    """Return an APScheduler with its job store in the project database (not started).

    One worker thread runs the jobs one after another (ingest, forecast and retraining
    write the same store); ``coalesce``, ``max_instances`` and ``misfire_grace_time``
    come from ``serve.*``.
    """
    config = env.config
    return BackgroundScheduler(
        jobstores={
            "default": SQLAlchemyJobStore(engine=env.engine, tablename=SchedulerJob.__tablename__)
        },
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults={
            "coalesce": bool(config["serve.coalesce"]),
            "max_instances": int(config["serve.max_instances"]),
            "misfire_grace_time": int(config["serve.misfire_grace_s"]),
        },
        timezone=env.timezone,
    )


def declare_jobs(scheduler: BackgroundScheduler, env: JobEnv, jobs: Mapping[str, Job]) -> None:
    """Bring the job store in line with ``jobs`` and the settings.

    A stored job whose trigger is unchanged keeps its next run time, so a run missed while
    ``serve`` was stopped still fires (within ``serve.misfire_grace_s``); a changed one
    is rescheduled, an unknown one removed.
    """
    store = _store_key(env.engine)
    for name, job in jobs.items():
        trigger = job.trigger(env.config, env.timezone)
        stored = scheduler.get_job(name)
        if (
            stored is not None
            and str(stored.trigger) == str(trigger)
            and stored.args
            == (
                store,
                name,
            )
        ):
            continue
        scheduler.add_job(
            fire, trigger, args=(store, name), id=name, name=name, replace_existing=True
        )
    for stored in scheduler.get_jobs():
        if stored.id not in jobs:
            scheduler.remove_job(stored.id)


def serve_forever(
    env: JobEnv, holder: str, stop: threading.Event, ready: threading.Event | None = None
) -> None:
    """Run the jobs on their triggers until ``stop`` is set; hold the lease meanwhile.

    Parameters
    ----------
    env : JobEnv
        What the jobs work on; ``env.clock`` also times the lease.
    holder : str
        This scheduler's lease holder id.
    stop : threading.Event
        Set it (:func:`stop_on_signals` does on SIGINT/SIGTERM) to stop: running jobs
        finish, then the lease is released.
    ready : threading.Event, optional
        Set once the jobs are declared and the scheduler runs.

    Raises
    ------
    SchedulerLockedError
        When another scheduler holds the store's lease, or this one lost it.
    """
    lease_s = float(env.config["serve.lease_s"])
    store = _store_key(env.engine)
    with holding(env.engine, holder, env.clock, lease_s):
        abandoned = ledger.abandon_stale(env.engine, holder, env.clock())
        if abandoned:
            log.warning(
                "%d job runs left running by a stopped scheduler marked abandoned", abandoned
            )
        _RUNNERS[store] = Runner(env, holder=holder)
        scheduler = build_scheduler(env)
        scheduler.start(paused=True)
        try:
            declare_jobs(scheduler, env, JOBS)
            scheduler.resume()
            if ready is not None:
                ready.set()
            for job in scheduler.get_jobs():
                log.info("job %s: %s, next run %s", job.id, job.trigger, job.next_run_time)
            while not stop.wait(lease_s / 3):
                try:
                    renewed = renew(env.engine, holder, env.clock(), lease_s)
                except sa.exc.OperationalError as exc:  # a busy SQLite file: next round
                    log.warning("could not renew the scheduler lease now: %s", exc.orig)
                    continue
                if not renewed:
                    raise SchedulerLockedError(
                        f"the scheduler lease of {store} was taken over (holder {holder} did "
                        "not renew it in time); stopping."
                    )
        finally:
            scheduler.shutdown(wait=True)
            _RUNNERS.pop(store, None)


def stop_on_signals() -> threading.Event:
    """Return an event that SIGINT and SIGTERM set (call from the main thread)."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda _signum, _frame: stop.set())
    return stop
