from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from equiptwin.cli import cli


def test_simulate_writes_a_fleet_and_reports_it(tmp_path: Path) -> None:
    out = tmp_path / "fleet"
    args = ["simulate", str(out), "--systems", "2", "--days", "3", "--seed", "5"]
    result = CliRunner().invoke(cli, [*args, "--volume", "reduced", "--mix", "CT=1"])
    assert result.exit_code == 0, result.output
    assert "2 systems x 3 days" in result.output
    assert (out / "assets.csv").exists() and (out / "_truth" / "lives.csv").exists()
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 1
    assert again.output.startswith("Error: ") and again.output.count("\n") == 1
    assert "--force" in again.output
    forced = CliRunner().invoke(cli, [*args, "--force"])
    assert forced.exit_code == 0, forced.output


def test_simulate_rejects_bad_arguments_in_one_line(tmp_path: Path) -> None:
    for bad, word in (
        (["--systems", "0"], "`systems`"),
        (["--mix", "CT=abc"], "`mix`"),
        (["--wear-scale", "0"], "`wear_scale`"),
    ):
        result = CliRunner().invoke(cli, ["simulate", str(tmp_path / "x"), *bad])
        assert result.exit_code == 1
        assert word in result.output and result.output.count("\n") == 1
    help_text = CliRunner().invoke(cli, ["simulate", "--help"]).output
    assert "Example: equiptwin simulate" in help_text
