"""Bytes on disk: event-log text with its real-world wrinkles, plain or gzipped files.

Everything written is a pure function of its inputs (gzip without a timestamp or a file
name, fixed ordering), so the same seed writes byte-identical fleets.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from equiptwin.sim.events import DayLines, Template
from equiptwin.sim.localtime import LocalDay

# zlib level by volume: big fleets favour speed, the committed sample favours size.
GZIP_LEVEL: dict[str, int] = {"default": 1, "reduced": 6}

# Wrinkle rates per day file (formats.md, "What real files also contain").
REPEAT_BLOCK_P = 0.02
TRUNCATED_TAIL_P = 0.02
BLANK_LINE_P = 0.0004
LATIN1_DAY_P = 0.08
MISSING_DAY_P = 0.006
# Operator names from a console that writes Latin-1: lone surrogates become raw bytes.
LATIN1_USERS: tuple[str, ...] = ("m\udcfcller", "j\udcf6rg.sch\udcf6n", "ren\udce9e", "\udcc5sa")
LOGIN = Template("I", "UI", 8100, "User logged in", "user")


def write_bytes(path: Path, data: bytes, *, gz: bool, level: int = 6) -> Path:
    """Write ``data`` to ``path`` (``path`` + ``.gz`` at zlib ``level`` when ``gz``).

    The gzip header carries no time and no name, so the bytes depend on ``data`` only.
    Returns the path written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data, compresslevel=level, mtime=0)
    path.write_bytes(data)
    return path


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Return CSV text with Unix line ends and minimal quoting."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def add_latin1_logins(lines: DayLines, length_s: float, rng: np.random.Generator) -> None:
    """Add a few logins by operators whose names the console writes in Latin-1."""
    for _ in range(int(rng.integers(1, 4))):
        user = LATIN1_USERS[int(rng.integers(len(LATIN1_USERS)))]
        at = float(rng.uniform(0, length_s))
        lines.add_values(np.array([at]), LOGIN, [user])


def render_event_day(
    system_id: str,
    day: LocalDay,
    lines: DayLines,
    *,
    rng: np.random.Generator,
    force: frozenset[str] = frozenset(),
) -> bytes:
    """Return one day's event file as bytes, wrinkles included.

    Parameters
    ----------
    system_id : str
        The system the console logs for.
    day : LocalDay
        The local day of the file.
    lines : DayLines
        The day's events (any order); its layout decides the timestamp text.
    rng : numpy.random.Generator
        Draws the wrinkles: a repeated block, a truncated last line, blank lines.
    force : frozenset of str
        Wrinkles to apply regardless of chance: ``"repeat"``, ``"truncate"``.
    """
    at = np.minimum(np.asarray(lines.at_s, dtype=np.float64), day.length_s - 0.001)
    order = np.argsort(at, kind="stable")
    at = at[order]
    mid = f"{lines.sep}{system_id}{lines.sep}"
    render = day.legacy_lines if lines.legacy else day.iso_lines
    text = render(at, mid, lines.bodies, order.tolist())
    n = len(text)
    blanks = np.flatnonzero(rng.uniform(size=n) < BLANK_LINE_P)
    for i in blanks[::-1].tolist():
        text.insert(i, "")
    if n > 40 and ("repeat" in force or rng.uniform() < REPEAT_BLOCK_P):
        # A rotated file copied twice: a block of lines appears again right after itself.
        size = int(rng.integers(10, min(200, n // 2)))
        start = int(rng.integers(0, len(text) - size))
        text[start + size : start + size] = text[start : start + size]
    body = "\n".join(text) + "\n"
    data = body.encode("utf-8", "surrogateescape")
    if n > 1 and ("truncate" in force or rng.uniform() < TRUNCATED_TAIL_P):
        # The copy was taken while the console was writing: the last line is cut.
        last = data.rstrip(b"\n").rfind(b"\n") + 1
        keep = last + int(rng.integers(5, max(6, len(data) - last - 5)))
        data = data[:keep]
    return data
