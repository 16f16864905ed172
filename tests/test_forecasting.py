"""The forecast stage end to end on a small simulated fleet: as-of honesty, training,
forecasts, backtest. One module-scoped fleet and store keep it to about a minute."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from equiptwin.clock import fixed_clock
from equiptwin.config import PipelineConfig, defaults
from equiptwin.evaluate.backtest import EQUIPTWIN, MODELS, run_backtest
from equiptwin.evaluate.truth import read_truth_lives
from equiptwin.features.frame import data_range, read_lives, store_features
from equiptwin.features.whatif import twin_days_gained
from equiptwin.forecast import FailureForecast
from equiptwin.forecasting import FORECAST_CSV_COLUMNS, run_forecast, write_forecasts_csv
from equiptwin.ingest.run import ingest
from equiptwin.sim.fleet import simulate_fleet
from equiptwin.sim.spec import FleetSpec, parse_mix
from equiptwin.store import db
from equiptwin.store.schema import Forecast
from equiptwin.survival.training import landmark_data, train_from_store

pytestmark = pytest.mark.slow
NOW = dt.datetime(2026, 11, 21, 6, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fleet") / "fleet"
    spec = FleetSpec(
        n_systems=6,
        days=300,
        seed=314,
        start=dt.date(2025, 3, 1),
        mix=parse_mix("CT=0.5,MR=0.5"),
        volume="reduced",
        booking_days=30,
        wear_scale=12.0,
    )
    simulate_fleet(out, spec, workers=1, force=False)
    return out


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> PipelineConfig:
    base = defaults()
    values = {
        **base.values,
        "twin.wear_scale": 12.0,
        "twin.particles": 150,
        "twin.samples": 100,
        "models.dir": str(tmp_path_factory.mktemp("models")),
    }
    return dataclasses.replace(base, values=values)


@pytest.fixture(scope="module")
def engine(
    fleet: Path, config: PipelineConfig, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[sa.Engine]:
    url = f"sqlite:///{tmp_path_factory.mktemp('store') / 'store.sqlite'}"
    store = db.open_store(url)
    ingest(store, fleet, config, fixed_clock(NOW))
    yield store
    store.dispose()


def test_a_day_s_features_do_not_depend_on_later_data(
    engine: sa.Engine, config: PipelineConfig
) -> None:
    first, last = data_range(engine)
    day = first + dt.timedelta(days=150)
    alone = store_features(engine, config, day, day + dt.timedelta(days=1))
    wide = store_features(engine, config, day - dt.timedelta(days=5), last)
    same_day = wide[wide["day"] == pd.Timestamp(day)].reset_index(drop=True)
    pd.testing.assert_frame_equal(alone.reset_index(drop=True), same_day[alone.columns])


def test_landmark_rows_have_features_and_targets(engine: sa.Engine, config: PipelineConfig) -> None:
    first, last = data_range(engine)
    features = store_features(engine, config, first, last)
    data = landmark_data(features, read_lives(engine), data_end=last)
    assert len(data.rows) == len(data.X) == len(data.y) > 0
    assert data.y.event.any()
    assert (data.rows["as_of"] < pd.Timestamp(last)).all()


def test_train_forecast_and_export(
    engine: sa.Engine, config: PipelineConfig, tmp_path: Path
) -> None:
    last = data_range(engine)[1]
    folder = train_from_store(engine, config, data_end=None, model_version="t1", created_at=NOW)
    assert (folder / "model_card.json").is_file()
    as_of = last + dt.timedelta(days=1)
    run = run_forecast(engine, config, as_of)
    assert run.forecasts and all(isinstance(f, FailureForecast) for f in run.forecasts)
    assert {f.as_of for f in run.forecasts} == {as_of}
    assert all(f.drivers for f in run.forecasts)
    again = run_forecast(engine, config, as_of)
    assert again.forecasts == run.forecasts
    with engine.connect() as conn:
        stored = conn.execute(sa.select(sa.func.count()).select_from(Forecast)).scalar_one()
    assert stored == len(run.forecasts)
    path = write_forecasts_csv(engine, run.forecasts, tmp_path / "forecasts.csv")
    table = pd.read_csv(path)
    assert list(table.columns) == list(FORECAST_CSV_COLUMNS)
    p = table[["p_fail_7d", "p_fail_14d", "p_fail_30d"]].to_numpy()
    assert ((p >= 0) & (p <= 1)).all() and (np.diff(p, axis=1) >= 0).all()


def test_backtest_scores_every_model(
    engine: sa.Engine, config: PipelineConfig, fleet: Path, tmp_path: Path
) -> None:
    first, last = data_range(engine)
    short = dataclasses.replace(
        config,
        values={**config.values, "backtest.min_train_days": 120, "backtest.retrain_days": 60},
        sections={
            **config.sections,
            "policy_overrides": {"modality": {"MR": {"horizon_days": 30, "p_open": 0.05}}},
        },
    )
    result = run_backtest(
        engine,
        short,
        start=first + dt.timedelta(days=120),
        end=last + dt.timedelta(days=1),
        out_dir=tmp_path,
        truth_lives=read_truth_lives(fleet / "_truth" / "lives.csv"),
    )
    assert EQUIPTWIN in set(result.scores["model"])
    assert set(result.scores["model"]) == set(MODELS)
    # With the truth, concordance is also scored with sudden failures read as censored.
    assert result.scores["concordance_precursor"].between(0.0, 1.0).all()
    for name in ("forecasts.csv", "scores.csv", "alerts.csv", "evaluation.json", "matched.csv"):
        assert (tmp_path / name).is_file()
    # Every model at every ticket threshold; every other one matched to equiptwin twice.
    assert set(result.operating_points["model"]) == set(MODELS)
    assert len(result.matched) == 2 * (len(MODELS) - 1)
    assert EQUIPTWIN not in set(result.matched["model"])
    replayed = pd.read_csv(tmp_path / "forecasts.csv")
    assert (pd.to_datetime(replayed["as_of"]) >= pd.Timestamp(first + dt.timedelta(days=120))).all()
    # The alert is each system's ticket rule, with the pipeline's [policy_overrides].
    mr = replayed["system_id"].str.startswith("MR")
    window = pd.to_datetime(replayed["window_start"]) - pd.to_datetime(replayed["as_of"])
    p = np.where(mr, replayed["p_fail_30d"] >= 0.05, replayed["p_fail_14d"] >= 0.2)
    assert mr.any() and (replayed["alert"] == (p | (window.dt.days <= 14))).all()
    assert (
        "P(fail within 30 d) >= 0.05"
        in json.loads((tmp_path / "evaluation.json").read_text())["alert_rule"]
    )


def test_twin_days_gained_from_the_store(engine: sa.Engine, config: PipelineConfig) -> None:
    """The load-shift estimator replays a stored tube: no load off gains 0, more never less."""
    as_of = data_range(engine)[1] + dt.timedelta(days=1)
    estimate = twin_days_gained(engine, config, as_of)
    lives = read_lives(engine)
    tubes = lives[(lives["component"] == "xray_tube") & lives["ended_on"].isna()]
    assert len(tubes)
    for row in tubes.itertuples():
        forecast = FailureForecast(
            as_of=as_of,
            system_id=str(row.system_id),
            component="xray_tube",
            life_id=str(row.life_id),
            horizons_days=(7, 14, 30),
            p_fail=(0.0, 0.0, 0.0),
            window_start=None,
            window_end=None,
            window_coverage=0.8,
            median_days_left=None,
            drivers=(),
            model_version="test",
        )
        none = estimate(forecast, 0.0, as_of + dt.timedelta(days=20))
        most = estimate(forecast, 0.9, as_of + dt.timedelta(days=20))
        assert (none is None) == (most is None)
        if none is not None and most is not None:
            assert none == 0.0 and most >= 0.0
    unknown = dataclasses.replace(forecast, life_id="no-such-life")
    assert estimate(unknown, 0.5, as_of) is None
