"""Weekly retraining with champion and challenger.

The champion is the registry's newest model (the one forecasts use). When its training
data ends ``jobs.retrain.every_days`` or more before the day, a challenger is trained
with the default recipe on the store's data before a cut ``jobs.retrain.holdout_days``
before the day, into ``<models.dir>/.challengers/``. Both are scored by the backtest's
:func:`~equiptwin.evaluate.backtest.score` on the same held-out days after the cut.
The challenger is promoted (moved into the registry, where it becomes the newest model)
only when it is no worse on ``jobs.retrain.metric``; otherwise it stays under
``.challengers/`` (which the registry skips). Either way ``decision.json`` beside its
model card records both scores and the reason.

The champion may have learnt from the held-out days (it was trained before them or on
them); a comparison on them can only favour it, so a promotion is conservative.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from equiptwin.config import PipelineConfig
from equiptwin.evaluate.alerts import ticket_alerts
from equiptwin.evaluate.backtest import forecast_rows, score, system_policies
from equiptwin.features.frame import data_range, read_lives, store_features
from equiptwin.forecasting import latest_model
from equiptwin.store.artifacts import load_model, read_card
from equiptwin.survival.training import feature_columns, landmark_data, train_and_save

CHALLENGERS = ".challengers"
DECISION_FILE = "decision.json"
HIGHER_IS_BETTER = {
    "concordance": True,
    "td_auc_mean": True,
    "integrated_brier": False,
    "calibration_error": False,
}


@dataclass(frozen=True)
class RetrainDecision:
    """What one retraining decided.

    Parameters
    ----------
    as_of : str
        The day of the decision (ISO date).
    champion : str
        The champion's model version.
    challenger : str or None
        The challenger's version; ``None`` when none was trained (not due).
    metric : str
        The deciding score.
    champion_score, challenger_score : float or None
        Both on the held-out days; ``None`` when not computed or undefined.
    promoted : bool
        Whether the challenger became the champion.
    reason : str
        Why, in words.
    folder : str or None
        Where the challenger is now.
    """

    as_of: str
    champion: str
    challenger: str | None
    metric: str
    champion_score: float | None
    challenger_score: float | None
    promoted: bool
    reason: str
    folder: str | None

    def describe(self) -> str:
        """Return a one-line summary for the job history."""
        if self.challenger is None:
            return f"no retraining: {self.reason}"
        verdict = "promoted" if self.promoted else "kept aside"
        return f"challenger {self.challenger} {verdict} ({self.reason}) -> {self.folder}"


def decide(metric: str, champion: float | None, challenger: float | None) -> tuple[bool, str]:
    """Return whether the challenger is no worse than the champion on ``metric``, and why.

    Parameters
    ----------
    metric : str
        A key of :data:`HIGHER_IS_BETTER`.
    champion, challenger : float or None
        Held-out scores; ``None`` or NaN when undefined.

    Returns
    -------
    promoted : bool
    reason : str
    """
    if metric not in HIGHER_IS_BETTER:
        raise ValueError(
            f"`metric` must be one of {sorted(HIGHER_IS_BETTER)}, but found {metric!r}."
        )
    if challenger is None or math.isnan(challenger):
        return False, f"challenger {metric} undefined on the held-out days"
    if champion is None or math.isnan(champion):
        return (
            True,
            f"champion {metric} undefined on the held-out days, challenger {challenger:.4f}",
        )
    higher = HIGHER_IS_BETTER[metric]
    no_worse = challenger >= champion if higher else challenger <= champion
    relation = "no worse than" if no_worse else "worse than"
    return no_worse, f"{metric} {challenger:.4f} {relation} champion's {champion:.4f}"


def retrain_if_due(
    engine: sa.Engine, config: PipelineConfig, as_of: dt.date, now: dt.datetime
) -> RetrainDecision:
    """Train and judge a challenger when the champion's data is old enough.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store.
    config : PipelineConfig
        Settings (``jobs.retrain.*``, ``models.dir``, ``forecast.*``, ``policy.*``,
        ``backtest.min_train_days``).
    as_of : datetime.date
        The day: data before it is used.
    now : datetime.datetime
        Aware time (the challenger's creation time).

    Returns
    -------
    RetrainDecision
    """
    models_dir = Path(str(config["models.dir"]))
    champion_dir = latest_model(models_dir)
    champion = read_card(champion_dir)
    metric = str(config["jobs.retrain.metric"])
    age = (as_of - dt.date.fromisoformat(champion.training_end)).days
    if age < int(config["jobs.retrain.every_days"]):
        reason = (
            f"champion {champion.model_version} learnt from data to {champion.training_end}, "
            f"{age} days before {as_of} (retrain after {config['jobs.retrain.every_days']})"
        )
        return RetrainDecision(
            as_of.isoformat(), champion.model_version, None, metric, None, None, False, reason, None
        )
    first, last = data_range(engine)
    end = min(as_of, last + dt.timedelta(days=1))
    cut = end - dt.timedelta(days=int(config["jobs.retrain.holdout_days"]))
    if (cut - first).days < int(config["backtest.min_train_days"]):
        raise ValueError(
            f"retraining on {as_of} needs {config['backtest.min_train_days']} days of history "
            f"before the held-out days from {cut}; the store starts on {first}. Lower "
            "`jobs.retrain.holdout_days` or wait for more data."
        )
    features = store_features(engine, config, first, end)
    lives = read_lives(engine)
    horizons = list(config["forecast.horizons_days"])
    days = pd.to_datetime(features["day"])
    version = f"{config['site.name']}-{cut.isoformat()}"
    staging = models_dir / CHALLENGERS
    shutil.rmtree(staging / version, ignore_errors=True)  # a failed earlier attempt's
    challenger_dir = train_and_save(
        features[days < pd.Timestamp(cut)],
        lives,
        data_end=cut,
        horizons_days=horizons,
        models_dir=staging,
        model_version=version,
        created_at=now,
    )
    test = landmark_data(features[days >= pd.Timestamp(cut)], lives, data_end=end)
    columns = feature_columns(features)
    rows = [
        forecast_rows(
            name,
            load_model(folder, available_features=columns)[0],
            test,
            horizons,
            float(config["forecast.window_coverage"]),
        )
        for name, folder in (("champion", champion_dir), ("challenger", challenger_dir))
    ]
    scores = _scores(
        pd.concat(rows, ignore_index=True), features, lives, cut, end, horizons, config, metric
    )
    promoted, reason = decide(metric, scores.get("champion"), scores.get("challenger"))
    final = models_dir / version if promoted else challenger_dir
    if promoted and final.exists():
        promoted, reason = False, f"{reason}, but {final} exists already"
        final = challenger_dir
    decision = RetrainDecision(
        as_of.isoformat(),
        champion.model_version,
        version,
        metric,
        scores.get("champion"),
        scores.get("challenger"),
        promoted,
        reason,
        str(final),
    )
    (challenger_dir / DECISION_FILE).write_text(
        json.dumps(asdict(decision), indent=2), encoding="utf-8"
    )
    if promoted:
        os.replace(challenger_dir, final)
    return decision


def _scores(
    forecasts: pd.DataFrame,
    features: pd.DataFrame,
    lives: pd.DataFrame,
    start: dt.date,
    end: dt.date,
    horizons: list[int],
    config: PipelineConfig,
    metric: str,
) -> dict[str, float | None]:
    if forecasts.empty:
        return {}
    alerts = ticket_alerts(forecasts, system_policies(lives, config))
    try:
        scores, _alerts = score(
            forecasts.assign(alert=alerts.to_numpy()),
            features,
            lives,
            start=start,
            end=end,
            horizons_days=horizons,
        )
    except ValueError:  # no failure among the held-out days: every score is undefined
        return {}
    return {str(row["model"]): float(row[metric]) for _, row in scores.iterrows()}
