"""Real local servers for sink tests: a ServiceNow-like table API and an SMTP server."""

from __future__ import annotations

import email
import json
import socket
import threading
import urllib.parse
import uuid
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

INCIDENT = "/api/now/table/incident"


@dataclass
class DeskState:
    """What the fake desk holds and how it misbehaves."""

    token: str
    incidents: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    fail_next: int = 0  # answer 500 without doing anything
    lose_reply_next: int = 0  # do the write, then answer 500 (a lost response)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def by_correlation(self, key: str) -> list[dict[str, Any]]:
        return [i for i in self.incidents.values() if i.get("correlation_id") == key]


def _handler(state: DeskState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _reply(self, code: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            return dict(json.loads(self.rfile.read(length))) if length else {}

        def _handle(self, method: str) -> None:
            url = urllib.parse.urlsplit(self.path)
            body = self._body()
            with state.lock:
                state.requests.append((method, url.path))
                if self.headers.get("Authorization") != f"Bearer {state.token}":
                    self._reply(401, {"error": "unauthorised"})
                    return
                if state.fail_next > 0:
                    state.fail_next -= 1
                    self._reply(500, {"error": "down"})
                    return
                result = self._apply(method, url, body)
                if result is None:
                    self._reply(404, {"error": "no such record"})
                    return
                if method != "GET" and state.lose_reply_next > 0:
                    state.lose_reply_next -= 1
                    self._reply(500, {"error": "lost reply"})
                    return
                self._reply(201 if method == "POST" else 200, {"result": result})

        def _apply(self, method: str, url: urllib.parse.SplitResult, body: dict[str, Any]) -> Any:
            if method == "GET" and url.path == INCIDENT:
                query = urllib.parse.parse_qs(url.query)["sysparm_query"][0]
                key = query.removeprefix("correlation_id=")
                return state.by_correlation(key)[:1]
            if method == "POST" and url.path == INCIDENT:
                sys_id = uuid.uuid4().hex
                state.incidents[sys_id] = body | {"sys_id": sys_id, "notes": [body["work_notes"]]}
                return state.incidents[sys_id]
            if method == "PATCH" and url.path.startswith(INCIDENT + "/"):
                record = state.incidents.get(url.path.rsplit("/", 1)[1])
                if record is None:
                    return None
                notes = [*record["notes"], body.get("work_notes", "")]
                record.update(body | {"notes": notes})
                return record
            return None

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PATCH(self) -> None:
            self._handle("PATCH")

    return Handler


class FakeDesk:
    """A ServiceNow-like incident table API on a real local HTTP server (a thread)."""

    def __init__(self, token: str) -> None:
        self.state = DeskState(token)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeDesk:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MailboxHandler:
    """aiosmtpd handler that keeps every accepted message; can answer 451 for a while."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.defer_next = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.defer_next > 0:
            self.defer_next -= 1
            return "451 4.3.0 try again later"
        self.messages.append(email.message_from_bytes(envelope.original_content))
        self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        return "250 OK"

    def unique_by_message_id(self) -> dict[str, Message]:
        return {str(m["Message-ID"]): m for m in self.messages}


class SmtpServer:
    """A real SMTP server (aiosmtpd) on a fixed local port that can be stopped and restarted."""

    def __init__(self) -> None:
        self.port = free_port()
        self.handler = MailboxHandler()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
