"""A small reference reader of formats.md, written from the document, for the tests.

It is deliberately independent of the simulator's code: if the simulator and this reader
disagree, one of them misread the formats.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

CURRENT = re.compile(
    r"^(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?[+-]\d\d:\d\d) (?P<system>\S+) "
    r"(?P<sev>[IWEF]) (?P<sub>\S+) (?P<code>\d+) (?P<msg>.*?)(?: \| (?P<params>.*))?$"
)
LEGACY = re.compile(
    r"^(?P<ts>\d\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d);(?P<system>[^;]+);(?P<sev>[IWEF]);"
    r"(?P<sub>[^;]+);(?P<code>\d+);(?P<msg>[^;]*)(?P<params>(?:;[^;]*)*)$"
)
PARAM = re.compile(r"^[a-z_][a-z0-9_]*=\S+$")


@dataclass
class Event:
    ts: str
    system: str
    severity: str
    code: int
    message: str
    params: dict[str, str]
    layout: str


@dataclass
class EventFile:
    events: list[Event] = field(default_factory=list)
    raw_lines: list[bytes] = field(default_factory=list)
    continuation: int = 0
    blank: int = 0
    non_utf8: int = 0
    truncated_tail: bool = False
    bad: list[str] = field(default_factory=list)


def read_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.name.endswith(".gz") else data


def parse_event_line(text: str) -> Event | None:
    m = CURRENT.match(text)
    if m:
        params = m["params"].split(" ") if m["params"] else []
        layout = "current"
    else:
        m = LEGACY.match(text)
        if not m:
            return None
        params = [p for p in m["params"].split(";") if p] if m["params"] else []
        layout = "legacy"
    if any(not PARAM.match(p) for p in params):
        return None
    kv = dict(p.split("=", 1) for p in params)
    return Event(m["ts"], m["system"], m["sev"], int(m["code"]), m["msg"], kv, layout)


@cache
def read_event_file(path: Path) -> EventFile:
    """Parse one event file (cached: the sample fleet is read by several tests)."""
    data = read_bytes(path)
    out = EventFile()
    ends_clean = data.endswith(b"\n")
    lines = data.split(b"\n")
    if ends_clean:
        lines = lines[:-1]
    for i, raw in enumerate(lines):
        out.raw_lines.append(raw)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            out.non_utf8 += 1
            text = raw.decode("utf-8", "replace")
        if not text.strip():
            out.blank += 1
            continue
        if text[0] in " \t":
            out.continuation += 1
            continue
        event = parse_event_line(text)
        if event is None:
            if i == len(lines) - 1 and not ends_clean:
                out.truncated_tail = True
                continue
            out.bad.append(text)
            continue
        out.events.append(event)
    return out
