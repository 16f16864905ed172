"""The one place that reads the wall clock.

Only the CLI and the scheduler call :func:`utc_now`; every other stage takes ``as_of``
or ``now`` as an argument, so tests use a fixed clock instead of patching ``datetime``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """Return the current time as an aware UTC datetime."""
    return dt.datetime.now(dt.UTC)


def fixed_clock(at: dt.datetime) -> Clock:
    """Return a clock that always reads ``at`` (which must be timezone-aware).

    Parameters
    ----------
    at : datetime.datetime
        The instant the clock reports.

    Returns
    -------
    Clock
        A zero-argument callable returning ``at``.
    """
    if at.tzinfo is None:
        raise ValueError(f"fixed_clock needs an aware datetime, but found naive {at.isoformat()}")
    return lambda: at
