from __future__ import annotations

import datetime as dt
from pathlib import Path

from click.testing import CliRunner

from equiptwin.cli import cli
from equiptwin.clock import utc_now
from equiptwin.scheduler import lock
from equiptwin.store import db as store_db


def test_a_second_serve_exits_at_once_naming_the_holder(sqlite_url: str, tmp_path: Path) -> None:
    engine = store_db.open_store(sqlite_url)
    lock.acquire(engine, "scan-srv:4121:9f2c01aa", utc_now(), 600.0)
    for once in ([], ["--once"]):
        args = ["--db", sqlite_url, "serve", str(tmp_path), "--out", str(tmp_path / "out"), *once]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 1
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 + (not once)  # `serve` first says what it serves
        assert "holder scan-srv:4121:9f2c01aa" in lines[-1]
        assert lines[-1].startswith("Error: another `equiptwin serve` already runs on")
    assert not (tmp_path / "out").exists()


def test_at_needs_once(sqlite_url: str, tmp_path: Path) -> None:
    args = [
        "--db",
        sqlite_url,
        "serve",
        str(tmp_path),
        "--out",
        str(tmp_path),
        "--at",
        "2026-10-01",
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert "--at replays one moment, so it needs --once" in result.output


def test_runs_lists_the_history_newest_first(sqlite_url: str) -> None:
    from equiptwin.scheduler import ledger

    engine = store_db.open_store(sqlite_url)
    t0 = dt.datetime(2026, 10, 1, 3, tzinfo=dt.UTC)
    run_id = ledger.start(engine, "daily", "2026-10-01", "h", t0)
    ledger.finish(engine, run_id, t0 + dt.timedelta(seconds=27), error="ValueError: bad\ntrace")
    result = CliRunner().invoke(cli, ["--db", sqlite_url, "runs"])
    assert result.exit_code == 0
    assert result.output.split() == [
        "2026-10-01",
        "03:00:00",
        "daily",
        "2026-10-01",
        "#1",
        "failed",
        "27.0",
        "s",
        "ValueError:",
        "bad",
    ]
