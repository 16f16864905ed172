from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from equiptwin.planning.bookings import Block, Booking, SystemInfo, overlaps
from equiptwin.planning.rebooking import Move, RebookingRules, rebook

from .conftest import TZ, config_with

LOCAL = ZoneInfo(TZ)
RULES = RebookingRules.from_config(config_with(rebooking__search_days=2))
SYSTEMS = {
    "CT-A1": SystemInfo("CT-A1", "AMS", "CT", TZ),
    "CT-A2": SystemInfo("CT-A2", "AMS", "CT", TZ),
    "CT-U1": SystemInfo("CT-U1", "UTR", "CT", "Europe/London"),
    "MR-A1": SystemInfo("MR-A1", "AMS", "MR", TZ),
}

HIGHS_MIP_REL_GAP = 1e-4
"""HiGHS stops once the relative MIP gap is this small (its default `mip_rel_gap`)."""


def local(day: int, hour: int, minute: int = 0, tz: ZoneInfo = LOCAL) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=tz).astimezone(dt.UTC)


NOW = local(2, 6)


def fill(day: int, skip: frozenset[tuple[str, int]] = frozenset()) -> list[Booking]:
    """Book CT-A2 and CT-U1 solid in local half hours, except the (system, minute) given."""
    out = []
    for system_id in ("CT-A2", "CT-U1"):
        tz = SYSTEMS[system_id].tz
        for minute in range(6 * 60, 21 * 60, 30):
            if (system_id, minute) not in skip:
                at = local(day, minute // 60, minute % 60, tz=tz)
                out.append(Booking(f"F-{system_id}-{minute}", system_id, at, 30, "outpatient"))
    return out


def test_prefers_same_system_then_same_site_then_nearest_time() -> None:
    block = Block("CT-A1", local(2, 7), local(2, 12))
    exam = Booking("E1", "CT-A1", local(2, 9), 20, "outpatient")
    free = rebook([exam], [], [block], SYSTEMS, RULES, NOW)
    (move,) = free.moves
    # CT-A2 at the same time (1 h penalty) beats CT-A1 after the window (3 h later)
    assert (move.new_system_id, move.new_start) == ("CT-A2", local(2, 9))
    (move,) = rebook([exam], fill(2), [block], SYSTEMS, RULES, NOW).moves
    assert (move.new_system_id, move.new_start) == ("CT-A1", local(2, 12))
    assert free.mip_gap == 0.0


def test_stat_never_later_and_inpatient_same_day() -> None:
    block = Block("CT-A1", local(2, 7), local(2, 20))
    stat = Booking("S", "CT-A1", local(2, 10), 20, "stat")
    inpatient = Booking("I", "CT-A1", local(2, 10), 20, "inpatient")
    result = rebook([stat, inpatient], fill(2), [block], SYSTEMS, RULES, NOW)
    assert [m.action for m in result.moves] == ["cancelled", "cancelled"]
    assert "no free time" in result.moves[0].reason
    holes = {("CT-A2", 8 * 60), ("CT-U1", 19 * 60)}
    result = rebook([stat, inpatient], fill(2, frozenset(holes)), [block], SYSTEMS, RULES, NOW)
    for move in result.moves:
        assert move.action == "moved" and move.new_start is not None
        assert move.new_start.astimezone(LOCAL).date() == dt.date(2026, 3, 2)


def test_higher_priority_wins_the_last_free_slot() -> None:
    block = Block("CT-A1", local(2, 7), local(2, 20))
    full = fill(2, frozenset({("CT-A2", 9 * 60)}))
    a = Booking("A", "CT-A1", local(2, 9), 30, "inpatient")
    b = Booking("B", "CT-A1", local(2, 9), 30, "stat")
    result = rebook([a, b], full, [block], SYSTEMS, RULES, NOW)
    assert {m.appointment_id: m.action for m in result.moves} == {"A": "cancelled", "B": "moved"}


@st.composite
def schedules(draw: st.DrawFn) -> tuple[list[Booking], Block]:
    bookings: list[Booking] = []
    n = 0
    for system_id in draw(
        st.sampled_from([["CT-A1"], ["CT-A1", "CT-A2"], ["CT-A1", "CT-A2", "CT-U1"]])
    ):
        tz = SYSTEMS[system_id].tz
        for day in (2, 3):
            at = local(day, 7, tz=tz)
            for gap, dur, prio in draw(
                st.lists(
                    st.tuples(
                        st.sampled_from([0, 0, 15, 30, 90]),
                        st.sampled_from([15, 20, 30, 45]),
                        st.sampled_from(["stat", "inpatient", "outpatient", "outpatient"]),
                    ),
                    max_size=20,
                )
            ):
                at += dt.timedelta(minutes=gap)
                if at + dt.timedelta(minutes=dur) > local(day, 20, tz=tz):
                    break
                bookings.append(Booking(f"E{n}", system_id, at, dur, prio))
                n += 1
                at += dt.timedelta(minutes=dur)
    hour = draw(st.integers(7, 14))
    block = Block("CT-A1", local(2, hour), local(2, hour + draw(st.integers(1, 6))))
    return bookings, block


def _grid_free(
    exam: Booking, final: list[tuple[str, dt.datetime, dt.datetime]], block: Block
) -> bool:
    """Brute force: is there any allowed grid start still free for the exam?"""
    home = SYSTEMS[exam.system_id]
    for target in SYSTEMS.values():
        if target.modality != home.modality:
            continue
        for day in range(1, 6):
            at = dt.datetime(2026, 3, day, 7, tzinfo=target.tz)
            while at + dt.timedelta(minutes=exam.duration_min) <= dt.datetime(
                2026, 3, day, 20, tzinfo=target.tz
            ):
                start, end = at.astimezone(dt.UTC), at + dt.timedelta(minutes=exam.duration_min)
                at += dt.timedelta(minutes=RULES.step_min)
                old_day = exam.start.astimezone(home.tz).date()
                new_day = start.astimezone(home.tz).date()
                ok = (
                    start >= NOW
                    and {
                        "stat": start <= exam.start,
                        "inpatient": new_day == old_day,
                        "outpatient": old_day
                        <= new_day
                        <= old_day + dt.timedelta(days=RULES.search_days),
                    }[exam.priority]
                )
                taken = [(s, b, e) for s, b, e in final if s == target.system_id]
                taken.append((block.system_id, block.start, block.end))
                if ok and not any(
                    s == target.system_id and overlaps(start, end, b, e) for s, b, e in taken
                ):
                    return True
    return False


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schedules())
def test_rebooking_invariants(case: tuple[list[Booking], Block]) -> None:
    bookings, block = case
    displaced = [
        b
        for b in bookings
        if b.system_id == block.system_id and overlaps(b.start, b.end, block.start, block.end)
    ]
    staying = [b for b in bookings if b not in displaced]
    result = rebook(displaced, staying, [block], SYSTEMS, RULES, NOW)
    # no exam lost: one move per displaced exam
    assert sorted(m.appointment_id for m in result.moves) == sorted(
        b.appointment_id for b in displaced
    )
    final = [(b.system_id, b.start, b.end) for b in staying]
    by_id = {b.appointment_id: b for b in displaced}
    for move in result.moves:
        exam = by_id[move.appointment_id]
        if move.new_start is None:
            continue
        assert move.new_system_id is not None
        assert SYSTEMS[move.new_system_id].modality == "CT"
        assert move.new_start >= NOW
        if exam.priority == "stat":
            assert move.new_start <= exam.start
        if exam.priority == "inpatient":
            assert move.new_start.astimezone(LOCAL).date() == exam.start.astimezone(LOCAL).date()
        final.append(
            (
                move.new_system_id,
                move.new_start,
                move.new_start + dt.timedelta(minutes=exam.duration_min),
            )
        )
    # no system double-booked, nothing inside the maintenance window
    for i, (s1, b1, e1) in enumerate(final):
        assert not (s1 == block.system_id and overlaps(b1, e1, block.start, block.end))
        for s2, b2, e2 in final[i + 1 :]:
            assert not (s1 == s2 and overlaps(b1, e1, b2, e2)), (s1, b1, e1, b2, e2)
    # every exam that had room anywhere was rebooked
    for move in result.moves:
        if move.new_start is None:
            assert not _grid_free(by_id[move.appointment_id], final, block)
    assert result.mip_gap <= HIGHS_MIP_REL_GAP


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schedules())
def test_pruning_candidates_keeps_the_optimum(case: tuple[list[Booking], Block]) -> None:
    bookings, block = case
    displaced = [
        b
        for b in bookings
        if b.system_id == block.system_id and overlaps(b.start, b.end, block.start, block.end)
    ][:6]
    staying = [b for b in bookings if b not in displaced]
    pruned = rebook(displaced, staying, [block], SYSTEMS, RULES, NOW)
    full = rebook(displaced, staying, [block], SYSTEMS, RULES, NOW, prune=False)
    assert pruned.candidates <= full.candidates

    def outcome(moves: tuple[Move, ...]) -> list[tuple[str, str]]:
        return sorted((m.priority, m.action) for m in moves)

    assert outcome(pruned.moves) == outcome(full.moves)
    assert abs(pruned.objective - full.objective) <= HIGHS_MIP_REL_GAP * max(1.0, full.objective)
