from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np
import pytest

from equiptwin.ingest.parsers import exposures
from equiptwin.ingest.parsers.base import BlockContext

HEADER = (
    "timestamp,system_id,exam_id,protocol,kvp,ma,exposure_s,focal_spot,filament_a,oil_temp_c,"
    "coastdown_s"
)
ROW = "2026-03-0{d}T0{h}:33:37+00:00,CT-AMS-01,AC{n:010d},HEAD,120,{ma},3.{s},L,5.255,30.8,{c}"


def _row(rng: random.Random, n: int, rate: float) -> str:
    row = ROW.format(
        d=rng.randint(1, 9),
        h=rng.randint(0, 9),
        n=n,
        ma=rng.randint(50, 500),
        s=rng.randint(0, 99),
        c=rng.choice(["", "41.5", "39"]),
    )
    cells = row.split(",")
    wrinkle = rng.random() / rate * 0.1 if rate else 1.0
    if wrinkle < 0.02:
        cells[4] = rng.choice(["abc", "", "-120", "1e3", "0.1234567", "007"])
    elif wrinkle < 0.04:
        cells[1] = "XX-9"
    elif wrinkle < 0.06:
        cells[0] = rng.choice([cells[0][:19], "2026-02-30T01:00:00+00:00", cells[0][:19] + "Z"])
    elif wrinkle < 0.08:
        cells[3] = rng.choice([" HEAD ", '"HEAD"', "HEAD\u00e9"])
    elif wrinkle < 0.09:
        cells.append("extra")
    elif wrinkle < 0.1:
        return ""
    return ",".join(cells)


@pytest.mark.parametrize("seed", range(40))
def test_fast_path_gives_what_the_exact_path_gives(
    seed: int, make_ctx: Callable[..., BlockContext]
) -> None:
    rng = random.Random(seed)
    rate = (0.0, 0.01, 0.1)[seed % 3]  # a third of the blocks are clean
    rows = [_row(rng, rng.randrange(60), rate) for _ in range(rng.randint(1, 60))]
    rows += rng.sample(rows, rng.randint(0, len(rows)))  # repeated rows
    header = None if seed % 2 else HEADER
    data = ("\n".join(([HEADER] if header is None else []) + rows) + "\n").encode()
    fast_ctx, exact_ctx = make_ctx("exposures", header=header), make_ctx("exposures", header=header)
    got = exposures.parse_exposures(data, fast_ctx)
    want = exposures._exact(data, exact_ctx.mappings.csv["exposures"], exact_ctx)
    assert got.table is not None and want.table is not None
    assert got.table.schema == want.table.schema
    assert got.table.num_rows == want.table.num_rows
    for name in got.table.column_names:  # floats bit for bit (NaN included)
        g, w = got.table.column(name), want.table.column(name)
        if name in ("kvp", "ma", "exposure_s", "filament_a", "oil_temp_c", "coastdown_s"):
            assert np.array_equal(g.to_numpy().view(np.uint64), w.to_numpy().view(np.uint64))
        else:
            assert g.equals(w), name
    assert (got.lines, got.duplicates) == (want.lines, want.duplicates)
    assert fast_ctx.quarantine.items == exact_ctx.quarantine.items


def test_a_clean_block_takes_the_fast_path(make_ctx: Callable[..., BlockContext]) -> None:
    rows = [ROW.format(d=1, h=h % 10, n=h, ma=200, s=h, c="40") for h in range(20)]
    data = ("\n".join([HEADER, *rows, rows[0]]) + "\n").encode()
    ctx = make_ctx("exposures")
    fast = exposures._fast(data, ctx.mappings.csv["exposures"], ctx)
    assert fast is not None and fast.table is not None
    assert (fast.table.num_rows, fast.duplicates, fast.lines) == (20, 1, 22)
