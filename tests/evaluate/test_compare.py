"""``equiptwin evaluate`` end to end on two tiny simulated worlds with hand-made backtests."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from equiptwin.cli import cli
from equiptwin.evaluate.advice import read_advice
from equiptwin.evaluate.world import read_world
from equiptwin.sim.fleet import simulate_fleet
from equiptwin.sim.spec import FleetSpec, parse_mix

pytestmark = pytest.mark.slow
DAYS = 60
BACKTEST_FROM = 30


def _backtest(world: Path, out: Path) -> None:
    """Write a backtest that alerts on every tenth day of every system (not a real model).

    Those days also have a failure window, starting 12 days later.
    """
    assets = pd.read_csv(world / "assets.csv")
    days = pd.date_range(
        dt.date(2025, 1, 1) + dt.timedelta(days=BACKTEST_FROM), periods=DAYS - BACKTEST_FROM
    )
    rows = [
        {
            "as_of": d.strftime("%Y-%m-%d"),
            "system_id": s,
            "component": "coldhead" if m == "MR" else "xray_tube",
            "life_id": f"{s}:1",
            "p_fail_7d": 0.05,
            "p_fail_14d": 0.3 if d.day % 10 == 0 else 0.1,
            "p_fail_30d": 0.5,
            "window_start": (d + pd.Timedelta(days=12)).strftime("%Y-%m-%d")
            if d.day % 10 == 0
            else "",
            "alert": int(d.day % 10 == 0),
        }
        for s, m in zip(assets["system_id"], assets["modality"], strict=True)
        for d in days
    ]
    out.mkdir(parents=True)
    forecasts = pd.DataFrame(rows)
    forecasts.to_csv(out / "forecasts.csv", index=False)
    alarms = forecasts[["as_of", "system_id", "component", "life_id"]].assign(
        limits_exceeded=np.where(forecasts["alert"] == 1, 2, 0)
    )
    alarms.to_csv(out / "vendor_alarms.csv", index=False)


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], Path]:
    root = tmp_path_factory.mktemp("operations")
    paths = []
    for seed in (11, 12):
        spec = FleetSpec(
            n_systems=3,
            days=DAYS,
            seed=seed,
            start=dt.date(2025, 1, 1),
            mix=parse_mix("CT=0.4,XR=0.3,MR=0.3"),
            volume="reduced",
            booking_days=10,
            wear_scale=30.0,
        )
        path = root / f"seed-{seed}"
        simulate_fleet(path, spec)
        _backtest(path, root / "backtests" / path.name)
        paths.append(path)
    return paths, root / "backtests"


def test_bookings_repeat_the_schedule_export(worlds: tuple[list[Path], Path]) -> None:
    path = worlds[0][0]
    world = read_world(path)
    exported = pd.read_csv(path / "schedule.csv")
    drawn = {b.appointment_id: b for b in world.bookings}
    for row in exported.itertuples(index=False):
        booking = drawn[row.appointment_id]
        assert booking.start == pd.Timestamp(row.start).to_pydatetime()
        assert (booking.system_id, booking.priority, booking.duration_min, booking.exam_code) == (
            row.system_id,
            row.priority,
            row.duration_min,
            row.exam_code,
        )


def test_advice_is_keyed_by_life_and_age(worlds: tuple[list[Path], Path]) -> None:
    paths, backtests = worlds
    world = read_world(paths[0])
    advice = read_advice(world, backtests / paths[0].name)
    assert advice.start == dt.date(2025, 1, 1) + dt.timedelta(days=BACKTEST_FROM)
    assert (advice.end - advice.start).days == DAYS - BACKTEST_FROM
    lives = {life.life_id: life for v in world.lives.values() for life in v}
    alerts = {key for key, p in advice.forecasts.items() if p[1] >= 0.2}
    assert alerts and len(advice.forecasts) > len(alerts)
    for life_id, age in alerts:
        life = lives[life_id]
        day = life.installed_at.astimezone(world.systems[life_id.split(":")[0]].tz).date()
        assert (day + dt.timedelta(days=age)).day % 10 == 0
    assert alerts == set(advice.alarms)
    assert advice.windows == dict.fromkeys(alerts, 12.0)


def test_evaluate_command(worlds: tuple[list[Path], Path], tmp_path: Path) -> None:
    paths, backtests = worlds
    out = tmp_path / "out"
    args = ["evaluate", *map(str, paths), "--out", str(out), "--backtests", str(backtests)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    for policy in ("run-to-failure", "fixed interval", "threshold alarms", "equiptwin"):
        assert policy in result.output
    assert "spare_lives" in result.output and "beyond_world_days" in result.output
    report = json.loads((out / "operations.json").read_text(encoding="utf-8"))
    assert report["worlds"] == [p.name for p in paths]
    runs = pd.read_csv(out / "operations_runs.csv")
    assert len(runs) == 2 * 4
    assert (runs["exams"] == runs.groupby("world")["exams"].transform("first")).all()
    assert (out / "operations.png").stat().st_size > 10_000
    assert set(report["goal"]) >= {"met", "downtime_cut_vs_run_to_failure"}
    parallel = tmp_path / "parallel"
    args = [*args[: args.index("--out")], "--out", str(parallel), "--backtests", str(backtests)]
    assert CliRunner().invoke(cli, [*args, "--workers", "2"]).exit_code == 0
    pd.testing.assert_frame_equal(pd.read_csv(parallel / "operations_runs.csv"), runs)


def test_evaluate_a_shorter_period_than_the_backtest(
    worlds: tuple[list[Path], Path], tmp_path: Path
) -> None:
    paths, backtests = worlds
    base = ["evaluate", *map(str, paths), "--backtests", str(backtests), "--no-progress"]
    whole = CliRunner().invoke(cli, [*base, "--out", str(tmp_path / "whole")])
    part = CliRunner().invoke(cli, [*base, "--out", str(tmp_path / "part"), "--days", "10"])
    assert whole.exit_code == 0 and part.exit_code == 0, part.output
    runs = {k: pd.read_csv(tmp_path / k / "operations_runs.csv") for k in ("whole", "part")}
    assert (runs["part"]["exams"] < runs["whole"]["exams"]).all()
    longer = CliRunner().invoke(cli, [*base, "--out", str(tmp_path / "x"), "--days", "400"])
    assert longer.exit_code != 0
    assert "longer than its backtest" in longer.output
