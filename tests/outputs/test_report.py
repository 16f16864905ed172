"""Contracts of the daily report on a small planned store (SQLite, and PostgreSQL)."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from PIL import Image

from equiptwin.cli import cli
from equiptwin.evaluate.compare import goal_check
from equiptwin.evaluate.metrics import HEADLINE, summarise
from equiptwin.evaluate.plots import plot_summary
from equiptwin.outputs.report import report_path, write_report
from equiptwin.outputs.report_views import backtest_view
from equiptwin.planning.plan import plan_day
from equiptwin.planning.tickets import dedup_key
from tests.outputs.conftest import FORECASTS, REPO, PlannedDay, Scan, write_evaluation
from tests.planning.conftest import AS_OF, NOW, life_of

PNG = "data:image/png;base64,"


@pytest.fixture
def report(planned: PlannedDay) -> tuple[PlannedDay, str]:
    path = write_report(planned.engine, planned.config, AS_OF, planned.out_dir / "reports", NOW)
    assert path == report_path(planned.out_dir / "reports", AS_OF)
    assert path.name == f"report-{AS_OF}.html"
    return planned, path.read_text(encoding="utf-8")


def test_fleet_is_ranked_by_risk_and_lists_every_component(
    report: tuple[PlannedDay, str],
) -> None:
    _, html = report
    rows = Scan(html).having("data-p30", "tr")
    assert [r["data-life-id"] for r in rows] == [
        f.life_id for f in sorted(FORECASTS, key=lambda f: -f.p_within(30))
    ]
    p30 = [float(r["data-p30"]) for r in rows]
    assert p30 == sorted(p30, reverse=True)


def test_every_at_risk_component_has_its_section_with_plots(
    report: tuple[PlannedDay, str],
) -> None:
    planned, html = report
    threshold = planned.config["report.at_risk_p30"]
    ticketed = {change.dedup_key.rsplit(":", 1)[1] for change in planned.plan.tickets}
    expected = {f.life_id for f in FORECASTS if f.p_within(30) >= threshold} | ticketed
    assert expected == {life_of("CT-AMS-01"), life_of("CT-UTR-01")}
    sections = re.findall(r'<section class="component".*?</section>', html, flags=re.S)
    assert {Scan(s).having("data-life-id", "section")[0]["data-life-id"] for s in sections} == (
        expected
    )
    for section in sections:
        images = Scan(section).having("src", "img")
        assert len(images) >= 1
        assert "Failure window: " in section or "No failure window" in section
    ticket_section = next(s for s in sections if life_of("CT-AMS-01") in s)
    high = FORECASTS[0]
    assert f"Failure window: {high.window_start} to {high.window_end}" in ticket_section
    assert "replace X-ray tube" in ticket_section
    assert "critical" in ticket_section
    # stored drivers in words, escaped (autoescape on)
    assert "arc rate 9/day &lt;b&gt;up&lt;/b&gt; from 0.3" in ticket_section
    assert "<b>up</b>" not in html
    # the stored model is not in the registry: the curve is drawn through the stored points
    assert "stored 7, 14 and 30-day probabilities" in ticket_section


def test_the_report_is_self_contained(report: tuple[PlannedDay, str]) -> None:
    _, html = report
    scan = Scan(html)
    assert not [t for t, _ in scan.tags if t in ("link", "script", "iframe", "object")]
    for attrs in scan.having("src") + scan.having("href"):
        target = attrs.get("src") or attrs.get("href", "")
        assert not re.match(r"^(https?:)?//", target), target
        assert target.startswith((PNG, "#")), target
    assert "url(" not in html and "@import" not in html
    images = scan.having("src", "img")
    assert len(images) == 3  # risk overview, two survival curves (no readings: no trends)
    for attrs in images:
        with Image.open(io.BytesIO(base64.b64decode(attrs["src"][len(PNG) :]))) as png:
            assert png.format == "PNG" and png.width >= 300 and png.height >= 150


def test_tickets_changes_capacity_model_and_backtest(report: tuple[PlannedDay, str]) -> None:
    planned, html = report
    scan = Scan(html)
    key = dedup_key("CT-AMS-01", "xray_tube", life_of("CT-AMS-01"))
    assert [a["data-ticket"] for a in scan.having("data-ticket", "tr")] == [key]
    moved = {m.appointment_id for m in planned.plan.moves}
    assert moved
    assert {a["data-appointment"] for a in scan.having("data-appointment", "tr")} == moved
    words = scan.words
    assert "file: pending" in words  # the revision's outbox state (not delivered yet)
    assert f"Today's plan moved {len(moved)} exam(s)" in words
    assert "Capacity, next 14 days" in words
    capacity_rows = re.search(r"<h3>Capacity.*?</table>", html, flags=re.S)
    assert capacity_rows is not None and "CT-AMS-01" in capacity_rows.group(0)
    assert "sample-2026-10-01" in words  # the registry's newest model card
    assert "the twin's own failure curve scaled by XGBCox" in words  # its kind, in words
    assert "concordance" in words
    assert "newest model" in words and "old model" not in words
    assert "3 of 4" in words  # failures alerted in the newest backtest
    assert "1 of 4" in words  # ... and at equiptwin's false-alert rate


def test_a_model_that_never_alerts_as_rarely_is_said_so(tmp_path: Path) -> None:
    path = write_evaluation(tmp_path / "evaluation.json", "Cox PH", 1_000_000)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["matched_to_equiptwin"][0]["matched"] = False
    view = backtest_view((path, data))
    assert view is not None
    assert view["rows"][0]["at_our_false_alerts"] == "never as few false alerts"
    del data["matched_to_equiptwin"]  # an evaluation from before the matched comparison
    assert backtest_view((path, data))["rows"][0]["at_our_false_alerts"] == ""


def test_the_operations_evaluation_is_shown_with_its_plot(planned: PlannedDay) -> None:
    """What `equiptwin evaluate` wrote into `report.operations_dir` reaches the report."""
    policies = ("run-to-failure", "fixed interval", "threshold alarms", "equiptwin")
    runs = pd.DataFrame(
        [
            {"world": w, "policy": p, **{m: 100.0 * (4 - k) + w for m in HEADLINE}}
            for w in (1, 2)
            for k, p in enumerate(policies)
        ]
    ).assign(discarded_life_days=1.0, total_cost=1e6)
    summary = summarise(runs)
    folder = planned.out_dir / "operations"
    folder.mkdir()
    plot_summary(summary, folder / "operations.png")
    body = {"goal": goal_check(runs), "summary": summary.to_dict(orient="records")}
    (folder / "operations.json").write_text(json.dumps(body), encoding="utf-8")
    path = write_report(planned.engine, planned.config, AS_OF, planned.out_dir, NOW)
    html = path.read_text(encoding="utf-8")
    section = re.search(r"<h3>What maintenance policies.*?</table>", html, flags=re.S)
    assert section is not None
    rows = Scan(section.group(0)).words
    assert all(p in rows for p in policies)
    assert "equiptwin 102 [95, 108] 102 [95, 108] 1 [1, 1] 1,000,000 [" in rows
    assert "cuts unplanned downtime by 75%" in Scan(html).words
    images = re.findall(r'<img src="(data:image/png;base64,[^"]+)" alt="Operations', html)
    assert len(images) == 1
    Image.open(io.BytesIO(base64.b64decode(images[0][len(PNG) :]))).verify()


def test_without_an_operations_evaluation_the_report_says_how_to_make_one(
    report: tuple[PlannedDay, str],
) -> None:
    assert "No operations evaluation found in" in Scan(report[1]).words


def test_rewriting_the_same_day_gives_the_same_file(planned: PlannedDay) -> None:
    folder = planned.out_dir / "reports"
    first = write_report(planned.engine, planned.config, AS_OF, folder, NOW).read_bytes()
    again = write_report(planned.engine, planned.config, AS_OF, folder, NOW)
    assert again.read_bytes() == first
    assert sorted(p.name for p in folder.iterdir()) == [again.name]


def test_a_day_without_forecasts_still_reports_and_says_so(planned: PlannedDay) -> None:
    day = AS_OF + dt.timedelta(days=3)
    path = write_report(planned.engine, planned.config, day, planned.out_dir, NOW)
    words = Scan(path.read_text(encoding="utf-8")).words
    assert f"No forecast is stored for {day}" in words
    assert "No component is at risk today" in words


def test_the_at_risk_sections_are_capped(planned: PlannedDay) -> None:
    values = {**planned.config.values, "report.max_at_risk": 1}
    config = dataclasses.replace(planned.config, values=values)
    html = write_report(planned.engine, config, AS_OF, planned.out_dir, NOW).read_text("utf-8")
    assert len(Scan(html).having("data-life-id", "section")) == 1
    assert "2 components are at risk; the 1 with the highest risk are shown" in Scan(html).words


def test_report_files_are_named_by_day(tmp_path: Path) -> None:
    assert report_path(tmp_path, dt.date(2026, 3, 2)) == tmp_path / "report-2026-03-02.html"


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_the_command_writes_the_day_s_report(
    planned: PlannedDay, store_url: str, tmp_path: Path
) -> None:
    pipeline = tmp_path / "site.toml"
    pipeline.write_text(f'[models]\ndir = "{REPO / "models"}"\n', encoding="utf-8")
    args = ["--db", store_url, "--pipeline", str(pipeline), "report"]
    out = tmp_path / "reports"
    result = CliRunner().invoke(cli, [*args, "--as-of", str(AS_OF), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output == f"report for {AS_OF}: {report_path(out, AS_OF)}\n"
    assert "CT-AMS-01" in report_path(out, AS_OF).read_text(encoding="utf-8")
    # the default day is the day after the last logged day; this store has no logs
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert result.output.startswith("Error: the store holds no event logs yet")


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_tickets_are_shown_as_they_stood_on_the_day(planned: PlannedDay) -> None:
    later = AS_OF + dt.timedelta(days=1)
    worse = dataclasses.replace(FORECASTS[0], as_of=later, p_fail=(0.9, 0.97, 0.99))
    plan_day(planned.engine, [worse], later, planned.config, NOW + dt.timedelta(days=1))
    key = dedup_key("CT-AMS-01", "xray_tube", life_of("CT-AMS-01"))

    def revisions_shown(day: dt.date) -> list[tuple[str, str]]:
        path = write_report(planned.engine, planned.config, day, planned.out_dir, NOW)
        rows = Scan(path.read_text(encoding="utf-8")).having("data-revision", "tr")
        return [(a["data-ticket"], a["data-revision"]) for a in rows]

    assert revisions_shown(AS_OF - dt.timedelta(days=1)) == []
    assert revisions_shown(AS_OF) == [(key, "1")]
    assert revisions_shown(later) == [(key, "2")]
