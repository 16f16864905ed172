"""Local days of a site and fast timestamp text for many instants at once.

The simulator places every instant as *elapsed seconds since local midnight*, which is
exact across daylight-saving changes (a local day lasts 23, 24 or 25 hours). The wall
clock, the UTC offset and the text of both event layouts follow from it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@lru_cache(maxsize=1)
def _hms() -> tuple[str, ...]:
    return tuple(f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86400))


@lru_cache(maxsize=64)
def _millis_offset(offset0_s: int, offset1_s: int, suffix: str) -> tuple[str, ...]:
    """``.mmm+hh:mm<suffix>`` for 0-999 ms at the first offset, then at the second."""
    return tuple(
        f".{m:03d}{_offset_text(off)}{suffix}"
        for off in (offset0_s, offset1_s)
        for m in range(1000)
    )


def _offset_text(offset_s: int) -> str:
    sign = "+" if offset_s >= 0 else "-"
    hours, minutes = divmod(abs(offset_s) // 60, 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


@dataclass(frozen=True)
class LocalDay:
    """One calendar day at one site.

    Parameters
    ----------
    date : datetime.date
        The local calendar day.
    midnight_utc_s : int
        Local midnight as seconds since the Unix epoch.
    length_s : int
        Seconds from local midnight to the next (82,800, 86,400 or 90,000).
    offset0_s, offset1_s : int
        UTC offset before and after the day's daylight-saving change (equal when none).
    change_s : int
        Elapsed seconds at which the offset changes (``length_s`` when it does not).
    """

    date: dt.date
    midnight_utc_s: int
    length_s: int
    offset0_s: int
    offset1_s: int
    change_s: int

    @classmethod
    def of(cls, date: dt.date, timezone: str) -> LocalDay:
        """Return the local day ``date`` in the IANA ``timezone``."""
        return _local_day(date, timezone)

    def offsets_s(self, elapsed_s: FloatArray) -> IntArray:
        """Return the UTC offset in seconds at each elapsed second of the day."""
        return np.where(elapsed_s < self.change_s, self.offset0_s, self.offset1_s).astype(np.int64)

    def wall_s(self, elapsed_s: FloatArray) -> IntArray:
        """Return the wall-clock second of the day (0-86,399) at each elapsed second."""
        wall = np.floor(elapsed_s).astype(np.int64) + self.offsets_s(elapsed_s) - self.offset0_s
        clipped: IntArray = np.clip(wall, 0, 86399)
        return clipped

    def utc_s(self, elapsed_s: FloatArray) -> FloatArray:
        """Return seconds since the Unix epoch at each elapsed second of the day."""
        return self.midnight_utc_s + elapsed_s

    def iso(self, elapsed_s: FloatArray) -> list[str]:
        """ISO-8601 local timestamps with milliseconds and offset (current layout)."""
        return self.iso_lines(elapsed_s, "", [""] * len(elapsed_s))

    def iso_lines(
        self, elapsed_s: FloatArray, middle: str, bodies: list[str], order: list[int] | None = None
    ) -> list[str]:
        """Return ``stamp + middle + body`` lines (current layout), in one pass.

        ``bodies[order[k]]`` goes with ``elapsed_s[k]``; ``order`` defaults to the identity.
        """
        hms = _hms()
        wall = self.wall_s(elapsed_s).tolist()
        ms = np.floor(elapsed_s * 1000).astype(np.int64) % 1000
        prefix = f"{self.date.isoformat()}T"
        if self.change_s < self.length_s:
            ms = ms + 1000 * (elapsed_s >= self.change_s)
        tail = _millis_offset(self.offset0_s, self.offset1_s, middle)
        idx = range(len(bodies)) if order is None else order
        return [
            f"{prefix}{hms[w]}{tail[m]}{bodies[i]}"
            for w, m, i in zip(wall, ms.tolist(), idx, strict=True)
        ]

    def iso_seconds(self, elapsed_s: FloatArray) -> list[str]:
        """ISO-8601 local timestamps to the second, with offset (exposures, telemetry)."""
        hms = _hms()
        wall = self.wall_s(elapsed_s).tolist()
        offs = [_offset_text(o) for o in (self.offset0_s, self.offset1_s)]
        after = (elapsed_s >= self.change_s).tolist()
        prefix = f"{self.date.isoformat()}T"
        return [f"{prefix}{hms[w]}{offs[a]}" for w, a in zip(wall, after, strict=True)]

    def legacy(self, elapsed_s: FloatArray) -> list[str]:
        """``DD-Mon-YYYY HH:MM:SS`` wall-clock text without offset (legacy layout)."""
        return self.legacy_lines(elapsed_s, "", [""] * len(elapsed_s))

    def legacy_lines(
        self, elapsed_s: FloatArray, middle: str, bodies: list[str], order: list[int] | None = None
    ) -> list[str]:
        """Return ``stamp + middle + body`` lines (legacy layout); see :meth:`iso_lines`."""
        hms = _hms()
        prefix = f"{self.date.day:02d}-{_MONTHS[self.date.month - 1]}-{self.date.year} "
        idx = range(len(bodies)) if order is None else order
        wall = self.wall_s(elapsed_s).tolist()
        return [f"{prefix}{hms[w]}{middle}{bodies[i]}" for w, i in zip(wall, idx, strict=True)]


@lru_cache(maxsize=65536)
def _local_day(date: dt.date, timezone: str) -> LocalDay:
    tz = ZoneInfo(timezone)
    start = dt.datetime(date.year, date.month, date.day, tzinfo=tz)
    nxt = date + dt.timedelta(days=1)
    end = dt.datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz)
    midnight = int(start.timestamp())
    length = int(end.timestamp()) - midnight
    off0 = _utcoffset_s(start)
    change = length
    off1 = off0
    for hour in range(1, length // 3600 + 1):
        at = dt.datetime.fromtimestamp(midnight + hour * 3600, tz)
        if _utcoffset_s(at) != off0:
            change, off1 = hour * 3600, _utcoffset_s(at)
            break
    return LocalDay(date, midnight, length, off0, off1, change)


def _utcoffset_s(moment: dt.datetime) -> int:
    offset = moment.utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0
