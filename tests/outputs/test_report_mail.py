"""The daily report by e-mail through a real local SMTP server (aiosmtpd)."""

from __future__ import annotations

import dataclasses
import re
from email.message import Message

import pytest

from equiptwin.outputs.report import report_message_id, send_report, write_report
from equiptwin.planning.sinks import DeliveryError
from tests.outputs.conftest import PlannedDay
from tests.planning.conftest import AS_OF, NOW
from tests.planning.fakes import SmtpServer

RECIPIENTS = ["biomed@hospital.example", "radiology-lead@hospital.example"]


def _mail_config(planned: PlannedDay, port: int) -> PlannedDay:
    values = {
        **planned.config.values,
        "sinks.email.host": "127.0.0.1",
        "sinks.email.port": port,
        "sinks.email.sender": "twin@hospital.example",
        "sinks.email.to": ["desk@hospital.example"],
        "sinks.email.timeout_s": 5.0,
        "report.recipients": RECIPIENTS,
        "site.name": "St Elsewhere",
    }
    return dataclasses.replace(planned, config=dataclasses.replace(planned.config, values=values))


def _parts(msg: Message, content_type: str) -> list[Message]:
    return [p for p in msg.walk() if p.get_content_type() == content_type]


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_the_report_arrives_with_its_plots(planned: PlannedDay, smtp: SmtpServer) -> None:
    planned = _mail_config(planned, smtp.port)
    path = write_report(planned.engine, planned.config, AS_OF, planned.out_dir, NOW)
    send_report(path, planned.config, AS_OF)
    send_report(path, planned.config, AS_OF)  # a re-send is the same message
    first, again = smtp.handler.messages
    assert smtp.handler.envelopes == [("twin@hospital.example", RECIPIENTS)] * 2
    assert first["To"] == ", ".join(RECIPIENTS)
    assert first["Subject"] == f"equiptwin daily report St Elsewhere {AS_OF}"
    expected_id = report_message_id("St Elsewhere", AS_OF, "hospital.example")
    assert first["Message-ID"] == again["Message-ID"] == expected_id
    other_day = report_message_id("St Elsewhere", AS_OF.replace(day=3), "hospital.example")
    other_site = report_message_id("St Nowhere", AS_OF, "hospital.example")
    assert len({expected_id, other_day, other_site}) == 3
    (html_part,) = _parts(first, "text/html")
    html = html_part.get_payload(decode=True).decode("utf-8")
    assert "Daily maintenance report: St Elsewhere" in html
    assert "data:image" not in html
    cids = re.findall(r'src="cid:([^"]+)"', html)
    images = {p["Content-ID"].strip("<>"): p for p in _parts(first, "image/png")}
    original = path.read_text(encoding="utf-8")
    assert len(cids) == original.count('src="data:image/png;base64,') == len(images) > 0
    assert set(cids) == set(images)
    for part in images.values():
        assert part.get_payload(decode=True).startswith(b"\x89PNG\r\n\x1a\n")
    (text_part,) = _parts(first, "text/plain")
    assert f"report-{AS_OF}.html" in text_part.get_payload(decode=True).decode("utf-8")


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_an_unreachable_server_is_a_retryable_delivery_error(
    planned: PlannedDay, smtp: SmtpServer
) -> None:
    planned = _mail_config(planned, smtp.port)
    path = write_report(planned.engine, planned.config, AS_OF, planned.out_dir, NOW)
    smtp.stop()
    with pytest.raises(DeliveryError, match=f"SMTP 127.0.0.1:{smtp.port}") as info:
        send_report(path, planned.config, AS_OF)
    assert info.value.retryable
