from __future__ import annotations

import pandas as pd

from equiptwin.ingest.parsers.times import localize, to_utc

AMS = "Europe/Amsterdam"


def _utc(values: list[str], fmt: str = "%d-%b-%Y %H:%M:%S") -> list[str]:
    out = to_utc(pd.Series(values), fmt, pd.Series([AMS] * len(values)))
    return [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in out]


def test_fall_back_hour_is_resolved_by_line_order() -> None:
    # 02:00-03:00 happens twice on 25 Oct 2026; the log goes 02:30, 02:59, then back to 02:10.
    got = _utc(
        [
            "25-Oct-2026 02:30:00",
            "25-Oct-2026 02:59:00",
            "25-Oct-2026 02:10:00",
            "25-Oct-2026 03:05:00",
        ]
    )
    assert got == [
        "2026-10-25T00:30:00Z",
        "2026-10-25T00:59:00Z",
        "2026-10-25T01:10:00Z",
        "2026-10-25T02:05:00Z",
    ]


def test_ambiguous_time_alone_is_the_first_occurrence() -> None:
    assert _utc(["25-Oct-2026 02:30:00"]) == ["2026-10-25T00:30:00Z"]


def test_spring_forward_gap_uses_the_offset_before_the_change() -> None:
    # 02:30 does not exist on 29 Mar 2026; a console whose clock had not jumped wrote it.
    assert _utc(["29-Mar-2026 01:59:00", "29-Mar-2026 02:30:00", "29-Mar-2026 03:01:00"]) == [
        "2026-03-29T00:59:00Z",
        "2026-03-29T01:30:00Z",
        "2026-03-29T01:01:00Z",
    ]


def test_iso_with_and_without_offset() -> None:
    got = _utc(
        ["2026-03-02T08:14:22+01:00", "2026-07-02T08:14:22", "2026-03-02T07:14:22Z"], "ISO8601"
    )
    assert got == ["2026-03-02T07:14:22Z", "2026-07-02T06:14:22Z", "2026-03-02T07:14:22Z"]


def test_unparseable_is_nat() -> None:
    out = to_utc(pd.Series(["yesterday"]), "ISO8601", pd.Series([AMS]))
    assert out.isna().all()


def test_localize_keeps_index_and_is_utc() -> None:
    naive = pd.Series(pd.to_datetime(["2026-01-01 12:00"]), index=[7])
    out = localize(naive, AMS)
    assert list(out.index) == [7] and str(out.dt.tz) == "UTC"
