"""The seed report in headless Chromium (Debian's package via Playwright), and the size budget."""

from __future__ import annotations

import itertools
import json
import os

import pytest

from engine.ingest import read_inputs
from engine.nlp.lexicon import load_actors
from engine.paths import ACTORS_FILE
from engine.report.builder import build_report
from engine.report.screenshot import chromium_path, render
from engine.scoring import Scorer
from tests.conftest import REPO

SIZE_BUDGET_BYTES = 2_000_000  # a 1,000-pair report (README: "The report")


@pytest.fixture(scope="module")
def scorer():
    return Scorer()


def test_seed_report_in_chromium(scorer, tmp_path):
    if chromium_path() is None:
        message = "Chromium is not installed (apt-get install chromium); .ci/run installs it"
        if os.environ.get("ESCALATION_REQUIRE_SHARED") == "1":
            pytest.fail(message)
        pytest.skip(message)
    result = scorer.score([], ingest=read_inputs([REPO / "seeds"]))
    html = build_report(result, tmp_path, [REPO / "seeds"])
    seen = render(html, tmp_path / "screenshot.png")
    assert seen.console_errors == []
    assert seen.requests == []
    top = result.ranked().head(3)
    for row in top.itertuples():
        assert f"{row.source} → {row.target}" in seen.visible_text
    assert seen.host_state_in_isr_irq
    assert seen.highlighted and all(seen.highlighted)
    assert (tmp_path / "screenshot.png").stat().st_size > 10_000


def test_thousand_pairs_render_within_budget(scorer, tmp_path):
    actors = load_actors(ACTORS_FILE)
    states = sorted({a.name for a in actors.actors.values() if a.code == a.country and not a.parent})
    pairs = list(itertools.permutations(states, 2))[:1100]
    src = tmp_path / "many.jsonl"
    src.write_text("".join(json.dumps({"id": f"d{i}", "date": "2024-11-04", "text": f"{a} attacked {b}."}) + "\n"
                           for i, (a, b) in enumerate(pairs)))
    result = scorer.score([], ingest=read_inputs([src]))
    assert len(result.ranked()) >= 1000
    html = build_report(result, tmp_path / "report", [src]).read_text()
    assert len(html.encode()) < SIZE_BUDGET_BYTES
    assert "Details are shown for the first 50 pairs" in html
    assert html.count('<section class="pair"') == 50
