"""What the forecast-based policies knew each day: a world's backtest, made honestly.

The operations twin never forecasts by itself. It reads a backtest of the world
(``equiptwin backtest``): ``forecasts.csv`` (equiptwin's forecasts) and
``vendor_alarms.csv`` (how many vendor-style limits each day broke), made day by day with
models retrained on earlier data only. When a world has no backtest yet, :func:`ensure_backtest`
ingests it into a fresh store and runs one, so the evaluation can be rerun with a better
model simply by deleting (or pointing away from) the old backtests.

Rows are keyed by the world's component life and its **age in whole days** on the
forecast day (``as_of`` minus the installation day). The department simulation looks
advice up by the same key: when a policy replaces a component earlier than the world did,
the next life starts earlier in the simulation than in the world, and the world's forecast
for that life at the same age is the honest stand-in (it used that life's data up to that
age only).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from equiptwin.config import PipelineConfig
from equiptwin.errors import ConfigError
from equiptwin.evaluate.world import World

FORECASTS_FILE = "forecasts.csv"
ALARMS_FILE = "vendor_alarms.csv"

LifeDay = tuple[str, int]
"""A world life's ``life_id`` and its age in whole days."""


@dataclass(frozen=True)
class Advice:
    """A world's forecasts and vendor alarms by life and age, over the backtest period.

    Parameters
    ----------
    start, end : datetime.date
        The forecast days ``[start, end)``: the period the department is simulated over.
    horizons_days : tuple of int
        Horizons of the forecast probabilities.
    forecasts : Mapping of LifeDay to tuple of float
        ``P(fail within h days)`` for each horizon, every forecast day (the policy applies
        its own alert rule).
    alarms : frozenset of LifeDay
        Days on which at least one vendor-style limit was broken.
    windows : Mapping of LifeDay to float, optional
        Days from the forecast day to the failure window's first day, on the forecast
        days that have a window (the ticket policy's window rule reads it).
    """

    start: dt.date
    end: dt.date
    horizons_days: tuple[int, ...]
    forecasts: Mapping[LifeDay, tuple[float, ...]]
    alarms: frozenset[LifeDay]
    windows: Mapping[LifeDay, float] = field(default_factory=dict)


def _life_days(world: World, rows: pd.DataFrame, path: Path) -> list[LifeDay]:
    """Return the world life and age of each row (``system_id``, ``as_of``).

    A row belongs to the system's last life installed before its ``as_of`` (it used data
    up to the end of the day before).
    """
    out: list[LifeDay] = []
    for system_id, as_of in zip(rows["system_id"], rows["as_of"], strict=True):
        lives = world.lives.get(str(system_id))
        if lives is None:
            raise ConfigError(f"{path}: system {system_id} is not in world {world.name}.")
        tz = world.systems[str(system_id)].tz
        day = dt.date.fromisoformat(str(as_of))
        installed = [(life.installed_at.astimezone(tz).date(), life.life_id) for life in lives]
        before = [(d, life_id) for d, life_id in installed if d < day]
        if before:
            d, life_id = before[-1]
            out.append((life_id, (day - d).days))
        else:
            out.append(("", -1))
    return out


def read_advice(world: World, backtest_dir: Path) -> Advice:
    """Read a world's backtest as :class:`Advice`.

    Parameters
    ----------
    world : World
        The simulated world the backtest replayed.
    backtest_dir : Path
        Folder with ``forecasts.csv`` and ``vendor_alarms.csv``.

    Returns
    -------
    Advice
    """
    path = backtest_dir / FORECASTS_FILE
    forecasts = pd.read_csv(path, dtype={"as_of": str, "system_id": str})
    horizons = tuple(
        sorted(int(c[len("p_fail_") : -1]) for c in forecasts.columns if c.startswith("p_fail_"))
    )
    if forecasts.empty or not horizons or "window_start" not in forecasts.columns:
        raise ConfigError(
            f"{path}: needs forecast rows with `p_fail_<h>d` and `window_start` columns."
        )
    keys = _life_days(world, forecasts, path)
    columns = [f"p_fail_{h}d" for h in horizons]
    chances = forecasts[columns].clip(0.0, 1.0).cummax(axis=1).to_numpy()
    on = {k: tuple(map(float, p)) for k, p in zip(keys, chances, strict=True)}
    days = pd.to_datetime(forecasts["as_of"])
    window = (pd.to_datetime(forecasts["window_start"]) - days).dt.days.to_numpy(dtype=float)
    windows = {k: w for k, w in zip(keys, window.tolist(), strict=True) if w == w}
    alarms_path = backtest_dir / ALARMS_FILE
    alarms = pd.read_csv(alarms_path, dtype={"as_of": str, "system_id": str})
    fired = alarms[alarms["limits_exceeded"] >= 1]
    return Advice(
        start=days.min().date(),
        end=days.max().date() + dt.timedelta(days=1),
        horizons_days=horizons,
        forecasts=on,
        alarms=frozenset(_life_days(world, fired, alarms_path)),
        windows=windows,
    )


def has_backtest(backtest_dir: Path) -> bool:
    """Return whether ``backtest_dir`` holds both files :func:`read_advice` needs."""
    return (backtest_dir / FORECASTS_FILE).exists() and (backtest_dir / ALARMS_FILE).exists()


def ensure_backtest(
    world_dir: Path,
    backtest_dir: Path,
    config: PipelineConfig,
    now: Callable[[], dt.datetime],
    *,
    progress: bool = False,
) -> Path:
    """Make a world's backtest unless ``backtest_dir`` already holds one.

    The world is ingested into a fresh SQLite store in ``backtest_dir`` and replayed from
    ``backtest.min_train_days`` after its first day to its last day, with the pipeline's
    settings (``twin.wear_scale`` must match the world's), for the two models the
    policies read: equiptwin's and the vendor-style threshold rule.

    Parameters
    ----------
    world_dir : Path
        A simulated fleet directory.
    backtest_dir : Path
        Where the backtest is (or goes).
    config : PipelineConfig
        Pipeline settings for ingest and the backtest.
    now : callable
        The clock, for ingest's bookkeeping.
    progress : bool
        Progress bars on stderr.

    Returns
    -------
    Path
        ``backtest_dir``.
    """
    if has_backtest(backtest_dir):
        return backtest_dir
    from equiptwin.evaluate.backtest import EQUIPTWIN, run_backtest
    from equiptwin.evaluate.truth import read_truth_lives
    from equiptwin.features.frame import data_range
    from equiptwin.ingest.run import ingest
    from equiptwin.sim.fleet import TRUTH_DIR
    from equiptwin.store import db

    backtest_dir.mkdir(parents=True, exist_ok=True)
    store = backtest_dir / "store.sqlite"
    store.unlink(missing_ok=True)
    engine = db.open_store(f"sqlite:///{store}")
    ingest(engine, world_dir, config, now, progress=progress)
    first, last = data_range(engine)
    run_backtest(
        engine,
        config,
        start=first + dt.timedelta(days=int(config["backtest.min_train_days"])),
        end=last + dt.timedelta(days=1),
        out_dir=backtest_dir,
        truth_lives=read_truth_lives(world_dir / TRUTH_DIR / "lives.csv"),
        models=(EQUIPTWIN, "threshold rule"),
        progress=progress,
    )
    engine.dispose()
    return backtest_dir
