"""The scheduled jobs, declared once: what each does, when it runs, what period it is for.

Every job is a function ``(env, at) -> summary`` of the logical time ``at`` (the
scheduler passes its clock's reading; tests pass any time): none reads the clock. A
job's *period* turns ``at`` into the ``run_key`` of the run ledger: the local day in
``serve.timezone`` for the daily jobs, the ISO week for retraining, and a UTC slot for
the polling jobs (UTC, so the repeated hour of a daylight-saving day is polled too).

:data:`JOBS` is the registry, in the order ``serve --once`` runs them: ingest, daily
cycle, delivery, report, retraining (which trains only when due).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from equiptwin.clock import Clock
from equiptwin.config import PipelineConfig
from equiptwin.cycle import run_daily_cycle
from equiptwin.ingest.run import ingest
from equiptwin.outputs.report import reports_dir, send_report, write_report
from equiptwin.planning.outbox import deliver
from equiptwin.scheduler.retrain import retrain_if_due

Period = Literal["slot", "day", "week"]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class JobEnv:
    """What every job works on.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store.
    config : PipelineConfig
        Settings, with ``outputs.dir`` and the ticket drop folder inside ``out_dir``
        (:func:`equiptwin.cycle.with_outputs_dir`).
    data_dir : Path
        The fleet data folder the ingest job polls.
    out_dir : Path
        Folder for exports, ``reports/`` and ``tickets/``.
    clock : Clock
        Times the ingest run's start and end (the logical time is ``at``).
    """

    engine: sa.Engine
    config: PipelineConfig
    data_dir: Path
    out_dir: Path
    clock: Clock

    @property
    def timezone(self) -> ZoneInfo:
        """The site's time zone (``serve.timezone``)."""
        return ZoneInfo(str(self.config["serve.timezone"]))

    def local_day(self, at: dt.datetime) -> dt.date:
        """Return the site-local date of the aware time ``at``: the job's logical day."""
        return at.astimezone(self.timezone).date()


JobFunc = Callable[[JobEnv, dt.datetime], str]
TriggerFactory = Callable[[PipelineConfig, ZoneInfo], BaseTrigger]


@dataclass(frozen=True)
class Job:
    """One scheduled job.

    Parameters
    ----------
    name : str
        Its id in the job store and the ledger.
    run : JobFunc
        The work; returns a one-line summary for the job history.
    period : {"slot", "day", "week"}
        What one ``run_key`` covers.
    trigger : TriggerFactory
        When APScheduler fires it, from the settings.
    slot_setting : str or None
        For ``slot`` jobs, the setting holding the slot length in minutes.
    """

    name: str
    run: JobFunc
    period: Period
    trigger: TriggerFactory
    slot_setting: str | None = None

    def run_key(self, at: dt.datetime, config: PipelineConfig) -> str:
        """Return the ledger key of the period holding the aware time ``at``."""
        if at.tzinfo is None:
            raise ValueError(f"a job's time must be timezone-aware, but found {at.isoformat()}.")
        if self.period == "slot":
            minutes = int(config[str(self.slot_setting)])
            utc = at.astimezone(dt.UTC)
            floored = utc - dt.timedelta(
                minutes=(utc.hour * 60 + utc.minute) % minutes,
                seconds=utc.second,
                microseconds=utc.microsecond,
            )
            return floored.strftime("%Y-%m-%dT%H:%MZ")
        local = at.astimezone(ZoneInfo(str(config["serve.timezone"]))).date()
        if self.period == "day":
            return local.isoformat()
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"


SLOT_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
"""Polling jobs fire on whole slots counted from here (at :00, :15, :30, :45 for 15 min)."""


def _every(setting: str) -> TriggerFactory:
    return lambda config, tz: IntervalTrigger(
        minutes=int(config[setting]), start_date=SLOT_EPOCH, timezone=tz
    )


def _daily_at(setting: str) -> TriggerFactory:
    def trigger(config: PipelineConfig, tz: ZoneInfo) -> BaseTrigger:
        hour, minute = str(config[setting]).split(":")
        return CronTrigger(hour=int(hour), minute=int(minute), timezone=tz)

    return trigger


def _weekly(config: PipelineConfig, tz: ZoneInfo) -> BaseTrigger:
    hour, minute = str(config["jobs.retrain.at"]).split(":")
    weekday = WEEKDAYS[int(config["jobs.retrain.weekday"]) - 1]
    return CronTrigger(day_of_week=weekday, hour=int(hour), minute=int(minute), timezone=tz)


def ingest_job(env: JobEnv, at: dt.datetime) -> str:
    """Read what is new in the fleet data folder (incremental: unchanged files are skipped)."""
    summary = ingest(env.engine, env.data_dir, env.config, env.clock)
    quarantined = sum(sum(r.values()) for r in summary.quarantined.values())
    return (
        f"ingest run {summary.run_id}: {summary.files['read']} files read, "
        f"{summary.lines} lines, {quarantined} quarantined"
    )


def daily_job(env: JobEnv, at: dt.datetime) -> str:
    """Forecast the local day of ``at``, plan it and write the exports."""
    cycle = run_daily_cycle(env.engine, env.config, env.local_day(at), env.out_dir, at)
    return "; ".join(f"{stage}: {what}" for stage, what in cycle.stages())


def deliver_job(env: JobEnv, at: dt.datetime) -> str:
    """Send due ticket revisions from the outbox to the sinks."""
    report = deliver(env.engine, env.config, at)
    return (
        f"delivered {report.delivered}, retrying {report.retrying}, failed {report.failed}, "
        f"waiting {report.waiting}"
    )


def report_job(env: JobEnv, at: dt.datetime) -> str:
    """Write the local day's HTML report into ``report.dir``; e-mail it if ``jobs.report.email``."""
    day = env.local_day(at)
    path = write_report(env.engine, env.config, day, reports_dir(env.config), at)
    if not env.config["jobs.report.email"]:
        return f"report {path}"
    send_report(path, env.config, day)
    return f"report {path}, mailed to {', '.join(env.config['report.recipients'])}"


def retrain_job(env: JobEnv, at: dt.datetime) -> str:
    """Train a challenger when the champion is due, promote it only if no worse."""
    return retrain_if_due(env.engine, env.config, env.local_day(at), at).describe()


JOBS: Mapping[str, Job] = {
    job.name: job
    for job in (
        Job("ingest", ingest_job, "slot", _every("jobs.ingest.every_min"), "jobs.ingest.every_min"),
        Job("daily", daily_job, "day", _daily_at("jobs.daily.at")),
        Job(
            "deliver",
            deliver_job,
            "slot",
            _every("jobs.deliver.every_min"),
            "jobs.deliver.every_min",
        ),
        Job("report", report_job, "day", _daily_at("jobs.report.at")),
        Job("retrain", retrain_job, "week", _weekly),
    )
}
"""Every scheduled job by name, in ``serve --once`` order."""
