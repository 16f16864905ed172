"""Fixtures for the scheduler: a ticking fake clock, cheap job registries and the sample store."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from equiptwin.clock import utc_now
from equiptwin.config import PipelineConfig, load_pipeline
from equiptwin.cycle import with_outputs_dir
from equiptwin.ingest.run import ingest
from equiptwin.scheduler.jobs import JOBS, Job, JobEnv
from equiptwin.store import db as store_db

REPO = Path(__file__).resolve().parents[2]
SAMPLE_LOGS = REPO / "sample_logs"
AMSTERDAM = "Europe/Amsterdam"


class FakeClock:
    """A clock the test moves; each reading advances it by ``tick`` (so durations are > 0)."""

    def __init__(self, at: dt.datetime, tick: dt.timedelta = dt.timedelta(seconds=1)) -> None:
        self.at, self.tick = at, tick

    def __call__(self) -> dt.datetime:
        now = self.at
        self.at += self.tick
        return now

    def set(self, at: dt.datetime) -> None:
        self.at = at


def with_values(config: PipelineConfig, **values: object) -> PipelineConfig:
    """``config`` with dotted keys given as ``serve__timezone=...``."""
    extra = {key.replace("__", "."): value for key, value in values.items()}
    return dataclasses.replace(config, values={**config.values, **extra})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2026, 10, 1, 4, 0, tzinfo=dt.UTC))


def counting_jobs(calls: list[tuple[str, dt.datetime]]) -> dict[str, Job]:
    """The real registry (names, periods, triggers) with jobs that only record their call."""

    def record(name: str) -> Callable[[JobEnv, dt.datetime], str]:
        def run(_env: JobEnv, at: dt.datetime) -> str:
            calls.append((name, at))
            return f"{name} at {at.isoformat()}"

        return run

    return {name: dataclasses.replace(job, run=record(name)) for name, job in JOBS.items()}


@pytest.fixture
def light_env(sqlite_url: str, tmp_path: Path, clock: FakeClock) -> JobEnv:
    """A migrated empty store and settings in Amsterdam time, for registries of cheap jobs."""
    config = with_values(
        with_outputs_dir(load_pipeline(REPO / "pipelines/sample.toml"), tmp_path / "out"),
        serve__timezone=AMSTERDAM,
    )
    return JobEnv(store_db.open_store(sqlite_url), config, tmp_path, tmp_path / "out", clock)


@pytest.fixture(scope="session")
def ingested_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store folder (``store.sqlite`` and its Parquet ``archive/``) holding sample_logs/.

    Ingested once per session; tests copy it (:func:`sample_store`).
    """
    folder = tmp_path_factory.mktemp("sample-store")
    engine = store_db.open_store(f"sqlite:///{folder / 'store.sqlite'}")
    ingest(engine, SAMPLE_LOGS, load_pipeline(REPO / "pipelines/sample.toml"), utc_now)
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return folder


@pytest.fixture
def sample_store(ingested_sample: Path, tmp_path: Path) -> str:
    """A private copy of the ingested sample store; returns its URL."""
    folder = tmp_path / "store"
    shutil.copytree(ingested_sample, folder)
    return f"sqlite:///{folder / 'store.sqlite'}"


@pytest.fixture
def sample_config(tmp_path: Path) -> PipelineConfig:
    """The sample pipeline in Amsterdam time with a policy that opens tickets on the sample.

    The committed model rates the sample's worn tubes at a few percent within 30 days, so
    the policy looks 30 days ahead from 5%; the registry is a private copy.
    """
    models = tmp_path / "models"
    shutil.copytree(REPO / "models", models)
    return with_values(
        load_pipeline(REPO / "pipelines/sample.toml"),
        serve__timezone=AMSTERDAM,
        policy__horizon_days=30,
        policy__p_open=0.05,
        models__dir=str(models),
    )


def job_runs(url: str) -> list[dict[str, object]]:
    """Every row of ``job_runs`` as dicts, in id order."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = [
            dict(r._mapping) for r in conn.execute(sa.text("SELECT * FROM job_runs ORDER BY id"))
        ]
    engine.dispose()
    return rows
