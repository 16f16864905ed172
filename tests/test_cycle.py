from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from equiptwin.config import defaults
from equiptwin.cycle import run_daily_cycle, with_outputs_dir


@pytest.mark.parametrize(
    ("sinks_dir", "expected"),
    [("tickets", "out/tickets"), ("/srv/drop", "/srv/drop")],
    ids=["relative-inside-out", "absolute-kept"],
)
def test_outputs_and_the_ticket_drop_folder_go_inside_out(sinks_dir: str, expected: str) -> None:
    config = dataclasses.replace(
        defaults(), values={**defaults().values, "sinks.file.dir": sinks_dir}
    )
    moved = with_outputs_dir(config, Path("out"))
    assert moved["outputs.dir"] == "out"
    assert Path(moved["sinks.file.dir"]) == Path(expected)
    assert config["sinks.file.dir"] == sinks_dir  # the original is unchanged


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
