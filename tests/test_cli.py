from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from equiptwin.cli import cli


def test_every_command_has_help_with_an_example() -> None:
    runner = CliRunner()
    for name in cli.list_commands(None):  # type: ignore[arg-type]
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, name
        assert "Example: equiptwin" in result.output, f"`{name} --help` has no example"


def test_python_dash_m_runs_the_cli() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "equiptwin", "--version"], capture_output=True, text=True, check=True
    )
    assert "equiptwin" in out.stdout


def test_domain_error_is_one_line_and_non_zero(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[ingest]\nchunk_lines = 0\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--pipeline", str(bad), "settings"])
    assert result.exit_code == 1
    message = result.output.strip()
    assert message.startswith("Error: ")
    assert "\n" not in message
    assert "`ingest.chunk_lines` must be greater than 0" in message


def test_migrate_reports_the_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    result = CliRunner().invoke(cli, ["--db", url, "migrate"])
    assert result.exit_code == 0, result.output
    assert "empty ->" in result.output


@pytest.mark.slow
def test_demo_runs_on_sample_logs(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    result = CliRunner().invoke(
        cli,
        [
            "--db",
            f"sqlite:///{tmp_path / 'demo.sqlite'}",
            "demo",
            str(root / "sample_logs"),
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "store" in result.output
    report = tmp_path / "out" / "reports" / "report-2026-10-01.html"
    assert f"report     {report}" in result.output
    assert "Daily maintenance report" in report.read_text(encoding="utf-8")
