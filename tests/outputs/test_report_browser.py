"""The report as an engineer sees it: rendered in headless Debian Chromium with Playwright.

The test fails on any console error, page error, failed request or image that did not
decode (``naturalWidth == 0``), and keeps a full-page screenshot. Chromium is Debian's
``/usr/bin/chromium`` (``.ci/run`` installs it when missing); Playwright's own browser
download is never used.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from equiptwin.outputs.report import write_report
from tests.outputs.conftest import PlannedDay
from tests.planning.conftest import AS_OF, NOW

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"Debian chromium is not installed at {CHROMIUM} (apt-get install chromium; "
    ".ci/run installs it)",
)
playwright_api = pytest.importorskip("playwright.sync_api")


@dataclass(frozen=True)
class Rendered:
    problems: list[str]
    images: int
    screenshot: Path


def render(page_file: Path, screenshot: Path) -> Rendered:
    """Open a local HTML file in headless Chromium and report what went wrong."""
    problems: list[str] = []
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.on(
                "console",
                lambda m: (
                    problems.append(f"console {m.type}: {m.text}")
                    if m.type in ("error", "warning")
                    else None
                ),
            )
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url[:80]}"))
            page.goto(page_file.as_uri(), wait_until="load")
            widths = page.eval_on_selector_all(
                "img", "images => images.map(i => [i.alt, i.complete, i.naturalWidth])"
            )
            problems += [f"image not shown: {a!r}" for a, done, w in widths if not done or w == 0]
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return Rendered(problems, len(widths), screenshot)


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_the_report_renders_cleanly_in_chromium(planned: PlannedDay, tmp_path: Path) -> None:
    path = write_report(planned.engine, planned.config, AS_OF, planned.out_dir, NOW)
    shown = render(path, tmp_path / "report.png")
    assert shown.problems == []
    assert shown.images == path.read_text(encoding="utf-8").count("<img ") >= 3
    assert shown.screenshot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(shown.screenshot) as png:
        assert png.width == 1100 and png.height > 2000  # the whole page, several sections
        colours = png.convert("RGB").resize((64, 256)).getcolors(64 * 256)
        assert colours is None or len(colours) > 50  # not a blank page


def test_the_check_catches_a_broken_image_and_a_script_error(tmp_path: Path) -> None:
    broken = base64.b64encode(b"\x89PNG\r\n\x1a\nnot really").decode()
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><html><body><h1>x</h1>"
        f'<img alt="bad plot" src="data:image/png;base64,{broken}">'
        "<script>undefinedFunction()</script></body></html>",
        encoding="utf-8",
    )
    shown = render(page, tmp_path / "broken.png")
    assert "image not shown: 'bad plot'" in shown.problems
    assert any(p.startswith("page error:") and "undefinedFunction" in p for p in shown.problems)
