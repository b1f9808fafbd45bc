"""Scoring and the HTML report: seeds end to end, escaping, empty input."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from engine.ingest import read_inputs
from engine.report.builder import build_report
from engine.scoring import Scorer
from tests.conftest import REPO


@pytest.fixture(scope="module")
def scorer():
    return Scorer()


def test_seeds_report(scorer, tmp_path):
    ingest = read_inputs([REPO / "seeds"])
    assert not ingest.rejected and len(ingest.documents) == 9
    result = scorer.score([], ingest=ingest)
    ranked = result.ranked()
    assert ("ISR", "IRQ") in set(zip(ranked["source"], ranked["target"], strict=True))
    # a pair's rules score is exactly the sum of its rule hits
    for row in result.pair_scores.itertuples():
        hits = result.rule_hits[(result.rule_hits["source"] == row.source) & (result.rule_hits["target"] == row.target)
                                & (result.rule_hits["window_start"] == row.window_start)]
        assert row.rules_score == pytest.approx(hits["contribution"].sum(), abs=1e-3)
    assert len(set(result.pair_scores["window_start"])) > 1
    host = result.explain("ISR", "IRQ")
    assert "host-state-exposure" in set(host["rule_id"])
    path = build_report(result, tmp_path, [REPO / "seeds"])
    html = path.read_text()
    assert "ISR → IRQ" in html and "host-state-exposure" in html and '<mark class="trigger"' in html
    # no external resources: no src attributes, links only to anchors (requests are checked in Chromium)
    assert " src=" not in html and 'href="http' not in html
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["counts"]["documents"] == 9 and len(run["rules_sha256"]) == 64
    for name in ("signals", "rule_hits", "pair_scores"):
        assert (tmp_path / f"{name}.csv").exists() and (tmp_path / f"{name}.parquet").exists()


def test_html_injection_is_escaped(scorer, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "x", "date": "2024-11-04", "title": "<script>alert(1)</script>",
                               "text": "Iran fired missiles at Israel <script>alert(2)</script>."}) + "\n")
    ingest = read_inputs([src])
    html = build_report(scorer.score([], ingest=ingest), tmp_path / "out", [src]).read_text()
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_empty_input_gives_a_valid_report(scorer, tmp_path):
    src = tmp_path / "quiet.jsonl"
    src.write_text(json.dumps({"id": "q", "date": "2024-11-04", "text": "Oman opened a port."}) + "\n")
    result = scorer.score([], ingest=read_inputs([src]))
    assert result.pair_scores.empty and result.rule_hits.empty
    html = build_report(result, tmp_path / "out", [src]).read_text()
    assert "Nothing found" in html


def test_scorer_api_on_texts(scorer, tmp_path):
    result = scorer.score(["Iran fired missiles at Israel.", "Israel vowed to retaliate against Iran."],
                          date=dt.date(2024, 11, 4))
    top = result.ranked().iloc[0]
    assert (top["source"], top["target"]) in {("IRN", "ISR"), ("ISR", "IRN")}
    html = result.to_report(tmp_path / "api").read_text()
    assert "IRN → ISR" in html and (tmp_path / "api" / "pair_scores.parquet").exists()
