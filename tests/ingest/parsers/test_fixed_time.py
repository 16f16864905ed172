from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from equiptwin.ingest.parsers.fixed_time import parse_naive

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _values(seed: int, n: int) -> list[str | None]:
    """Canonical timestamps and near misses: impossible dates, other cases, widths, bytes."""
    rng = random.Random(seed)
    out: list[str | None] = [None, "", "garbage"]
    for _ in range(n):
        year = rng.choice([1, 999, 1677, 1900, 1970, 2024, 2025, 2262, 9999])
        month = rng.choice([*MONTHS, "FEB", "feb", "Foo"])
        text = (
            f"{rng.randint(0, 32):02d}-{month}-{year:04d} "
            f"{rng.randint(0, 24):02d}:{rng.randint(0, 60):02d}:{rng.randint(0, 61):02d}"
        )
        mangle = rng.random()
        if mangle < 0.05:
            text = " " + text[1:]
        elif mangle < 0.1:
            text = text[:-1]
        elif mangle < 0.15:
            text = text.replace("0", "O", 1)
        elif mangle < 0.2:
            text = text.replace("2", "\u0662", 1)
        out.append(text)
    return out


def _numeric(text: str | None) -> str | None:
    """The same value in the layout ``%d.%m.%Y %H:%M:%S``."""
    if text is None:
        return None
    for number, name in enumerate(MONTHS, 1):
        text = text.replace(f"-{name}-", f".{number:02d}.")
    return text


@pytest.mark.parametrize(
    ("layout", "convert"),
    [("%d-%b-%Y %H:%M:%S", None), ("%d.%m.%Y %H:%M:%S", _numeric), ("%d.%m.%y %H:%M:%S", None)],
)
def test_parse_naive_equals_pandas_on_every_value(layout: str, convert: object) -> None:
    values = _values(11, 4_000)
    if callable(convert):
        values = [convert(v) for v in values]
    if "%y" in layout:  # a layout the fast path leaves to pandas
        values = [v[:6] + v[8:] if v and len(v) > 8 else v for v in map(_numeric, values)]
    whole = pa.array(values, pa.large_string())
    for text in (whole, whole.slice(5, 2_000), pa.array(values, pa.string())):
        fast = parse_naive(text, layout).to_numpy(dtype="datetime64[us]")
        slow = pd.to_datetime(text.to_pandas(), format=layout, errors="coerce")
        expected = slow.to_numpy(dtype="datetime64[us]")
        same = (fast == expected) | (np.isnat(fast) & np.isnat(expected))
        assert same.all(), [text[int(i)] for i in np.flatnonzero(~same)[:5]]
        assert 0 < np.isnat(expected).sum() < len(text)  # both outcomes are exercised
