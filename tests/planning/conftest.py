"""Fixtures for planning tests: a migrated store with a small fleet, forecasts, config."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from equiptwin.config import PipelineConfig, defaults
from equiptwin.forecast import Driver, FailureForecast
from equiptwin.store import db
from equiptwin.store.schema import Appointment, ComponentLife, System
from tests.planning.fakes import SmtpServer

AS_OF = dt.date(2026, 3, 2)  # a Monday
NOW = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC)
TZ = "Europe/Amsterdam"

FLEET = [
    ("CT-AMS-01", "AMS", "CT", "xray_tube"),
    ("CT-AMS-02", "AMS", "CT", "xray_tube"),
    ("CT-UTR-01", "UTR", "CT", "xray_tube"),
    ("MR-AMS-01", "AMS", "MR", "coldhead"),
]


def life_of(system_id: str) -> str:
    return f"{system_id}/L1"


def config_with(**values: Any) -> PipelineConfig:
    """Defaults with some settings replaced (dotted keys with `__` for dots)."""
    base = defaults()
    merged = dict(base.values) | {k.replace("__", "."): v for k, v in values.items()}
    return PipelineConfig(merged, dict(base.sections), "test")


def with_sections(config: PipelineConfig, **sections: Any) -> PipelineConfig:
    return PipelineConfig(config.values, sections, "test")


@pytest.fixture
def engine(store_url: str) -> sa.Engine:
    """A migrated store (SQLite, and PostgreSQL where reachable) holding the fleet."""
    engine = db.open_store(store_url)
    with engine.begin() as conn:
        for system_id, site, modality, component in FLEET:
            conn.execute(
                sa.insert(System).values(
                    system_id=system_id,
                    site=site,
                    modality=modality,
                    manufacturer="Acme",
                    model="M",
                    installed_on=dt.date(2020, 1, 1),
                    timezone=TZ,
                )
            )
            conn.execute(
                sa.insert(ComponentLife).values(
                    life_id=life_of(system_id),
                    system_id=system_id,
                    component=component,
                    component_model="T1",
                    installed_on=dt.date(2021, 1, 1),
                    ended_on=None,
                    end_reason=None,
                    end_work_order=None,
                )
            )
    return engine


def forecast(
    system_id: str = "CT-AMS-01",
    p: tuple[float, float, float] = (0.1, 0.3, 0.6),
    as_of: dt.date = AS_OF,
    window_days: int | None = 10,
    drivers: tuple[Driver, ...] = (Driver("ev_2301_sum_7d", 0.8, "arc rate 9/day"),),
    **changes: Any,
) -> FailureForecast:
    component = "coldhead" if system_id.startswith("MR") else "xray_tube"
    base = FailureForecast(
        as_of=as_of,
        system_id=system_id,
        component=component,
        life_id=life_of(system_id),
        horizons_days=(7, 14, 30),
        p_fail=p,
        window_start=None if window_days is None else as_of + dt.timedelta(days=window_days),
        window_end=None if window_days is None else as_of + dt.timedelta(days=window_days + 12),
        window_coverage=0.8,
        median_days_left=20.0,
        drivers=drivers,
        model_version="gbm-2026.03.01",
    )
    return dataclasses.replace(base, **changes)


def book(
    engine: sa.Engine,
    appointment_id: str,
    system_id: str,
    start: dt.datetime,
    duration_min: int = 20,
    priority: str = "outpatient",
) -> None:
    site = next(s for s_id, s, _, _ in FLEET if s_id == system_id)
    modality = next(m for s_id, _, m, _ in FLEET if s_id == system_id)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Appointment).values(
                appointment_id=appointment_id,
                system_id=system_id,
                site=site,
                modality=modality,
                start=start.astimezone(dt.UTC).replace(tzinfo=None),
                duration_min=duration_min,
                priority=priority,
                exam_code="X1",
                patient_ref="h:abc",
            )
        )


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on a local port, stopped after the test."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()
