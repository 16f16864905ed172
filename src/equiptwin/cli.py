"""The ``equiptwin`` command: a thin shell over the library.

Each command calls one library function. Domain errors become a one-line message and
a non-zero exit here and only here. Only this module (and the scheduler) reads the
clock.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click

from equiptwin import __version__
from equiptwin.config import PipelineConfig, defaults, load_pipeline, settings_markdown
from equiptwin.errors import EquiptwinError
from equiptwin.store import db as store_db

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
    """What every command gets: the ``--db`` value and the pipeline configuration."""

    def __init__(self, db: str | None, config: PipelineConfig) -> None:
        self.db = db
        self.config = config


pass_ctx = click.make_pass_decorator(_Context)


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="Example: equiptwin --db sqlite:///fleet.sqlite demo sample_logs --out out/demo",
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
@click.version_option(__version__, prog_name="equiptwin")
@click.pass_context
@_one_line_errors
def cli(ctx: click.Context, db: str | None, pipeline: Path | None) -> None:
    """Predictive-maintenance digital twin for X-ray/CT tubes and MRI cold heads.

    Reads a fleet's machine logs, exposure records, cryogenics telemetry, service records
    and scan schedule; forecasts component failures days ahead; opens maintenance
    tickets and proposes schedule changes. Run `equiptwin COMMAND --help` for each stage.
    """
    config = load_pipeline(pipeline) if pipeline else defaults()
    ctx.obj = _Context(db, config)


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
    from equiptwin.demo import run_demo

    for stage, where in run_demo(ctx.db, data_dir, out, ctx.config):
        click.echo(f"{stage:<10} {where}")


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


def main(argv: list[str] | None = None) -> Any:
    """Entry point of the ``equiptwin`` console script."""
    return cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="equiptwin")
