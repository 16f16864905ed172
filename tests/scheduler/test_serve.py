"""``equiptwin serve`` on the bundled sample fleet: every output, and three days with a restart."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from equiptwin.cli import cli
from equiptwin.config import PipelineConfig
from equiptwin.cycle import with_outputs_dir
from equiptwin.scheduler import lock
from equiptwin.scheduler.jobs import JOBS, JobEnv
from equiptwin.scheduler.runner import Runner
from equiptwin.store import db as store_db
from equiptwin.store.schema import OutboxMessage, Ticket
from tests.scheduler.conftest import REPO, SAMPLE_LOGS, FakeClock, job_runs, with_values

AMS = ZoneInfo("Europe/Amsterdam")
pytestmark = pytest.mark.slow


def _pipeline_file(config: PipelineConfig, path: Path) -> Path:
    """Write the settings that differ from the defaults as a pipeline file."""
    lines = [
        'site.name = "sample"',
        "twin.wear_scale = 8.0",
        f'serve.timezone = "{config["serve.timezone"]}"',
        f"policy.horizon_days = {config['policy.horizon_days']}",
        f"policy.p_open = {config['policy.p_open']}",
        f'models.dir = "{config["models.dir"]}"',
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _ticket_lines(out: Path) -> list[dict[str, object]]:
    with (out / "tickets" / "tickets.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def test_serve_once_on_the_sample_writes_every_output(
    sample_config: PipelineConfig, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'fresh' / 'store.sqlite'}"
    out = tmp_path / "out"
    pipeline = _pipeline_file(sample_config, tmp_path / "serve.toml")
    args = ["--db", url, "--pipeline", str(pipeline), "serve", str(SAMPLE_LOGS), "--out", str(out)]
    result = CliRunner().invoke(cli, [*args, "--once", "--at", "2026-10-01T06:00:00+02:00"])
    assert result.exit_code == 0, result.output
    assert [line.split()[:3] for line in result.output.splitlines()] == [
        ["ingest", "2026-10-01T04:00Z", "succeeded"],
        ["daily", "2026-10-01", "succeeded"],
        ["deliver", "2026-10-01T04:00Z", "succeeded"],
        ["report", "2026-10-01", "succeeded"],
        ["retrain", "2026-W40", "succeeded"],
    ]
    for name in ("forecasts.csv", "capacity.csv", "schedule_changes.csv", "maintenance.ics"):
        with (out / name).open(encoding="utf-8") as handle:
            assert len(list(csv.reader(handle))) > 1 or name == "maintenance.ics", name
    forecasts = list(csv.DictReader((out / "forecasts.csv").open(encoding="utf-8")))
    assert {row["as_of"] for row in forecasts} == {"2026-10-01"}
    assert len(forecasts) == 12
    report = (out / "reports" / "report-2026-10-01.html").read_text(encoding="utf-8")
    assert "2026-10-01" in report and "CT-RTM-02" in report
    tickets = _ticket_lines(out)
    assert tickets and (out / "tickets" / "tickets.csv").is_file()
    assert {t["as_of"] for t in tickets} == {"2026-10-01"}
    runs = job_runs(url)
    assert [(r["job"], r["status"]) for r in runs] == [(name, "succeeded") for name in JOBS]
    assert "no retraining" in str(runs[-1]["summary"])
    # later in the same slots does no work twice: every period is done
    again = CliRunner().invoke(cli, [*args, "--once", "--at", "2026-10-01T06:04:59+02:00"])
    assert again.exit_code == 0, again.output
    assert [line.split()[2] for line in again.output.splitlines()] == ["skipped"] * 5
    history = CliRunner().invoke(cli, ["--db", url, "runs", "--limit", "5"])
    assert history.exit_code == 0 and len(history.output.splitlines()) == 5


def _fire_times(
    env: JobEnv, start: dt.datetime, end: dt.datetime
) -> list[tuple[dt.datetime, int, str]]:
    """When each job's APScheduler trigger fires in ``[start, end)``, in time order."""
    fires = []
    for order, (name, job) in enumerate(JOBS.items()):
        trigger = job.trigger(env.config, env.timezone)
        previous, now = None, start
        while (fire := trigger.get_next_fire_time(previous, now)) is not None and fire < end:
            fires.append((fire.astimezone(dt.UTC), order, name))
            previous, now = fire, fire.astimezone(dt.UTC) + dt.timedelta(microseconds=1)
    return sorted(fires)


def _scheduler(
    url: str, config: PipelineConfig, out: Path, clock: FakeClock, holder: str
) -> Runner:
    """A new scheduler object on the store, as a restarted process would build it."""
    env = JobEnv(store_db.open_store(url), with_outputs_dir(config, out), SAMPLE_LOGS, out, clock)
    lock.acquire(env.engine, holder, clock(), float(config["serve.lease_s"]))
    return Runner(env, holder=holder)


def _run_fires(runner: Runner, clock: FakeClock, start: dt.datetime, end: dt.datetime) -> None:
    for fire, _order, name in _fire_times(runner.env, start, end):
        clock.set(fire)
        runner.run(name, fire)


def test_three_days_with_a_restart_give_three_reports_and_no_duplicate_tickets(
    sample_store: str, sample_config: PipelineConfig, tmp_path: Path
) -> None:
    config = with_values(sample_config, jobs__ingest__every_min=360, jobs__deliver__every_min=180)
    out = tmp_path / "out"
    day1 = dt.datetime(2026, 10, 1, tzinfo=AMS)
    restart = dt.datetime(2026, 10, 2, 6, 0, tzinfo=AMS)  # after the daily cycle, before the report
    end = dt.datetime(2026, 10, 4, tzinfo=AMS)
    clock = FakeClock(day1)

    first = _scheduler(sample_store, config, out, clock, "first")
    _run_fires(first, clock, day1, restart)
    first.env.engine.dispose()  # the process dies without releasing its lease

    # a new process replays the restart moment with `serve --once`; the dead lease expired
    pipeline = _pipeline_file(config, tmp_path / "serve.toml")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)])}
    once = subprocess.run(
        [
            sys.executable,
            "-m",
            "equiptwin",
            "--db",
            sample_store,
            "--pipeline",
            str(pipeline),
            "serve",
            str(SAMPLE_LOGS),
            "--out",
            str(out),
            "--once",
            "--at",
            restart.isoformat(),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=900,
    )
    assert once.returncode == 0, once.stdout + once.stderr
    status = {line.split()[0]: line.split()[2] for line in once.stdout.splitlines()}
    assert status["daily"] == "skipped" and status["report"] == "succeeded"

    clock.set(restart)
    second = _scheduler(sample_store, config, out, clock, "second")
    _run_fires(second, clock, restart, end)

    runs = job_runs(sample_store)
    done = Counter(r["job"] for r in runs if r["status"] == "succeeded")
    assert {r["status"] for r in runs} == {"succeeded"}
    assert done["daily"] == 3 and done["report"] == 3
    assert sorted(p.name for p in (out / "reports").iterdir()) == [
        "report-2026-10-01.html",
        "report-2026-10-02.html",
        "report-2026-10-03.html",
    ]
    assert sorted({r["run_key"] for r in runs if r["job"] == "daily"}) == [
        "2026-10-01",
        "2026-10-02",
        "2026-10-03",
    ]
    tickets = _ticket_lines(out)
    revisions = Counter((t["dedup_key"], t["revision"]) for t in tickets)
    assert tickets and max(revisions.values()) == 1
    engine = sa.create_engine(sample_store)
    with engine.connect() as conn:
        keys = conn.execute(sa.select(Ticket.dedup_key, Ticket.revision)).all()
        outbox = conn.execute(
            sa.select(OutboxMessage.dedup_key, OutboxMessage.revision, OutboxMessage.status)
        ).all()
    engine.dispose()
    assert {k: r for k, r in keys} == {
        k: max(r for (kk, r) in revisions if kk == k) for k, _ in revisions
    }
    assert Counter((k, r) for k, r, _s in outbox) == Counter(revisions.keys())
    assert {s for _k, _r, s in outbox} == {"delivered"}
    assert all(t["system_id"] for t in tickets)
