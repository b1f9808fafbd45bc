"""The seed report in headless Chromium (Debian's package via Playwright) at a desktop and a phone
width, and printed to PDF (read back with poppler's pdftotext). The size budget at 5,000 documents
is tested without a browser in tests/test_report.py."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from engine.report.builder import build_report
from engine.report.screenshot import chromium, chromium_path, render
from tests.conftest import REPO


def _require(found: bool, message: str) -> None:
    if not found:
        if os.environ.get("ESCALATION_REQUIRE_SHARED") == "1":
            pytest.fail(message)
        pytest.skip(message)


# seed_result: tests/conftest.py (the seeds scored once for the session)


@pytest.fixture(scope="module")
def seed_report(seed_result, tmp_path_factory):
    _require(chromium_path() is not None, "Chromium is not installed (apt-get install chromium); .ci/run installs it")
    out = tmp_path_factory.mktemp("seed-report")
    return build_report(seed_result, out, [REPO / "seeds"])


WIDTHS = (1400, 390)  # a desktop and a phone


@pytest.fixture(scope="module")
def renderings(seed_report, tmp_path_factory):
    """The seed report as read at each width, all pages in one Chromium: {width: (rendering, screenshot)}."""
    out = tmp_path_factory.mktemp("screenshots")
    with chromium() as browser:
        return {width: (render(seed_report, out / f"screenshot-{width}.png", width=width, browser=browser),
                        out / f"screenshot-{width}.png") for width in WIDTHS}


@pytest.mark.parametrize("width", WIDTHS)
def test_seed_report_in_chromium(seed_result, renderings, width):
    seen, screenshot = renderings[width]
    assert seen.console_errors == []
    assert seen.requests == []
    assert not seen.overflows, f"the page is {seen.page_width} px wide in a {seen.viewport_width} px window"
    # the brief, with Iran -> Israel and Israel -> Iraq (country or unit codes), by name
    assert "Brief" in seen.brief_text and "Iran" in seen.brief_text and "Israel" in seen.brief_text
    assert any(s.startswith("IRN") and t.startswith("ISR") for s, t in seen.brief_pairs), seen.brief_pairs
    assert any(s.startswith("ISR") and t.startswith("IRQ") for s, t in seen.brief_pairs), seen.brief_pairs
    names = seed_result.config.actors
    for row in seed_result.ranked().head(3).itertuples():
        assert f"{names.get(row.source).name} → {names.get(row.target).name}" in seen.visible_text
    assert seen.host_state_in_isr_irq
    assert seen.highlighted and all(seen.highlighted)
    assert screenshot.stat().st_size > 10_000
    # the filter box keeps the rows that name the word; a heading sorts (second click: descending)
    assert 0 < seen.rows_matching["Iraq"] < seen.rows and seen.rows_matching["zzz-no-such-pair"] == 0
    assert seen.sorted_scores == sorted(seen.sorted_scores, reverse=True) and len(seen.sorted_scores) == seen.rows


def test_pdf_reads_back_with_the_brief(seed_result, tmp_path):
    _require(chromium_path() is not None, "Chromium is not installed (apt-get install chromium); .ci/run installs it")
    _require(shutil.which("pdftotext") is not None,
             "pdftotext is not installed (apt-get install poppler-utils); .ci/run installs it")
    build_report(seed_result, tmp_path, [REPO / "seeds"], pdf=True)
    pdf = tmp_path / "report.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Brief" in text and "Largest rises" in text and "Iran" in text and "Israel" in text
    assert "Why each pair scored what it did" in text  # sections are opened for print
