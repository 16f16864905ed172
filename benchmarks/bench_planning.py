"""Rebooking benchmark: exact MILP (HiGHS) on synthetic departments of growing size.

For each case a fleet of CT systems over two sites is booked at a target utilisation for
a week (exam lengths 15-45 min, 10% stat, 20% inpatient), one or more 6-hour maintenance
windows displace the exams under them, and :func:`equiptwin.planning.rebooking.rebook`
finds new slots. It reports the solve time, the program size, HiGHS's MIP gap, the share
rebooked and the mean shift; on the smaller cases it also solves without candidate pruning
to show that pruning keeps the optimum and what it saves.

Timings are wall-clock on a shared 2-core machine: expect noise.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from equiptwin.config import defaults
from equiptwin.planning.bookings import Block, Booking, SystemInfo, overlaps
from equiptwin.planning.rebooking import RebookingRules, rebook

TZ = "Europe/Amsterdam"
LOCAL = ZoneInfo(TZ)
RULES = RebookingRules.from_config(defaults())
NOW = dt.datetime(2026, 3, 2, 6, tzinfo=LOCAL).astimezone(dt.UTC)
OUT = Path(__file__).parent / "results" / "planning.json"


def department(
    n_systems: int, utilisation: float, seed: int
) -> tuple[dict[str, SystemInfo], list[Booking]]:
    rng = random.Random(seed)
    systems = {
        f"CT-{i:02d}": SystemInfo(f"CT-{i:02d}", "AMS" if i % 2 == 0 else "UTR", "CT", TZ)
        for i in range(n_systems)
    }
    bookings = []
    for system_id in systems:
        for day in range(2, 9):
            at = dt.datetime(2026, 3, day, 7, tzinfo=LOCAL)
            end = dt.datetime(2026, 3, day, 20, tzinfo=LOCAL)
            while True:
                minutes = rng.choice([15, 20, 20, 30, 45])
                if rng.random() > utilisation:
                    at += dt.timedelta(minutes=15)
                    continue
                if at + dt.timedelta(minutes=minutes) > end:
                    break
                u = rng.random()
                priority = "stat" if u < 0.1 else "inpatient" if u < 0.3 else "outpatient"
                bookings.append(
                    Booking(
                        f"{system_id}-{len(bookings)}",
                        system_id,
                        at.astimezone(dt.UTC),
                        minutes,
                        priority,
                    )
                )
                at += dt.timedelta(minutes=minutes)
    return systems, bookings


def case(
    n_systems: int, windows: int, utilisation: float, seed: int, compare: bool
) -> dict[str, object]:
    systems, bookings = department(n_systems, utilisation, seed)
    blocks = [
        Block(
            f"CT-{i:02d}",
            dt.datetime(2026, 3, 2 + i, 9, tzinfo=LOCAL).astimezone(dt.UTC),
            dt.datetime(2026, 3, 2 + i, 15, tzinfo=LOCAL).astimezone(dt.UTC),
        )
        for i in range(windows)
    ]
    displaced = [
        b
        for b in bookings
        if any(
            k.system_id == b.system_id and overlaps(b.start, b.end, k.start, k.end) for k in blocks
        )
    ]
    ids = {b.appointment_id for b in displaced}
    staying = [b for b in bookings if b.appointment_id not in ids]
    t0 = time.perf_counter()
    result = rebook(displaced, staying, blocks, systems, RULES, NOW)
    seconds = time.perf_counter() - t0
    moved = [m for m in result.moves if m.new_start is not None]
    row: dict[str, object] = {
        "systems": n_systems,
        "windows": windows,
        "utilisation": utilisation,
        "seed": seed,
        "displaced": len(displaced),
        "rebooked": len(moved),
        "candidates": result.candidates,
        "mip_gap": result.mip_gap,
        "seconds": round(seconds, 3),
        "mean_shift_h": round(
            sum(abs((m.new_start - m.old_start).total_seconds()) for m in moved if m.new_start)
            / 3600
            / max(1, len(moved)),
            2,
        ),
        "moved_to_other_site": sum(
            systems[m.new_system_id].site != systems[m.old_system_id].site
            for m in moved
            if m.new_system_id
        ),
    }
    if compare:
        t0 = time.perf_counter()
        full = rebook(displaced, staying, blocks, systems, RULES, NOW, prune=False)
        row |= {
            "unpruned_candidates": full.candidates,
            "unpruned_seconds": round(time.perf_counter() - t0, 3),
            "same_objective": abs(full.objective - result.objective)
            <= 1e-6 * max(1.0, full.objective),
        }
    return row


def main() -> None:
    rows = [
        case(2, 1, 0.8, 11, True),
        case(4, 1, 0.8, 12, True),
        case(4, 2, 0.9, 13, False),
        case(8, 3, 0.85, 14, False),
        case(16, 4, 0.85, 15, False),
    ]
    for r in rows:
        print(
            f"{r['systems']:>3} systems {r['windows']} windows: {r['displaced']:>3} displaced, "
            f"{r['rebooked']:>3} rebooked, {r['candidates']:>6} candidates, "
            f"gap {r['mip_gap']:.1e}, "
            f"{r['seconds']:.2f} s"
            + (
                f" (unpruned {r['unpruned_seconds']:.2f} s, same optimum: {r['same_objective']})"
                if "unpruned_seconds" in r
                else ""
            )
        )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(
        json.dumps(
            {
                "benchmark": "rebooking",
                "note": "shared 2-core machine; timings are noisy",
                "cases": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
