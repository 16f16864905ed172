from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from equiptwin.forecast import Driver
from equiptwin.planning.policy import PRIORITIES
from equiptwin.planning.tickets import (
    close_replaced,
    dedup_key,
    recommended_action,
    update_tickets,
)
from equiptwin.store import db
from equiptwin.store.schema import ComponentLife, OutboxMessage, System, Ticket

from .conftest import AS_OF, config_with, forecast, life_of

CFG = config_with(sinks__enabled=["file", "email"])
DAY = dt.timedelta(days=1)


def _tickets(engine: sa.Engine) -> list[Ticket]:
    with sa.orm.Session(engine) as s:
        return list(s.scalars(sa.select(Ticket)))


def _outbox(engine: sa.Engine) -> list[tuple[str, int, str]]:
    with engine.connect() as c:
        rows = c.execute(
            sa.select(OutboxMessage.dedup_key, OutboxMessage.revision, OutboxMessage.sink)
        )
        return sorted(tuple(r) for r in rows)


def test_opens_one_ticket_with_an_outbox_message_per_sink(engine: sa.Engine) -> None:
    changes = update_tickets(
        engine, [forecast(), forecast("CT-AMS-02", p=(0, 0.01, 0.02), window_days=None)], CFG
    )
    key = dedup_key("CT-AMS-01", "xray_tube", life_of("CT-AMS-01"))
    assert [(c.dedup_key, c.revision, c.kind) for c in changes] == [(key, 1, "opened")]
    (ticket,) = _tickets(engine)
    assert ticket.status == "open" and ticket.priority == "high"  # window in 10 days
    for field in (
        "p_fail_7d",
        "p_fail_14d",
        "p_fail_30d",
        "window_start",
        "model_version",
        "recommended_action",
        "evidence",
        "opened_as_of",
        "urgency",
        "impact",
    ):
        assert field in ticket.payload
    assert ticket.payload["evidence"] == ["arc rate 9/day"]
    assert _outbox(engine) == [(key, 1, "email"), (key, 1, "file")]


def test_same_forecast_twice_issues_nothing(engine: sa.Engine) -> None:
    update_tickets(engine, [forecast()], CFG)
    assert update_tickets(engine, [forecast()], CFG) == []
    # a new day with the same figures is not material either
    assert update_tickets(engine, [forecast(as_of=AS_OF + DAY, window_days=9)], CFG) == []
    assert len(_outbox(engine)) == 2


def test_small_moves_wait_large_moves_update_and_risk_escalates(engine: sa.Engine) -> None:
    update_tickets(engine, [forecast(p=(0.1, 0.3, 0.6), window_days=None)], CFG)
    assert update_tickets(engine, [forecast(p=(0.1, 0.33, 0.6), window_days=None)], CFG) == []
    (upd,) = update_tickets(engine, [forecast(p=(0.1, 0.4, 0.6), window_days=None)], CFG)
    assert (upd.revision, upd.kind, upd.priority) == (2, "updated", "low")
    (esc,) = update_tickets(engine, [forecast(p=(0.5, 0.85, 0.9), window_days=None)], CFG)
    assert (esc.revision, esc.kind, esc.priority) == (3, "escalated", "critical")
    # the forecast falls: the figures update, the priority does not drop
    (fall,) = update_tickets(engine, [forecast(p=(0.0, 0.1, 0.2), window_days=None)], CFG)
    assert (fall.kind, fall.priority) == ("updated", "critical")
    (ticket,) = _tickets(engine)
    assert ticket.revision == 4 and ticket.payload["p_fail_14d"] == 0.1
    assert ticket.payload["opened_as_of"] == AS_OF.isoformat()
    assert len(_outbox(engine)) == 8


def test_closed_on_replacement_with_a_note_and_never_reopened(engine: sa.Engine) -> None:
    update_tickets(engine, [forecast()], CFG)
    assert close_replaced(engine, AS_OF + DAY, CFG) == []
    with engine.begin() as c:
        c.execute(
            sa.update(ComponentLife)
            .where(ComponentLife.life_id == life_of("CT-AMS-01"))
            .values(ended_on=AS_OF + DAY, end_reason="censored", end_work_order="WO-77")
        )
    assert close_replaced(engine, AS_OF + DAY, CFG) == []  # not before as_of yet
    (closed,) = close_replaced(engine, AS_OF + 2 * DAY, CFG)
    assert (closed.kind, closed.revision) == ("closed", 2)
    (ticket,) = _tickets(engine)
    assert ticket.status == "closed" and ticket.closed_as_of == AS_OF + 2 * DAY
    assert "WO-77" in ticket.payload["note"] and "preventively" in ticket.payload["note"]
    assert close_replaced(engine, AS_OF + 3 * DAY, CFG) == []
    assert update_tickets(engine, [forecast(as_of=AS_OF + 3 * DAY, p=(0.9, 0.95, 0.99))], CFG) == []
    assert len(_outbox(engine)) == 4


def test_recommended_action_names_the_chiller_when_cooling_drives_the_risk() -> None:
    assert recommended_action(forecast()) == "replace X-ray tube"
    assert recommended_action(forecast("MR-AMS-01")) == "service cold head"
    cooling = (Driver("chiller_flow_lpm_min_7d", 0.5, "chiller flow low"),)
    assert recommended_action(forecast("MR-AMS-01", drivers=cooling)).startswith("check chiller")


def test_changes_are_all_or_nothing(engine: sa.Engine) -> None:
    bad = forecast("XR-NOPE-01")
    try:
        update_tickets(engine, [forecast(), bad], CFG)
    except KeyError as exc:
        assert "XR-NOPE-01" in str(exc)
    else:
        raise AssertionError("unknown system accepted")
    assert _tickets(engine) == [] and _outbox(engine) == []


def test_unknown_life_is_named(engine: sa.Engine) -> None:
    with pytest.raises(KeyError, match="CT-AMS-01/L9"):
        update_tickets(engine, [forecast(life_id="CT-AMS-01/L9")], CFG)


@st.composite
def forecast_days(draw: st.DrawFn) -> list[tuple[float, float, float]]:
    days = []
    for _ in range(draw(st.integers(1, 8))):
        p7 = draw(st.floats(0, 1))
        p14 = draw(st.floats(p7, 1))
        days.append((p7, p14, draw(st.floats(p14, 1))))
    return days


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(forecast_days())
def test_ticket_history_invariants(days: list[tuple[float, float, float]]) -> None:
    """Whatever the forecasts: one ticket, revisions 1..n with an outbox row per sink each,
    priorities never fall, and repeating a day's forecast issues nothing."""
    engine = db.open_store("sqlite://")
    with engine.begin() as c:
        c.execute(
            sa.insert(System).values(
                system_id="CT-AMS-01",
                site="AMS",
                modality="CT",
                manufacturer="A",
                model="M",
                installed_on=None,
                timezone="UTC",
            )
        )
        c.execute(
            sa.insert(ComponentLife).values(
                life_id=life_of("CT-AMS-01"),
                system_id="CT-AMS-01",
                component="xray_tube",
                installed_on=AS_OF,
            )
        )
    ranks = []
    for i, p in enumerate(days):
        f = forecast(p=p, as_of=AS_OF + i * DAY, window_days=None)
        update_tickets(engine, [f], CFG)
        assert update_tickets(engine, [f], CFG) == []
        tickets = _tickets(engine)
        assert len(tickets) <= 1
        if tickets:
            ranks.append(PRIORITIES.index(tickets[0].priority))
    assert ranks == sorted(ranks)
    tickets = _tickets(engine)
    revisions = tickets[0].revision if tickets else 0
    key = dedup_key("CT-AMS-01", "xray_tube", life_of("CT-AMS-01"))
    expected = sorted((key, r, s) for r in range(1, revisions + 1) for s in ("email", "file"))
    assert _outbox(engine) == expected
