"""One scheduler per store: a lease row in ``scheduler_lock``.

A scheduler takes the lease when the row is absent, expired, or already its own, and
renews it (``heartbeat_at``, ``expires_at``) while it runs; it deletes the row when it
stops. A scheduler that dies without stopping leaves a lease that expires after
``serve.lease_s`` seconds, after which another may take over. Each step is one
conditional ``INSERT`` or ``UPDATE``, so SQLite and PostgreSQL decide the same way.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from equiptwin.clock import Clock
from equiptwin.errors import SchedulerLockedError
from equiptwin.store.schema import SchedulerLock

LOCK_NAME = "serve"


def new_holder_id() -> str:
    """Return a holder id naming this process: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _naive_utc(at: dt.datetime) -> dt.datetime:
    if at.tzinfo is None:
        raise ValueError(f"lease times must be timezone-aware, but found {at.isoformat()}.")
    return at.astimezone(dt.UTC).replace(tzinfo=None)


def acquire(engine: sa.Engine, holder: str, now: dt.datetime, lease_s: float) -> None:
    """Take the scheduler lease of the store, or fail naming its holder.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store.
    holder : str
        This scheduler's id (:func:`new_holder_id`).
    now : datetime.datetime
        Aware current time.
    lease_s : float
        Seconds the lease lasts without a renewal.

    Raises
    ------
    SchedulerLockedError
        When another holder's lease has not expired.
    """
    at = _naive_utc(now)
    values = {
        "holder": holder,
        "acquired_at": at,
        "heartbeat_at": at,
        "expires_at": at + dt.timedelta(seconds=lease_s),
    }
    try:
        with engine.begin() as conn:
            conn.execute(sa.insert(SchedulerLock).values(name=LOCK_NAME, **values))
        return
    except sa.exc.IntegrityError:
        pass
    with engine.begin() as conn:
        taken = conn.execute(
            sa.update(SchedulerLock)
            .where(
                SchedulerLock.name == LOCK_NAME,
                sa.or_(SchedulerLock.expires_at < at, SchedulerLock.holder == holder),
            )
            .values(**values)
        ).rowcount
        if taken == 1:
            return
        row = conn.execute(
            sa.select(
                SchedulerLock.holder, SchedulerLock.heartbeat_at, SchedulerLock.expires_at
            ).where(SchedulerLock.name == LOCK_NAME)
        ).one_or_none()
    if row is None:  # released between the two statements: try once more
        return acquire(engine, holder, now, lease_s)
    raise SchedulerLockedError(
        f"another `equiptwin serve` already runs on {engine.url.render_as_string()}: "
        f"holder {row.holder}, last heartbeat {row.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC, "
        f"lease until {row.expires_at:%Y-%m-%d %H:%M:%S} UTC; stop it, or wait for the lease "
        "to expire if it died."
    )


def renew(engine: sa.Engine, holder: str, now: dt.datetime, lease_s: float) -> bool:
    """Extend the lease; return ``False`` when ``holder`` no longer holds it."""
    at = _naive_utc(now)
    with engine.begin() as conn:
        renewed = conn.execute(
            sa.update(SchedulerLock)
            .where(SchedulerLock.name == LOCK_NAME, SchedulerLock.holder == holder)
            .values(heartbeat_at=at, expires_at=at + dt.timedelta(seconds=lease_s))
        ).rowcount
    return bool(renewed == 1)


def release(engine: sa.Engine, holder: str) -> None:
    """Give the lease up (nothing happens when ``holder`` does not hold it)."""
    with engine.begin() as conn:
        conn.execute(
            sa.delete(SchedulerLock).where(
                SchedulerLock.name == LOCK_NAME, SchedulerLock.holder == holder
            )
        )


@contextmanager
def holding(engine: sa.Engine, holder: str, clock: Clock, lease_s: float) -> Iterator[None]:
    """Hold the scheduler lease for the ``with`` block; release it however the block ends.

    Raises
    ------
    SchedulerLockedError
        When another holder's lease has not expired (the block does not run).
    """
    acquire(engine, holder, clock(), lease_s)
    try:
        yield
    finally:
        release(engine, holder)
