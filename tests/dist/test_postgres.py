"""The demo pipeline's commands on PostgreSQL, by URL, with both engines."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from equiptwin.cli import cli
from equiptwin.store.schema import ArchivePart, Forecast, IngestRun

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def test_every_command_runs_on_postgres(
    pg_url: str, dist_fleet: Path, pipeline: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    archive = tmp_path / "archive"
    settings = tmp_path / "pg.toml"
    settings.write_text(
        pipeline.read_text(encoding="utf-8") + f'[store]\narchive_dir = "{archive}"\n',
        encoding="utf-8",
    )
    base = ["--db", pg_url, "--pipeline", str(settings)]
    dask = [*base, "--engine", "dask"]
    commands = [
        [*dask, "ingest", str(dist_fleet), "--no-progress"],
        [*dask, "train", "--version", "pg", "--no-progress"],
        [*base, "forecast", "--out", str(tmp_path / "forecast"), "--no-progress"],
        [*base, "backtest", "--from", "2026-04-10", "--to", "2026-05-01"]
        + ["--out", str(tmp_path / "backtest"), "--no-progress"],
        [*base, "deliver"],
        [*dask, "demo", str(dist_fleet), "--out", str(tmp_path / "demo")],
    ]
    for args in commands:
        result = runner.invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == 0, (args, result.output)
    assert re.search(r"ingest\s+0 files", result.output)  # all read by the first ingest
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(IngestRun)) == 2
        assert conn.scalar(sa.select(sa.func.count()).select_from(ArchivePart)) > 0
        forecasts = conn.scalar(sa.select(sa.func.count()).select_from(Forecast))
    engine.dispose()
    assert forecasts and forecasts >= 8
    for name in ("forecasts.csv", "capacity.csv", "schedule_changes.csv"):
        assert (tmp_path / "demo" / name).is_file(), name
    assert (tmp_path / "backtest" / "evaluation.json").is_file()
