from __future__ import annotations

import pytest

from equiptwin.planning.mail import SmtpSink, build_message, message_id
from equiptwin.planning.sinks import DeliveryError

from .fakes import SmtpServer
from .test_sinks import NOW, ticket

KEY = "CT-AMS-01:xray_tube:L1"


def _sink(server: SmtpServer) -> SmtpSink:
    return SmtpSink(
        "127.0.0.1",
        server.port,
        sender="twin@hospital.example",
        to=["desk@hospital.example"],
        timeout_s=5,
    )


def test_message_ids_are_stable_and_later_revisions_thread_to_the_first() -> None:
    first = build_message(ticket(1), "twin@h.example", ["d@h.example"], NOW)
    again = build_message(ticket(1), "twin@h.example", ["d@h.example"], NOW)
    later = build_message(ticket(3), "twin@h.example", ["d@h.example"], NOW)
    assert first["Message-ID"] == again["Message-ID"] == message_id(KEY, 1, "h.example")
    assert first["In-Reply-To"] is None
    assert later["In-Reply-To"] == later["References"] == first["Message-ID"]
    assert later["Message-ID"] != first["Message-ID"]


def test_delivers_to_a_real_smtp_server(smtp: SmtpServer) -> None:
    sink = _sink(smtp)
    sink.send(ticket(1), NOW)
    sink.send(ticket(2), NOW)
    first, second = smtp.handler.messages
    assert second["In-Reply-To"] == first["Message-ID"]
    assert first["X-Equiptwin-Dedup-Key"] == KEY
    body = first.get_payload()[0].get_payload(decode=True).decode()
    assert "replace X-ray tube" in body


def test_server_down_then_back(smtp: SmtpServer) -> None:
    sink = _sink(smtp)
    smtp.stop()
    with pytest.raises(DeliveryError) as info:
        sink.send(ticket(1), NOW)
    assert info.value.retryable
    smtp.start()
    sink.send(ticket(1), NOW)
    assert len(smtp.handler.messages) == 1


def test_temporary_refusal_is_retryable(smtp: SmtpServer) -> None:
    smtp.handler.defer_next = 1
    with pytest.raises(DeliveryError, match="451") as info:
        _sink(smtp).send(ticket(1), NOW)
    assert info.value.retryable


def test_login_without_password_names_the_variable(smtp: SmtpServer) -> None:
    sink = SmtpSink(
        "127.0.0.1",
        smtp.port,
        sender="a@b.example",
        to=["c@b.example"],
        user="twin",
        password_env="EQUIPTWIN_TEST_NO_SUCH_PASSWORD",
    )
    with pytest.raises(DeliveryError, match="EQUIPTWIN_TEST_NO_SUCH_PASSWORD"):
        sink.send(ticket(1), NOW)
