"""The report on a real store: a small simulated fleet, ingested and forecast with the
committed sample model, so curves are recomputed and trends come from the archive."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from equiptwin.clock import fixed_clock
from equiptwin.config import PipelineConfig, defaults
from equiptwin.features.frame import data_range, system_daily
from equiptwin.forecasting import run_forecast
from equiptwin.ingest.run import ingest
from equiptwin.outputs.at_risk import at_risk_details, recomputed_curves
from equiptwin.outputs.report import write_report
from equiptwin.outputs.report_data import fleet_rows
from equiptwin.sim.fleet import simulate_fleet
from equiptwin.sim.spec import FleetSpec, parse_mix
from equiptwin.store import db
from equiptwin.store.archive import open_archive
from tests.outputs.conftest import REPO, Scan

pytestmark = pytest.mark.slow
MODEL = REPO / "models" / "sample-2026-10-01"
NOW = dt.datetime(2026, 11, 21, 6, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> PipelineConfig:
    base = defaults()
    values = {
        **base.values,
        "twin.wear_scale": 8.0,
        "twin.particles": 100,
        "twin.samples": 60,
        "models.dir": str(MODEL.parent),
        "outputs.dir": str(tmp_path_factory.mktemp("out")),
        "report.at_risk_p30": 1e-6,  # every component with a curve gets its section
        "report.trend_days": 45,
    }
    return dataclasses.replace(base, values=values)


@pytest.fixture(scope="module")
def engine(config: PipelineConfig, tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    fleet = tmp_path_factory.mktemp("fleet") / "fleet"
    spec = FleetSpec(
        n_systems=3,
        days=180,
        seed=2718,
        start=dt.date(2026, 1, 5),
        mix=parse_mix("CT=0.34,XR=0.33,MR=0.33"),
        volume="reduced",
        booking_days=14,
        wear_scale=8.0,
    )
    simulate_fleet(fleet, spec, workers=1, force=False)
    store = db.open_store(f"sqlite:///{tmp_path_factory.mktemp('store') / 'store.sqlite'}")
    ingest(store, fleet, config, fixed_clock(NOW))
    yield store
    store.dispose()


def test_recomputed_curves_meet_the_stored_forecasts_and_trends_are_drawn(
    engine: sa.Engine, config: PipelineConfig, tmp_path: Path
) -> None:
    as_of = data_range(engine)[1] + dt.timedelta(days=1)
    run = run_forecast(engine, config, as_of, model_dir=MODEL)
    assert run.forecasts
    details = at_risk_details(engine, config, fleet_rows(engine, config, as_of))
    # The twin-scaled curve is 0 where the twin's Monte Carlo sees no failure in 30 days.
    at_risk = config["report.at_risk_p30"]
    reaching = {f.life_id for f in run.forecasts if f.p_within(30) >= at_risk}
    assert reaching
    assert {d.row.forecast.life_id for d in details} == reaching
    for item in details:
        assert item.curve_recomputed
        assert item.curve.horizons_days.tolist() == list(range(1, 31))
        stored = item.row.forecast
        for h, p in zip(stored.horizons_days, stored.p_fail, strict=True):
            assert np.isclose(item.curve.p_fail(float(h))[0], p, atol=1e-9)
        assert len(item.daily) == config["report.trend_days"]
        assert item.daily.index.max() == np.datetime64(as_of - dt.timedelta(days=1))
        assert item.daily.notna().any().any()
    for f in (f for f in run.forecasts if f.life_id in reaching):  # alone = among the fleet
        (alone,) = recomputed_curves(engine, config, as_of, [f]).values()
        together = next(d.curve for d in details if d.row.forecast.life_id == f.life_id)
        assert np.array_equal(alone.survival, together.survival)
    path = write_report(engine, config, as_of, tmp_path, NOW)
    html = path.read_text(encoding="utf-8")
    sections = re.findall(r'<section class="component".*?</section>', html, flags=re.S)
    assert len(sections) == len(reaching)
    for section in sections:
        assert "recomputed from the same data the forecast used" in section
        alts = [a["alt"] for a in Scan(section).having("src", "img")]
        assert any(a.startswith("Survival curve") for a in alts)
        assert any(a.startswith("Indicator and event trends") for a in alts)
    assert write_report(engine, config, as_of, tmp_path, NOW).read_text("utf-8") == html


def test_a_later_window_reads_exposure_times_against_the_same_reference(
    engine: sa.Engine, config: PipelineConfig
) -> None:
    first, last = data_range(engine)
    archive = open_archive(engine, str(config["store.archive_dir"]))
    whole = system_daily(engine, archive, first, last)["exposure_stretch"].dropna()
    later = system_daily(engine, archive, first + dt.timedelta(days=60), last)
    assert whole.index.get_level_values("system_id").str.startswith("XR").all()
    assert len(later["exposure_stretch"].dropna()) > 20
    shared = later["exposure_stretch"].dropna()
    assert shared.equals(whole.loc[shared.index])
