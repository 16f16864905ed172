from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from equiptwin.planning.sinks import DeliveryError
from equiptwin.planning.webhook import WebhookSink, incident

from .fakes import FakeDesk
from .test_sinks import NOW, ticket

TOKEN = "s3cret-token-value"
ENV = "EQUIPTWIN_TEST_DESK_TOKEN"


@pytest.fixture
def desk(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDesk]:
    monkeypatch.setenv(ENV, TOKEN)
    with FakeDesk(TOKEN) as desk:
        yield desk


def _sink(desk: FakeDesk, pauses: list[float], tries: int = 4) -> WebhookSink:
    return WebhookSink(
        desk.url,
        token_env=ENV,
        timeout_s=5,
        tries=tries,
        backoff_s=1.0,
        sleep=pauses.append,
        rng=random.Random(1),
    )


def test_incident_has_the_servicenow_shape() -> None:
    fields = incident(ticket())
    assert fields["correlation_id"] == "CT-AMS-01:xray_tube:L1"
    assert fields["cmdb_ci"] == "CT-AMS-01"
    assert (fields["urgency"], fields["impact"]) == ("2", "2")
    assert "state" not in fields
    closed = incident(ticket(2, status="closed", note="Closed: WO-1"))
    assert closed["state"] == "6" and closed["close_notes"] == "Closed: WO-1"


def test_looks_up_before_create_then_updates(desk: FakeDesk) -> None:
    pauses: list[float] = []
    sink = _sink(desk, pauses)
    sink.send(ticket(1), NOW)
    sink.send(ticket(1), NOW)
    sink.send(ticket(2, priority="critical", urgency=1, note="Escalated"), NOW)
    (record,) = desk.state.incidents.values()
    assert record["urgency"] == "1" and record["u_equiptwin_revision"] == "2"
    assert record["notes"] == ["Opened.", "Escalated"]
    methods = [m for m, _ in desk.state.requests]
    assert methods == ["GET", "POST", "GET", "GET", "PATCH"]
    assert pauses == []


def test_lost_reply_after_create_does_not_duplicate(desk: FakeDesk) -> None:
    pauses: list[float] = []
    desk.state.lose_reply_next = 1
    _sink(desk, pauses).send(ticket(1), NOW)
    assert len(desk.state.by_correlation("CT-AMS-01:xray_tube:L1")) == 1
    assert len(pauses) == 1


def test_retries_with_growing_jittered_backoff(desk: FakeDesk) -> None:
    pauses: list[float] = []
    desk.state.fail_next = 3
    _sink(desk, pauses).send(ticket(1), NOW)
    assert len(desk.state.incidents) == 1
    assert len(pauses) == 3
    for i, pause in enumerate(pauses):
        assert 0.5 * 2**i <= pause < 2**i


def test_gives_up_after_its_tries_retryably_without_leaking_the_token(desk: FakeDesk) -> None:
    desk.state.fail_next = 10
    with pytest.raises(DeliveryError) as info:
        _sink(desk, [], tries=2).send(ticket(1), NOW)
    assert info.value.retryable and "HTTP 500" in str(info.value)
    assert TOKEN not in str(info.value)


def test_refused_request_is_not_retried(desk: FakeDesk, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "wrong")
    pauses: list[float] = []
    with pytest.raises(DeliveryError, match="401") as info:
        _sink(desk, pauses).send(ticket(1), NOW)
    assert not info.value.retryable and pauses == []


def test_missing_token_names_the_variable(desk: FakeDesk, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV)
    with pytest.raises(DeliveryError, match=ENV):
        _sink(desk, [], tries=1).send(ticket(1), NOW)


def test_server_down_is_retryable() -> None:
    sink = WebhookSink("http://127.0.0.1:9", token_env="PATH", timeout_s=1, tries=1)
    with pytest.raises(DeliveryError, match="failed") as info:
        sink.send(ticket(1), NOW)
    assert info.value.retryable


def test_errors_name_the_endpoint_without_credentials() -> None:
    sink = WebhookSink("http://user:pw-secret@127.0.0.1:9", token_env="PATH", timeout_s=1, tries=1)
    with pytest.raises(DeliveryError) as info:
        sink.send(ticket(1), NOW)
    assert "GET http://127.0.0.1:9/api/now/table/incident" in str(info.value)
    assert "pw-secret" not in str(info.value) and "correlation_id" not in str(info.value)
