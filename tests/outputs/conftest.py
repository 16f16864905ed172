"""Fixtures for output tests: the planning store, and a store with one planned day."""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest
import sqlalchemy as sa

from equiptwin.config import PipelineConfig
from equiptwin.forecast import Driver, FailureForecast
from equiptwin.forecasting import mark_alerts, open_ticket_lives, store_forecasts
from equiptwin.planning.plan import DayPlan, plan_day
from tests.planning.conftest import AS_OF, NOW, book, config_with, engine, forecast, smtp
from tests.planning.test_plan import local

__all__ = ["engine", "smtp"]

REPO = Path(__file__).resolve().parents[2]

FORECASTS = (
    # an open ticket (P14 above policy.p_open), a window and an escaped driver text
    forecast(
        "CT-AMS-01",
        p=(0.6, 0.85, 0.95),
        drivers=(
            Driver("ev_2301_sum_7d", 0.8, "arc rate 9/day <b>up</b> from 0.3 three weeks ago"),
            Driver("twin_health", -0.2, "twin health index 0.4"),
        ),
    ),
    forecast("CT-UTR-01", p=(0.05, 0.1, 0.3), window_days=None),  # at risk by P30 only
    forecast("CT-AMS-02", p=(0.01, 0.02, 0.04), window_days=None),
    forecast("MR-AMS-01", p=(0.0, 0.0, 0.01), window_days=None),
)


@dataclass(frozen=True)
class PlannedDay:
    """A store after one day's forecast and plan, with the settings a report needs."""

    engine: sa.Engine
    config: PipelineConfig
    plan: DayPlan
    forecasts: tuple[FailureForecast, ...]
    out_dir: Path


def write_evaluation(path: Path, model: str, mtime_s: float) -> Path:
    """Write a backtest evaluation.json as run_backtest writes it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scores = {
        "model": model,
        "concordance": 0.71,
        "integrated_brier": 0.031,
        "td_auc_mean": 0.74,
        "calibration_error": 0.02,
        "rows": 900,
    }
    alerts = {
        "model": model,
        "modality": "all",
        "component": "all",
        "n_failures": 4,
        "n_alerted": 3,
        "median_lead_days": 9.0,
        "false_alerts_per_system_year": 0.5,
    }
    matched = {
        "model": model,
        "matched_on": "false alerts",
        "matched": True,
        "n_failures": 4,
        "n_alerted": 1,
    }
    data = {
        "period": ["2026-02-01", "2026-03-01"],
        "alert_rule": "P(fail within 14 d) >= 0.2",
        "scores": [scores],
        "alerts": [alerts],
        "matched_to_equiptwin": [matched],
    }
    path.write_text(json.dumps(data), encoding="utf-8")
    os.utime(path, (mtime_s, mtime_s))
    return path


@pytest.fixture
def planned(engine: sa.Engine, tmp_path: Path) -> PlannedDay:
    """CT-AMS-01 fully booked Mon-Tue and at high risk: a ticket, a slot and moved exams."""
    for day in (2, 3):
        at = local(day, 7)
        while at < local(day, 19):
            book(engine, f"A{day}{at:%H%M}", "CT-AMS-01", at, 20)
            at += dt.timedelta(minutes=20)
    out = tmp_path / "out"
    write_evaluation(out / "backtest" / "old" / "evaluation.json", "old model", 1_000_000)
    write_evaluation(out / "backtest" / "new" / "evaluation.json", "newest model", 2_000_000)
    config = config_with(
        models__dir=str(REPO / "models"),
        outputs__dir=str(out),
        report__at_risk_p30=0.2,
        report__trend_days=30,
    )
    store_forecasts(engine, FORECASTS)
    plan = plan_day(engine, FORECASTS, AS_OF, config, NOW)
    mark_alerts(engine, AS_OF, open_ticket_lives(engine))
    return PlannedDay(engine, config, plan, FORECASTS, out)


class Scan(HTMLParser):
    """Collects what the report tests read: attributes of every tag, and the text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def having(self, attribute: str, tag: str | None = None) -> list[dict[str, str]]:
        return [a for t, a in self.tags if attribute in a and (tag is None or t == tag)]

    @property
    def words(self) -> str:
        return " ".join(" ".join(self.text).split())
