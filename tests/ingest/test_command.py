from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from equiptwin.cli import cli
from tests.ingest.fleet import PERSONAL


def test_ingest_command_prints_the_summary(fleet: Path, tmp_path: Path, secret: str) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    result = CliRunner().invoke(cli, ["--db", url, "ingest", "--no-progress", str(fleet)])
    assert result.exit_code == 0, result.output
    assert "rows stored:" in result.output and "quarantined: 11" in result.output
    assert not any(name in result.output for name in PERSONAL)
    again = CliRunner().invoke(cli, ["--db", url, "ingest", str(fleet)])
    assert "lines read: 0" in again.output


def test_bad_mapping_is_a_one_line_error(fleet: Path, tmp_path: Path) -> None:
    pipeline = tmp_path / "p.toml"
    pipeline.write_text('[mappings.exposures]\ntimezone = "Mars/Olympus"\n', encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["--db", str(tmp_path / "s.sqlite"), "--pipeline", str(pipeline), "ingest", str(fleet)]
    )
    assert result.exit_code == 1
    assert result.output.startswith("Error: `mappings.exposures.timezone`")
    assert result.output.count("\n") == 1


@pytest.mark.parametrize("args", [["ingest", "--help"]])
def test_help_has_an_example(args: list[str]) -> None:
    assert "Example: equiptwin" in CliRunner().invoke(cli, args).output
