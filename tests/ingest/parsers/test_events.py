from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from equiptwin.ingest.parsers.base import BlockContext
from equiptwin.ingest.parsers.events import parse_events
from equiptwin.store.archive import SCHEMAS

GOOD = b"2026-03-02T08:14:22.118+01:00 CT-AMS-01 W TUBE 2301 Tube arc detected | kv=120 ma=300\n"
LEGACY = b"02-Mar-2026 08:14:22;XR-UTR-03;W;TUBE;2301;Tube arc detected;kv=81;ma=500\n"


def parse(ctx: BlockContext, data: bytes) -> pd.DataFrame:
    block = parse_events(data, ctx)
    assert block.table is not None
    assert block.table.schema == SCHEMAS["events"]
    return block.table.to_pandas()


def test_both_layouts_give_the_same_fields(make_ctx: Callable[..., BlockContext]) -> None:
    frame = parse(make_ctx(), GOOD + LEGACY)
    assert frame["code"].tolist() == [2301, 2301]
    assert frame["message"].tolist() == ["Tube arc detected"] * 2
    assert frame["params"].tolist() == ["kv=120 ma=300", "kv=81 ma=500"]
    assert frame["ts"].tolist() == [pd.Timestamp("2026-03-02T07:14:22.118Z")] * 2 or frame[
        "ts"
    ].iloc[1] == pd.Timestamp("2026-03-02T07:14:22Z")


# One case per wrinkle of formats.md: (bytes after a good line, reason quarantined or None).
WRINKLES = {
    "blank_lines": (b"\n   \n\n", None),
    "continuation": (b"  at x.y()\n\tat z()\n", None),
    "cut_off_line": (b"2026-03-02T08:1\n", "malformed"),
    "not_utf8": (b"\xff\xfe broken\n", "not_utf8"),
    "repeated_line": (GOOD, None),
    "unknown_code": (b"2026-03-02T08:20:00.000+01:00 CT-AMS-01 I SW 9999 Something else\n", None),
    "bad_severity": (
        b"2026-03-02T08:20:00.000+01:00 CT-AMS-01 X SW 1000 Startup\n",
        "bad_severity",
    ),
    "bad_code": (b"2026-03-02T08:20:00.000+01:00 CT-AMS-01 I SW 10x0 Startup\n", "bad_code"),
    "bad_timestamp": (
        b"2026-13-02T08:20:00.000+01:00 CT-AMS-01 I SW 1000 Startup\n",
        "bad_timestamp",
    ),
    "unknown_system": (
        b"2026-03-02T08:20:00.000+01:00 CT-XXX-09 I SW 1000 Startup\n",
        "unknown_system",
    ),
    "legacy_bad_date": (b"31-Feb-2026 08:14:22;XR-UTR-03;W;TUBE;2301;Arc\n", "bad_timestamp"),
}


@pytest.mark.parametrize("wrinkle", sorted(WRINKLES))
def test_good_lines_survive_every_wrinkle(
    wrinkle: str, make_ctx: Callable[..., BlockContext]
) -> None:
    extra, reason = WRINKLES[wrinkle]
    ctx = make_ctx()
    tail = b"2026-03-02T09:00:00.000+01:00 CT-AMS-01 I SYS 1001 System shutdown\n"
    frame = parse(ctx, GOOD + extra + tail)
    codes = frame["code"].tolist()
    assert codes[0] == 2301 and codes[-1] == 1001
    reasons = [r.reason for r in ctx.quarantine.items]
    assert reasons == ([reason] if reason else [])
    if reason:
        assert ctx.quarantine.items[0].line == 2
        assert ctx.quarantine.items[0].raw


def test_continuation_lines_attach_to_the_event_above(
    make_ctx: Callable[..., BlockContext],
) -> None:
    frame = parse(
        make_ctx(), GOOD + b"  Traceback:\n    at a.b()\n" + GOOD.replace(b"22.118", b"23.000")
    )
    assert frame["detail"].tolist()[0] == "Traceback:\nat a.b()"
    assert pd.isna(frame["detail"].iloc[1])


def test_orphan_continuation_is_quarantined(make_ctx: Callable[..., BlockContext]) -> None:
    ctx = make_ctx()
    frame = parse(ctx, b"  at a.b()\n" + GOOD)
    assert len(frame) == 1
    assert [r.reason for r in ctx.quarantine.items] == ["orphan_continuation"]


def test_repeated_lines_count_once(make_ctx: Callable[..., BlockContext]) -> None:
    ctx = make_ctx()
    block = parse_events(GOOD + LEGACY + GOOD + LEGACY + GOOD, ctx)
    assert block.table is not None and block.table.num_rows == 2
    assert block.duplicates == 3


def test_unknown_codes_are_kept_and_counted(make_ctx: Callable[..., BlockContext]) -> None:
    line = b"2026-03-02T08:20:00.000+01:00 CT-AMS-01 I SW 9999 Something | a=1\n"
    block = parse_events(line + line.replace(b":20:", b":21:") + GOOD, make_ctx())
    assert block.unknown_codes == {9999: 2}
    assert block.table is not None and block.table.num_rows == 3


def test_personal_parameters_and_names_are_removed(make_ctx: Callable[..., BlockContext]) -> None:
    data = (
        b"2026-03-02T08:20:00.000+01:00 CT-AMS-01 I DB 8123 Image stored for DOE^JANE"
        b" | series=4 patient=DOE^JANE\n"
        b"03-Mar-2026 08:14:22;XR-UTR-03;I;DB;8123;Image stored;patient_name=SMITH^JOHN;series=5\n"
    )
    frame = parse(make_ctx(), data)
    text = frame.to_csv()
    assert "DOE" not in text and "SMITH" not in text
    assert frame["params"].tolist() == ["series=4", "series=5"]
    assert frame["message"].iloc[0] == "Image stored for <name>"


def test_crlf_line_ends_are_accepted(make_ctx: Callable[..., BlockContext]) -> None:
    frame = parse(make_ctx(), GOOD.replace(b"\n", b"\r\n"))
    assert frame["params"].tolist() == ["kv=120 ma=300"]
