"""Choosing an engine by name."""

from __future__ import annotations

import pytest

from equiptwin.config import defaults
from equiptwin.dist.engine import ENGINES, LocalEngine, open_engine
from equiptwin.errors import ConfigError


def test_local_engine_runs_in_process() -> None:
    with open_engine("local", defaults()) as engine:
        assert isinstance(engine, LocalEngine)
        assert engine.parse_logs is None
        with engine.boosting():
            pass


@pytest.mark.parametrize(
    ("name", "scheduler", "match"),
    [
        ("spark", None, r"--engine must be one of \['dask', 'local'\], but found 'spark'"),
        ("local", "tcp://head:8786", r"--scheduler tcp://head:8786 needs --engine dask"),
    ],
    ids=["unknown", "scheduler_without_dask"],
)
def test_bad_choices_are_named(name: str, scheduler: str | None, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        open_engine(name, defaults(), scheduler)


def test_every_engine_is_a_cli_choice() -> None:
    from equiptwin.cli import cli

    option = next(p for p in cli.params if p.name == "engine")
    assert sorted(option.type.choices) == sorted(ENGINES)  # type: ignore[attr-defined]
