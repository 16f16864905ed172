"""A small simulated fleet with failures, a fast twin, and one Dask cluster per module."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from equiptwin.config import PipelineConfig, load_pipeline
from equiptwin.dist.dask_engine import DaskEngine
from equiptwin.sim.fleet import simulate_fleet
from equiptwin.sim.spec import FleetSpec

# Eight systems over four months with fast wear: 6 failures, enough to train and hold out.
FLEET = FleetSpec(
    n_systems=8,
    days=120,
    seed=5,
    start=dt.date(2026, 1, 1),
    volume="reduced",
    booking_days=7,
    wear_scale=16.0,
)

PIPELINE = """\
[site]
name = "dist"
[twin]
wear_scale = 16.0
particles = 40
samples = 30
[models]
dir = "{models}"
[dask]
workers = 2
systems_per_task = 3
"""


@pytest.fixture(scope="session")
def dist_fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist") / "fleet"
    simulate_fleet(out, FLEET)
    return out


@pytest.fixture(scope="session")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pipeline")
    path = folder / "dist.toml"
    path.write_text(PIPELINE.format(models=folder / "models"), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def dist_config(pipeline: Path) -> PipelineConfig:
    return load_pipeline(pipeline)


@pytest.fixture(scope="module")
def dask_engine(dist_config: PipelineConfig) -> Iterator[DaskEngine]:
    """A LocalCluster of two worker processes, shared by the tests of a module."""
    engine = DaskEngine.start(dist_config)
    yield engine
    engine.close()
