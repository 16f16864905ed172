from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from pathlib import Path

import pytest

from equiptwin.config import PipelineConfig
from equiptwin.forecasting import latest_model
from equiptwin.scheduler.jobs import JobEnv
from equiptwin.scheduler.retrain import CHALLENGERS, DECISION_FILE, decide, retrain_if_due
from equiptwin.scheduler.runner import Runner
from equiptwin.store import db as store_db
from tests.scheduler.conftest import SAMPLE_LOGS, FakeClock, with_values


@pytest.mark.parametrize(
    ("metric", "champion", "challenger", "promoted"),
    [
        ("concordance", 0.70, 0.72, True),
        ("concordance", 0.70, 0.70, True),
        ("concordance", 0.70, 0.69, False),
        ("td_auc_mean", 0.80, 0.79, False),
        ("integrated_brier", 0.040, 0.035, True),
        ("integrated_brier", 0.040, 0.045, False),
        ("calibration_error", 0.10, 0.10, True),
        ("concordance", 0.70, None, False),
        ("concordance", 0.70, math.nan, False),
        ("concordance", None, 0.60, True),
    ],
    ids=[
        "better",
        "tie",
        "worse",
        "auc-worse",
        "brier-better",
        "brier-worse",
        "calib-tie",
        "challenger-undefined",
        "challenger-nan",
        "champion-undefined",
    ],
)
def test_a_challenger_is_promoted_only_when_no_worse(
    metric: str, champion: float | None, challenger: float | None, promoted: bool
) -> None:
    verdict, reason = decide(metric, champion, challenger)
    assert verdict is promoted
    assert metric in reason


def test_an_unknown_metric_is_refused() -> None:
    with pytest.raises(ValueError, match="`metric` must be one of"):
        decide("accuracy", 0.5, 0.6)


@pytest.mark.slow
def test_retraining_trains_scores_and_promotes_or_keeps_aside(
    sample_store: str, sample_config: PipelineConfig, tmp_path: Path
) -> None:
    config = with_values(sample_config, twin__particles=100, twin__samples=100)
    engine = store_db.open_store(sample_store)
    models = Path(str(config["models.dir"]))
    champion = latest_model(models)
    # the champion learnt from data to 2026-09-30: not due on 2026-10-01, due a week on
    early = retrain_if_due(
        engine, config, dt.date(2026, 10, 1), dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    )
    assert early.challenger is None and not early.promoted
    clock = FakeClock(dt.datetime(2026, 10, 11, 0, 0, tzinfo=dt.UTC))
    env = JobEnv(engine, config, SAMPLE_LOGS, tmp_path / "out", clock)
    outcome = Runner(env, holder="h").run("retrain", dt.datetime(2026, 10, 11, 2, tzinfo=dt.UTC))
    assert outcome.status == "succeeded", outcome.detail
    version = "sample-2026-09-03"  # data to 2026-09-30, 28 held-out days
    kept = models / CHALLENGERS / version
    promoted = models / version
    folder = promoted if promoted.exists() else kept
    decision = json.loads((folder / DECISION_FILE).read_text(encoding="utf-8"))
    assert decision["champion"] == champion.name and decision["challenger"] == version
    assert decision["metric"] == "concordance"
    assert (decision["promoted"], decision["reason"]) == decide(
        "concordance", decision["champion_score"], decision["challenger_score"]
    )
    assert decision["champion_score"] is not None  # the held-out days hold failures
    if decision["promoted"]:
        assert latest_model(models) == promoted and not kept.exists()
    else:
        assert latest_model(models) == champion and not promoted.exists()
    assert decision["reason"] in outcome.detail
    assert dataclasses.asdict(early)["reason"].startswith("champion sample-2026-10-01")
