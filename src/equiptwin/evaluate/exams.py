"""The booked exams of a simulated department: where each one is, and how it ended.

Every booked exam ends in exactly one of :data:`EXAM_OUTCOMES`:

* ``done``: performed where and when it was booked;
* ``rebooked``: displaced by planned maintenance, moved and performed at its new time;
* ``cancelled_short_notice``: its system was down at its time without the exam having
  been moved: an unplanned failure and the repair after it, or a planned job that ran
  over its window;
* ``cancelled_no_room``: displaced by planned maintenance with no free time within the
  rebooking rules (cancelled days ahead, not at short notice).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import pandas as pd

from equiptwin.planning.bookings import Booking
from equiptwin.planning.rebooking import Move

EXAM_OUTCOMES: tuple[str, ...] = (
    "done",
    "rebooked",
    "cancelled_short_notice",
    "cancelled_no_room",
)

Interval = tuple[dt.datetime, dt.datetime]


@dataclass
class _Exam:
    original: Booking
    current: Booking
    cancelled: bool = False


class ExamBook:
    """Current position of every booked exam, with fast lookups by system and time.

    Parameters
    ----------
    bookings : iterable of Booking
        The booked exams as first booked.
    """

    def __init__(self, bookings: Iterable[Booking]) -> None:
        self._exams = {b.appointment_id: _Exam(b, b) for b in bookings}
        self._by_system: dict[str, list[tuple[dt.datetime, str]]] = {}
        for exam in self._exams.values():
            self._by_system.setdefault(exam.current.system_id, []).append(
                (exam.current.start, exam.current.appointment_id)
            )
        for spans in self._by_system.values():
            spans.sort()
        self._longest = dt.timedelta(
            minutes=max((b.original.duration_min for b in self._exams.values()), default=0)
        )

    def on(self, system_id: str, start: dt.datetime, end: dt.datetime) -> list[Booking]:
        """Return the exams currently booked on a system that overlap ``[start, end)``."""
        spans = self._by_system.get(system_id, [])
        lo = bisect.bisect_left(spans, (start - self._longest, ""))
        hi = bisect.bisect_left(spans, (end, ""))
        found = (self._exams[i].current for _, i in spans[lo:hi])
        return [b for b in found if b.end > start]

    def move(self, moves: Sequence[Move]) -> None:
        """Apply the rebooking's moves (a cancelled move cancels the exam)."""
        for m in moves:
            exam = self._exams[m.appointment_id]
            spans = self._by_system[exam.current.system_id]
            spans.pop(bisect.bisect_left(spans, (exam.current.start, m.appointment_id)))
            if m.new_system_id is None or m.new_start is None:
                exam.cancelled = True
                continue
            exam.current = replace(exam.current, system_id=m.new_system_id, start=m.new_start)
            bisect.insort(
                self._by_system.setdefault(m.new_system_id, []), (m.new_start, m.appointment_id)
            )

    def outcomes(
        self, down: Mapping[str, Sequence[Interval]], start: dt.datetime, end: dt.datetime
    ) -> pd.DataFrame:
        """Return how each exam first booked in ``[start, end)`` ended.

        Parameters
        ----------
        down : Mapping of str to sequence of Interval
            Each system's down time (failures, repairs and maintenance jobs).
        start, end : datetime.datetime
            The simulated period.

        Returns
        -------
        pandas.DataFrame
            ``appointment_id``, ``system_id`` (as first booked), ``priority``, ``outcome``
            (one of :data:`EXAM_OUTCOMES`) and ``extra_wait_h`` (hours the exam moved
            later, 0 when it did not move or moved earlier).
        """
        rows = []
        for exam in self._exams.values():
            first, now = exam.original, exam.current
            if not start <= first.start < end:
                continue
            moved = now is not first
            if exam.cancelled:
                outcome = "cancelled_no_room"
            elif any(a < now.end and now.start < b for a, b in down.get(now.system_id, ())):
                outcome = "cancelled_short_notice"
            else:
                outcome = "rebooked" if moved else "done"
            wait = (now.start - first.start).total_seconds() / 3600.0 if moved else 0.0
            rows.append(
                (first.appointment_id, first.system_id, first.priority, outcome, max(wait, 0.0))
            )
        return pd.DataFrame(
            rows, columns=["appointment_id", "system_id", "priority", "outcome", "extra_wait_h"]
        )
