"""The ``equiptwin`` command: a thin shell over the library.

Each command calls one library function. Domain errors become a one-line message and
a non-zero exit here and only here. Only this module (and the scheduler) reads the
clock.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import click

from equiptwin import __version__
from equiptwin.config import PipelineConfig, defaults, load_pipeline, settings_markdown
from equiptwin.errors import EquiptwinError
from equiptwin.store import db as store_db

if TYPE_CHECKING:
    from equiptwin.dist.engine import ComputeEngine

P = ParamSpec("P")
R = TypeVar("R")


def _one_line_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn domain errors into a one-line message and exit status 1."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except EquiptwinError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper


class _Context:
    """What every command gets: ``--db``, the pipeline configuration and the engine."""

    def __init__(
        self, db: str | None, config: PipelineConfig, engine: str, scheduler: str | None
    ) -> None:
        self.db = db
        self.config = config
        self.engine = engine
        self.scheduler = scheduler

    def compute(self) -> AbstractContextManager[ComputeEngine]:
        """Start the ``--engine`` (a Dask local cluster lives until the block ends)."""
        from equiptwin.dist.engine import open_engine

        return open_engine(self.engine, self.config, self.scheduler)


pass_ctx = click.make_pass_decorator(_Context)


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="Example: equiptwin --db sqlite:///fleet.sqlite demo sample_logs --out out/demo\n\n"
    "On a cluster: equiptwin --db postgresql+psycopg://host/fleet --engine dask --scheduler "
    "tcp://head:8786 train",
)
@click.option(
    "--db",
    metavar="URL",
    envvar=store_db.ENV_VAR,
    show_envvar=True,
    help="Store URL (sqlite:///file.sqlite or postgresql+psycopg://host/db) or an SQLite "
    f"path. Default: {store_db.DEFAULT_URL}.",
)
@click.option(
    "--pipeline",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Pipeline file (pipelines/<name>.toml) with sources, mappings, policy and "
    "triggers. Default: built-in defaults.",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "dask"]),
    default="local",
    envvar="EQUIPTWIN_ENGINE",
    show_envvar=True,
    show_default=True,
    help="Where ingest, features and training run: this process, or partitioned by "
    "system on Dask (xgboost.dask for training).",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    envvar="EQUIPTWIN_SCHEDULER",
    show_envvar=True,
    help="Dask scheduler (tcp://host:8786) for --engine dask. Default: setting "
    "`dask.scheduler`, else a local cluster of `dask.workers` processes.",
)
@click.version_option(__version__, prog_name="equiptwin")
@click.pass_context
@_one_line_errors
def cli(
    ctx: click.Context, db: str | None, pipeline: Path | None, engine: str, scheduler: str | None
) -> None:
    """Predictive-maintenance digital twin for X-ray/CT tubes and MRI cold heads.

    Reads a fleet's machine logs, exposure records, cryogenics telemetry, service records
    and scan schedule; forecasts component failures days ahead; opens maintenance
    tickets and proposes schedule changes. Run `equiptwin COMMAND --help` for each stage.
    """
    config = load_pipeline(pipeline) if pipeline else defaults()
    ctx.obj = _Context(db, config, engine, scheduler)


@cli.command(epilog="Example: equiptwin --db sqlite:///out/demo.sqlite migrate")
@pass_ctx
@_one_line_errors
def migrate(ctx: _Context) -> None:
    """Create the store or upgrade it in place to the newest schema."""
    url = store_db.resolve_url(ctx.db)
    engine = store_db.connect(url)
    before = store_db.current_revision(engine)
    store_db.upgrade(engine)
    after = store_db.current_revision(engine)
    click.echo(f"store {engine.url.render_as_string()}: schema {before or 'empty'} -> {after}")


@cli.command(epilog="Example: equiptwin settings > docs/settings.md")
def settings() -> None:
    """Print every setting a pipeline file may hold, with its default and meaning."""
    click.echo(settings_markdown())


@cli.command(epilog="Example: equiptwin demo sample_logs --out out/demo")
@click.argument(
    "data_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default="sample_logs"
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out/demo"),
    show_default=True,
    help="Folder for reports and exports.",
)
@pass_ctx
@_one_line_errors
def demo(ctx: _Context, data_dir: Path, out: Path) -> None:
    """Run the main job end to end on DATA_DIR and say where each output went."""
    from equiptwin.clock import utc_now
    from equiptwin.demo import run_demo

    with ctx.compute() as compute:
        for stage, where in run_demo(ctx.db, data_dir, out, ctx.config, utc_now, compute):
            click.echo(f"{stage:<10} {where}")


@cli.command(
    epilog="Example: equiptwin --db sqlite:///fleet.sqlite --pipeline pipelines/default.toml "
    "ingest sample_logs"
)
@click.argument("data_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--progress/--no-progress", default=True, help="Progress bar on stderr (terminal only)."
)
@pass_ctx
@_one_line_errors
def ingest(ctx: _Context, data_dir: Path, progress: bool) -> None:
    """Read the fleet directory DATA_DIR into the store; re-runs read only what is new.

    Bad lines are quarantined (table `quarantine`) with file, line and reason; the
    summary counts them by source and reason.
    """
    from equiptwin.clock import utc_now
    from equiptwin.ingest.run import ingest as run_ingest

    engine = store_db.open_store(ctx.db)
    with ctx.compute() as compute:
        summary = run_ingest(
            engine, data_dir, ctx.config, utc_now, progress=progress, parse=compute.parse_logs
        )
    click.echo(summary.render())


@cli.command(
    epilog="Example: equiptwin simulate out/fleet --systems 50 --days 365 --seed 7 --workers 2"
)
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--systems", type=int, default=12, show_default=True, help="Imaging systems.")
@click.option("--days", type=int, default=365, show_default=True, help="Log days.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of every draw.")
@click.option(
    "--start",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default="2025-01-01",
    show_default=True,
    help="First log day.",
)
@click.option(
    "--mix",
    default="CT=0.5,XR=0.3,MR=0.2",
    show_default=True,
    help="Modality shares, MODALITY=SHARE separated by commas.",
)
@click.option(
    "--volume",
    type=click.Choice(["default", "reduced"]),
    default="default",
    show_default=True,
    help="default: ~2,000 event lines per system-day; reduced: far fewer (sample fleets).",
)
@click.option(
    "--booking-days",
    type=int,
    default=42,
    show_default=True,
    help="Days of future bookings after the last log day.",
)
@click.option(
    "--wear-scale",
    type=float,
    default=1.0,
    show_default=True,
    help="Multiplies component wear rates (4: lives a quarter as long).",
)
@click.option("--workers", type=int, default=1, show_default=True, help="Worker processes.")
@click.option("--force", is_flag=True, help="Replace an earlier simulation in OUT_DIR.")
@_one_line_errors
def simulate(
    out_dir: Path,
    systems: int,
    days: int,
    seed: int,
    start: Any,
    mix: str,
    volume: str,
    booking_days: int,
    wear_scale: float,
    workers: int,
    force: bool,
) -> None:
    """Write a simulated fleet (formats.md layout) with its ground truth under OUT_DIR/_truth."""
    from equiptwin.sim.fleet import simulate_fleet
    from equiptwin.sim.spec import FleetSpec, parse_mix

    spec = FleetSpec(
        n_systems=systems,
        days=days,
        seed=seed,
        start=start.date(),
        mix=parse_mix(mix),
        volume=volume,  # type: ignore[arg-type]
        booking_days=booking_days,
        wear_scale=wear_scale,
    )
    summary = simulate_fleet(out_dir, spec, workers=workers, force=force)
    click.echo(
        f"{summary.systems} systems x {summary.days} days -> {summary.out_dir}: "
        f"{summary.files} files, {summary.bytes_written / 1e6:.1f} MB, "
        f"{summary.event_lines} event lines; {summary.lives} component lives, "
        f"{summary.failures} failures ({summary.failures_with_precursor} with precursors), "
        f"{summary.preventive} preventive replacements"
    )


@cli.command(epilog="Example: equiptwin --pipeline pipelines/default.toml deliver")
@pass_ctx
@_one_line_errors
def deliver(ctx: _Context) -> None:
    """Send pending ticket revisions from the outbox to the sinks in `sinks.enabled`."""
    from equiptwin.clock import utc_now
    from equiptwin.planning.outbox import deliver as deliver_pending

    report = deliver_pending(store_db.open_store(ctx.db), ctx.config, utc_now())
    click.echo(
        f"delivered {report.delivered}, retrying {report.retrying}, failed {report.failed}, "
        f"waiting {report.waiting}"
    )


@cli.command(
    epilog="Example: equiptwin --pipeline pipelines/sample.toml train --to 2026-10-01 "
    "--version sample-2026-10-01"
)
@click.option(
    "--to",
    "data_end",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="First day NOT to learn from (default: the day after the last logged day).",
)
@click.option("--version", "model_version", help="Registry version (default: <site>-<to>).")
@click.option("--progress/--no-progress", default=True, help="Progress bar on stderr.")
@pass_ctx
@_one_line_errors
def train(
    ctx: _Context, data_end: dt.datetime | None, model_version: str | None, progress: bool
) -> None:
    """Train the default survival model on the store's history and add it to the registry.

    The model is boosted Cox starting from the twin's hazard index; its probabilities are
    the twin's own curve scaled by the learnt hazard ratio, level calibrated to the
    failures seen. Its model card records held-out metrics: trained on the first 80% of
    the days, scored on the last 20%.
    """
    from equiptwin.clock import utc_now
    from equiptwin.survival.training import train_from_store

    with ctx.compute() as compute:
        folder = train_from_store(
            store_db.open_store(ctx.db),
            ctx.config,
            data_end=data_end.date() if data_end else None,
            model_version=model_version,
            created_at=utc_now(),
            progress=progress,
            compute=compute,
        )
    click.echo(f"model saved to {folder} (card: {folder / 'model_card.json'})")


@cli.command(
    epilog="Example: equiptwin --pipeline pipelines/sample.toml forecast --as-of 2026-10-01 "
    "--out out/forecast"
)
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Forecast day; uses data up to the end of the day before "
    "(default: the day after the last logged day).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out"),
    show_default=True,
    help="Folder for forecasts.csv.",
)
@click.option(
    "--model",
    "model_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A model version folder (default: the newest in `models.dir`).",
)
@click.option("--progress/--no-progress", default=True, help="Progress bar on stderr.")
@pass_ctx
@_one_line_errors
def forecast(
    ctx: _Context, as_of: dt.datetime | None, out: Path, model_dir: Path | None, progress: bool
) -> None:
    """Forecast every component in service: P(fail within 7/14/30 days), window, drivers."""
    from equiptwin.features.frame import data_range
    from equiptwin.forecasting import run_forecast, write_forecasts_csv

    engine = store_db.open_store(ctx.db)
    day = as_of.date() if as_of else data_range(engine)[1] + dt.timedelta(days=1)
    with ctx.compute() as compute:
        run = run_forecast(
            engine, ctx.config, day, model_dir=model_dir, progress=progress, compute=compute
        )
    path = write_forecasts_csv(engine, run.forecasts, out / "forecasts.csv")
    click.echo(f"{len(run.forecasts)} forecasts for {day} with {run.model_version} -> {path}")


@cli.command(
    epilog="Example: equiptwin --pipeline pipelines/sample.toml backtest --from 2026-02-01 "
    "--to 2026-10-01 --out out/backtest"
)
@click.option(
    "--from",
    "start",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    required=True,
    help="First replayed day.",
)
@click.option(
    "--to",
    "end",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    required=True,
    help="First day after the replay.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out/backtest"),
    show_default=True,
    help="Folder for forecasts.csv, scores.csv, alerts.csv, operating_points.csv, "
    "matched.csv, evaluation.json.",
)
@click.option(
    "--truth",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Simulated truth (a fleet's _truth/lives.csv) to add recall over failures with "
    "precursors.",
)
@click.option("--progress/--no-progress", default=True, help="Progress bars on stderr.")
@pass_ctx
@_one_line_errors
def backtest(
    ctx: _Context,
    start: dt.datetime,
    end: dt.datetime,
    out: Path,
    truth: Path | None,
    progress: bool,
) -> None:
    """Replay past days with only the data each day had; score equiptwin and baselines.

    Models are retrained every `backtest.retrain_days` on data before the cut only. The
    scores compare equiptwin with Kaplan-Meier, Cox PH, xgboost Cox, xgboost AFT without
    the twin, and a vendor-style threshold rule: at the ticket rule of `policy.*`, and
    with each other model's threshold chosen to match equiptwin's false-alert rate, then
    its recall (matched.csv).
    """
    from equiptwin.evaluate.backtest import run_backtest
    from equiptwin.evaluate.truth import read_truth_lives

    with ctx.compute() as compute:
        result = run_backtest(
            store_db.open_store(ctx.db),
            ctx.config,
            start=start.date(),
            end=end.date(),
            out_dir=out,
            truth_lives=read_truth_lives(truth) if truth else None,
            progress=progress,
            compute=compute,
        )
    click.echo(result.scores.to_string(index=False))
    overall = result.alerts[result.alerts["modality"] == "all"]
    click.echo(overall.to_string(index=False))
    if len(result.matched):
        click.echo("Every other model against equiptwin at its false-alert rate and its recall:")
        click.echo(result.matched.to_string(index=False))
    click.echo(f"written to {out}")


@cli.command(
    epilog="Example: equiptwin --pipeline pipelines/sample.toml report --as-of 2026-10-01 "
    "--out out/reports --email"
)
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Forecast day of the report (default: the day after the last logged day).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for report-<as_of>.html (default: `report.dir` inside `outputs.dir`).",
)
@click.option(
    "--email", is_flag=True, help="Also mail it to `report.recipients` (SMTP: `sinks.email.*`)."
)
@pass_ctx
@_one_line_errors
def report(ctx: _Context, as_of: dt.datetime | None, out: Path | None, email: bool) -> None:
    """Write the daily HTML report engineers read (one self-contained file), and mail it.

    The report ranks the fleet by risk and shows, for each at-risk component, its survival
    curve and failure window, 60 days of indicators and events, the signals that moved
    the forecast and its ticket; then tickets, schedule changes, capacity, the model card
    and the latest backtest. Run it after the day's `forecast` (and plan).
    """
    from equiptwin.clock import utc_now
    from equiptwin.features.frame import data_range
    from equiptwin.outputs.report import reports_dir, send_report, write_report

    engine = store_db.open_store(ctx.db)
    day = as_of.date() if as_of else data_range(engine)[1] + dt.timedelta(days=1)
    path = write_report(engine, ctx.config, day, out or reports_dir(ctx.config), utc_now())
    click.echo(f"report for {day}: {path}")
    if email:
        send_report(path, ctx.config, day)
        click.echo(f"mailed to {', '.join(ctx.config['report.recipients'])}")


@cli.command(
    epilog="""\b
Example: equiptwin --db sqlite:///fleet/equiptwin.sqlite --pipeline pipelines/site.toml \\
    serve /data/fleet-exports --out /srv/equiptwin/out
Example: equiptwin --pipeline pipelines/sample.toml serve sample_logs --out out/serve \\
    --once --at 2026-10-01T06:00:00+00:00"""
)
@click.argument("data_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for exports, reports/ and the tickets/ drop folder (`outputs.dir`).",
)
@click.option(
    "--once",
    is_flag=True,
    help="Run every job once (ingest, daily cycle, delivery, report, retraining if due) "
    "and exit; status 1 when a job failed.",
)
@click.option(
    "--at",
    "at",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d"]),
    help="With --once: the jobs' logical time, as if the clock read it (replays a day; a "
    "date means 06:00 UTC that day). The job history still records real times.",
)
@pass_ctx
@_one_line_errors
def serve(ctx: _Context, data_dir: Path, out: Path, once: bool, at: dt.datetime | None) -> None:
    """Run the jobs unattended: poll DATA_DIR, forecast, plan, deliver, report, retrain.

    Jobs run at the times in `serve.*` and `jobs.*` (local times in `serve.timezone`);
    each job runs once per day (retraining once per week), whatever restarts or
    daylight-saving changes happen, and every run is recorded in the table `job_runs`
    (`equiptwin runs` shows it). One `serve` per database: a second one exits at once
    naming the first. SIGINT or SIGTERM stops it after the running job.
    """
    import logging

    from equiptwin.clock import utc_now
    from equiptwin.cycle import with_outputs_dir
    from equiptwin.scheduler.jobs import JobEnv
    from equiptwin.scheduler.lock import new_holder_id
    from equiptwin.scheduler.runner import serve_forever, serve_once, stop_on_signals

    if at is not None and not once:
        raise click.UsageError("--at replays one moment, so it needs --once.")
    when = None
    if at is not None:
        when = at if at.tzinfo else dt.datetime.combine(at.date(), dt.time(6), dt.UTC)
    env = JobEnv(
        store_db.open_store(ctx.db),
        with_outputs_dir(ctx.config, out),
        data_dir,
        out,
        utc_now,
    )
    holder = new_holder_id()
    if once:
        outcomes = serve_once(env, holder, when or utc_now())
        for outcome in outcomes:
            click.echo(outcome.line())
        if any(o.status == "failed" for o in outcomes):
            raise click.exceptions.Exit(1)
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    click.echo(f"serving {data_dir} -> {out} as {holder}; stop with Ctrl-C or SIGTERM", err=True)
    serve_forever(env, holder, stop_on_signals())


@cli.command(epilog="Example: equiptwin --db sqlite:///fleet/equiptwin.sqlite runs --limit 20")
@click.option("--limit", type=int, default=30, show_default=True, help="Newest runs to show.")
@pass_ctx
@_one_line_errors
def runs(ctx: _Context, limit: int) -> None:
    """Show the scheduler's job history: period, attempt, status, duration, summary or error."""
    from equiptwin.scheduler.ledger import history

    for run in history(store_db.open_store(ctx.db), limit=limit):
        took = "" if run.duration_s is None else f"{run.duration_s:.1f} s"
        what = run.error.splitlines()[0] if run.error else run.summary or ""
        click.echo(
            f"{run.started_at:%Y-%m-%d %H:%M:%S} {run.job:<8} {run.run_key:<18} "
            f"#{run.attempt} {run.status:<9} {took:>9}  {what}"
        )


@cli.command(
    epilog="Example: equiptwin --pipeline pipelines/sample.toml evaluate out/worlds/seed-* "
    "--out out/operations --days 365   (worlds from `equiptwin simulate out/worlds/seed-7 "
    "--systems 8 --days 1610 --seed 7 --volume reduced --wear-scale 8`: 150 days of "
    "history, the evaluated year, three buffer years; each world's backtest is made under "
    "OUT/backtests/<world> unless it is there already)"
)
@click.argument(
    "worlds", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path)
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out/operations"),
    show_default=True,
    help="Folder for operations.json, operations_runs.csv, operations_summary.csv and "
    "operations.png.",
)
@click.option(
    "--backtests",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the worlds' backtests, one subfolder per world name with forecasts.csv "
    "and vendor_alarms.csv; missing ones are made there. Default: OUT/backtests.",
)
@click.option(
    "--workers",
    type=int,
    default=1,
    show_default=True,
    help="Worlds replayed (and backtested) in parallel processes.",
)
@click.option(
    "--days",
    type=click.IntRange(min=1),
    help="Days replayed from the start of each world's backtest (default: all of it). "
    "Simulate worlds longer than that: a policy which replaces early then meets lives "
    "whose ends the world knows, and runs that outpace the world draw spare lives from "
    "them instead of running past what the world saw.",
)
@click.option("--progress/--no-progress", default=True, help="Progress bars on stderr.")
@pass_ctx
@_one_line_errors
def evaluate(
    ctx: _Context,
    worlds: tuple[Path, ...],
    out: Path,
    backtests: Path | None,
    workers: int,
    days: int | None,
    progress: bool,
) -> None:
    """Compare maintenance policies on simulated WORLDS: what predictive maintenance buys.

    Each world (a fleet written by `equiptwin simulate`, one per seed) is replayed as a
    department over its backtest period under run-to-failure, fixed-interval replacement,
    vendor-style threshold alarms and equiptwin (forecast alerts, a planned maintenance
    slot and rebooking of the displaced exams), on the same failures and bookings; the
    equiptwin policy opens tickets by `policy.horizon_days` and `policy.p_open`. Prints
    each policy's unplanned downtime, short-notice cancellations, rebooked exams and their
    extra wait, discarded component life and total cost (mean and 95% interval over the
    worlds), and whether the issue's goal is met.
    """
    from equiptwin.clock import utc_now
    from equiptwin.evaluate.compare import evaluate_worlds

    result = evaluate_worlds(
        list(worlds),
        out,
        ctx.config,
        utc_now,
        backtests_dir=backtests,
        workers=workers,
        progress=progress,
        period_days=days,
        log=lambda line: click.echo(line, err=True),
    )
    click.echo(result.table())
    click.echo(result.replay_table())
    click.echo(f"goal: {result.goal}")
    click.echo(f"written to {out}")


def main(argv: list[str] | None = None) -> Any:
    """Entry point of the ``equiptwin`` console script."""
    return cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="equiptwin")
