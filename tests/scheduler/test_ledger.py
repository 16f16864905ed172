from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from equiptwin.scheduler import ledger
from equiptwin.store import db as store_db

T0 = dt.datetime(2026, 10, 1, 3, tzinfo=dt.UTC)


def test_attempts_are_numbered_and_a_success_closes_the_period(store_url: str) -> None:
    engine = store_db.open_store(store_url)
    first = ledger.start(engine, "daily", "2026-10-01", "a", T0)
    ledger.finish(engine, first, T0 + dt.timedelta(seconds=5), error="OSError: disk full")
    assert not ledger.is_done(engine, "daily", "2026-10-01")
    second = ledger.start(engine, "daily", "2026-10-01", "a", T0 + dt.timedelta(minutes=5))
    ledger.finish(engine, second, T0 + dt.timedelta(minutes=6), summary="12 forecasts")
    assert ledger.is_done(engine, "daily", "2026-10-01")
    assert not ledger.is_done(engine, "daily", "2026-10-02")
    runs = ledger.history(engine)
    assert [(r.attempt, r.status, r.duration_s) for r in runs] == [
        (2, "succeeded", 60.0),
        (1, "failed", 5.0),
    ]
    assert runs[1].error == "OSError: disk full"


def test_two_writers_cannot_claim_the_same_attempt(store_url: str) -> None:
    engine = store_db.open_store(store_url)
    ledger.start(engine, "report", "2026-10-01", "a", T0)
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO job_runs (job, run_key, attempt, holder, started_at, status) "
                "VALUES ('report', '2026-10-01', 1, 'b', :at, 'running')"
            ),
            {"at": T0.replace(tzinfo=None)},
        )


def test_only_other_holders_running_attempts_are_abandoned(store_url: str) -> None:
    engine = store_db.open_store(store_url)
    ledger.start(engine, "daily", "2026-10-01", "dead", T0)
    ledger.start(engine, "ingest", "2026-10-01T03:00Z", "me", T0)
    assert ledger.abandon_stale(engine, "me", T0 + dt.timedelta(hours=1)) == 1
    status = {r.job: r.status for r in ledger.history(engine)}
    assert status == {"daily": "abandoned", "ingest": "running"}
