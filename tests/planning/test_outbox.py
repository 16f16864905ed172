from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from equiptwin.errors import ConfigError
from equiptwin.planning.outbox import build_sinks, deliver_outbox
from equiptwin.planning.sinks import DeliveryError, FileSink, MemorySink, Sink
from equiptwin.planning.tickets import close_replaced, update_tickets
from equiptwin.store.schema import ComponentLife, OutboxMessage

from .conftest import AS_OF, config_with, forecast, life_of
from .fakes import FakeDesk, SmtpServer

NOW = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)
MEM = config_with(sinks__enabled=["file"], outbox__backoff_s=60.0, outbox__max_attempts=3)


def _rows(engine: sa.Engine) -> list[dict[str, Any]]:
    with engine.connect() as c:
        return [
            dict(r)
            for r in c.execute(sa.select(OutboxMessage).order_by(OutboxMessage.id)).mappings()
        ]


def _open_two_revisions(engine: sa.Engine, config: Any) -> None:
    update_tickets(engine, [forecast(), forecast("MR-AMS-01", p=(0.3, 0.6, 0.9))], config)
    update_tickets(engine, [forecast(p=(0.5, 0.85, 0.9))], config)  # escalation: revision 2


def test_pending_rows_are_delivered_once_in_revision_order(engine: sa.Engine) -> None:
    _open_two_revisions(engine, MEM)
    sink = MemorySink()
    report = deliver_outbox(engine, {"file": sink}, NOW, MEM)
    assert (report.delivered, report.retrying, report.failed, report.waiting) == (3, 0, 0, 0)
    assert [(t["system_id"], t["revision"]) for t in sink.received] == [
        ("CT-AMS-01", 1),
        ("CT-AMS-01", 2),
        ("MR-AMS-01", 1),
    ]
    assert all(r["status"] == "delivered" and r["attempts"] == 1 for r in _rows(engine))
    assert deliver_outbox(engine, {"file": sink}, NOW, MEM).delivered == 0
    assert len(sink.received) == 3


def test_failure_backs_off_holds_later_revisions_and_recovers(engine: sa.Engine) -> None:
    _open_two_revisions(engine, MEM)
    sink = MemorySink(fail_times=2)
    first = deliver_outbox(engine, {"file": sink}, NOW, MEM)
    # CT rev 1 and MR rev 1 fail; CT rev 2 waits behind CT rev 1
    assert (first.delivered, first.retrying, first.waiting) == (0, 2, 1)
    rows = _rows(engine)
    assert rows[0]["next_attempt_at"] == NOW.replace(tzinfo=None) + dt.timedelta(seconds=60)
    assert rows[0]["last_error"] == "memory sink told to fail"
    assert (
        deliver_outbox(engine, {"file": sink}, NOW + dt.timedelta(seconds=30), MEM).delivered == 0
    )
    later = deliver_outbox(engine, {"file": sink}, NOW + dt.timedelta(seconds=61), MEM)
    assert later.delivered == 3
    assert [t["revision"] for t in sink.received if t["system_id"] == "CT-AMS-01"] == [1, 2]


def test_gives_up_after_max_attempts(engine: sa.Engine) -> None:
    update_tickets(engine, [forecast()], MEM)
    sink = MemorySink(fail_times=99)
    at = NOW
    for _ in range(3):
        deliver_outbox(engine, {"file": sink}, at, MEM)
        at += dt.timedelta(hours=2)
    (row,) = _rows(engine)
    assert (row["status"], row["attempts"]) == ("failed", 3)


class _Leaky(Sink):
    def send(self, ticket: Mapping[str, Any], now: dt.datetime) -> None:
        raise DeliveryError("server said: bad token hunter2", retryable=True)

    def secrets(self) -> tuple[str, ...]:
        return ("hunter2",)


def test_last_error_never_holds_a_secret(engine: sa.Engine) -> None:
    update_tickets(engine, [forecast()], MEM)
    deliver_outbox(engine, {"file": _Leaky()}, NOW, MEM)
    (row,) = _rows(engine)
    assert "hunter2" not in row["last_error"] and "***" in row["last_error"]


def test_build_sinks_from_settings(tmp_path: Path) -> None:
    cfg = config_with(sinks__enabled=["file", "email"], outputs__dir=str(tmp_path))
    sinks = build_sinks(cfg)
    assert set(sinks) == {"file", "email"}
    assert isinstance(sinks["file"], FileSink) and sinks["file"].folder == tmp_path / "tickets"
    with pytest.raises(ConfigError, match=r"sinks\.webhook\.url"):
        build_sinks(config_with(sinks__enabled=["webhook"]))


def test_every_revision_arrives_exactly_once_through_outages(
    engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tickets open, escalate and close while the desk and the mail server fail and return."""
    monkeypatch.setenv("EQUIPTWIN_TEST_TOKEN", "tok-123")
    smtp = SmtpServer()
    with FakeDesk("tok-123") as desk:
        cfg = config_with(
            sinks__enabled=["file", "webhook", "email"],
            outputs__dir=str(tmp_path),
            sinks__webhook__url=desk.url,
            sinks__webhook__token_env="EQUIPTWIN_TEST_TOKEN",
            sinks__webhook__tries=2,
            sinks__webhook__backoff_s=0.0,
            sinks__email__host="127.0.0.1",
            sinks__email__port=smtp.port,
            sinks__email__timeout_s=5.0,
            outbox__backoff_s=60.0,
        )
        sinks = build_sinks(cfg)
        _open_two_revisions(engine, cfg)
        desk.state.fail_next = 10  # desk down; mail server not started
        at = NOW
        report = deliver_outbox(engine, sinks, at, cfg)
        assert report.delivered == 3 and report.retrying == 4  # only the drop folder got them
        assert desk.state.incidents == {} and smtp.handler.messages == []
        smtp.start()
        try:
            desk.state.fail_next, desk.state.lose_reply_next = 0, 1  # back, one reply lost
            with engine.begin() as c:
                c.execute(
                    sa.update(ComponentLife)
                    .where(ComponentLife.life_id == life_of("MR-AMS-01"))
                    .values(ended_on=AS_OF, end_reason="censored", end_work_order="WO-9")
                )
            close_replaced(engine, AS_OF + dt.timedelta(days=1), cfg)
            for _ in range(4):
                at += dt.timedelta(hours=1)
                deliver_outbox(engine, sinks, at, cfg)
        finally:
            smtp.stop()
        assert all(r["status"] == "delivered" for r in _rows(engine))
        expected = {("CT-AMS-01", 1), ("CT-AMS-01", 2), ("MR-AMS-01", 1), ("MR-AMS-01", 2)}
        ct = desk.state.by_correlation(f"CT-AMS-01:xray_tube:{life_of('CT-AMS-01')}")
        mr = desk.state.by_correlation(f"MR-AMS-01:coldhead:{life_of('MR-AMS-01')}")
        assert len(desk.state.incidents) == 2 and len(ct) == len(mr) == 1
        assert ct[0]["u_equiptwin_revision"] == "2" and ct[0]["urgency"] == "1"
        assert mr[0]["state"] == "6" and "WO-9" in mr[0]["close_notes"]
        assert len(ct[0]["notes"]) == len(mr[0]["notes"]) == 2
        mails = smtp.handler.unique_by_message_id()
        assert len(smtp.handler.messages) == len(mails) == 4
        assert {
            (m["X-Equiptwin-Dedup-Key"].split(":")[0], int(m["X-Equiptwin-Revision"]))
            for m in mails.values()
        } == expected
        file_sink = sinks["file"]
        assert isinstance(file_sink, FileSink)
        assert len(file_sink.jsonl_path.read_text().splitlines()) == 4


def test_deliver_command_sends_to_the_drop_folder(engine: sa.Engine, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from equiptwin.cli import cli

    update_tickets(engine, [forecast()], MEM)
    pipeline = tmp_path / "p.toml"
    pipeline.write_text(f'[outputs]\ndir = "{tmp_path.as_posix()}"\n[sinks]\nenabled = ["file"]\n')
    args = ["--db", str(engine.url), "--pipeline", str(pipeline), "deliver"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("delivered 1,")
    assert len((tmp_path / "tickets" / "tickets.jsonl").read_text().splitlines()) == 1
    again = CliRunner().invoke(cli, args)
    assert again.output.startswith("delivered 0,")
