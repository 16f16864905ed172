from __future__ import annotations

import datetime as dt

import pytest

from equiptwin.errors import SchedulerLockedError
from equiptwin.scheduler import lock
from equiptwin.store import db as store_db

T0 = dt.datetime(2026, 10, 1, 4, 0, tzinfo=dt.UTC)
LEASE_S = 120.0


def test_a_second_scheduler_is_refused_and_told_the_holder(store_url: str) -> None:
    engine = store_db.open_store(store_url)
    lock.acquire(engine, "host-a:1:aaaa", T0, LEASE_S)
    with pytest.raises(SchedulerLockedError, match="holder host-a:1:aaaa") as refused:
        lock.acquire(engine, "host-b:2:bbbb", T0 + dt.timedelta(seconds=30), LEASE_S)
    assert "\n" not in str(refused.value)


def test_the_holder_renews_and_reacquires_its_own_lease(store_url: str) -> None:
    engine = store_db.open_store(store_url)
    lock.acquire(engine, "a", T0, LEASE_S)
    lock.acquire(engine, "a", T0 + dt.timedelta(seconds=10), LEASE_S)
    assert lock.renew(engine, "a", T0 + dt.timedelta(seconds=100), LEASE_S)
    # renewed at +100 s: still held at +200 s, which the first lease alone would not be
    with pytest.raises(SchedulerLockedError):
        lock.acquire(engine, "b", T0 + dt.timedelta(seconds=200), LEASE_S)


def test_an_expired_lease_is_taken_over_and_the_old_holder_notices(store_url: str) -> None:
    engine = store_db.open_store(store_url)
    lock.acquire(engine, "dead", T0, LEASE_S)
    lock.acquire(engine, "alive", T0 + dt.timedelta(seconds=LEASE_S + 1), LEASE_S)
    assert not lock.renew(engine, "dead", T0 + dt.timedelta(seconds=LEASE_S + 2), LEASE_S)
    lock.release(engine, "dead")  # not the holder: nothing happens
    with pytest.raises(SchedulerLockedError, match="holder alive"):
        lock.acquire(engine, "third", T0 + dt.timedelta(seconds=LEASE_S + 3), LEASE_S)


def test_release_frees_the_lease_even_when_the_block_fails(store_url: str) -> None:
    engine = store_db.open_store(store_url)
    with pytest.raises(RuntimeError), lock.holding(engine, "a", lambda: T0, LEASE_S):
        raise RuntimeError("job crashed")
    lock.acquire(engine, "b", T0, LEASE_S)


def test_holder_ids_name_the_host_and_process() -> None:
    import os
    import socket

    holder = lock.new_holder_id()
    assert holder.startswith(f"{socket.gethostname()}:{os.getpid()}:")
    assert holder != lock.new_holder_id()
