from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from equiptwin.config import defaults
from equiptwin.cycle import run_daily_cycle, with_outputs_dir
from equiptwin.outputs.report import reports_dir


@pytest.mark.parametrize(
    ("report_dir", "expected"),
    [("reports", "out/reports"), ("/srv/reports", "/srv/reports")],
    ids=["relative-inside-out", "absolute-kept"],
)
def test_outputs_go_inside_out(report_dir: str, expected: str) -> None:
    config = dataclasses.replace(defaults(), values={**defaults().values, "report.dir": report_dir})
    moved = with_outputs_dir(config, Path("out"))
    assert moved["outputs.dir"] == "out"
    assert reports_dir(moved) == Path(expected)
    assert config["outputs.dir"] == defaults()["outputs.dir"]  # the original is unchanged


def test_the_planning_time_must_be_aware(tmp_path: Path) -> None:
    import sqlalchemy as sa

    with pytest.raises(ValueError, match="`now` must be timezone-aware"):
        run_daily_cycle(
            sa.create_engine("sqlite://"),
            defaults(),
            dt.date(2026, 10, 1),
            tmp_path,
            dt.datetime(2026, 10, 1, 6),
        )
