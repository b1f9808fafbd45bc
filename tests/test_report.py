"""Scoring and the HTML report: seeds end to end, the brief, names, evidence at scale, escaping,
empty input, the Content-Security-Policy, --pdf without Chromium."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import itertools
import json
import re

import pandas as pd
import pytest

from engine.config import RunConfig
from engine.formula import pair_scores_table
from engine.ingest import Document, IngestResult, read_inputs
from engine.nlp.extract import Extraction
from engine.nlp.model import ModelInfo
from engine.report.brief import brief_items, latest_with_previous, strongest_evidence
from engine.report.builder import MAX_PAIRS_IN_DETAIL, build_report
from engine.report.words import FEATURE_PHRASES, SIGNAL_WORDS, feature_phrase
from engine.schemas import SIGNAL_TYPES
from tests.conftest import REPO

SIZE_BUDGET_BYTES = 2_000_000  # README "The report": 5,000+ documents and 1,000+ pairs


# scorer, seed_result: tests/conftest.py (shared by the session)


def _brief_pairs(html: str) -> list[tuple[str, str]]:
    brief = html[html.index('id="brief"'):html.index('id="ranked"')]
    return re.findall(r'data-source="([A-Z-]+)" data-target="([A-Z-]+)"', brief)


def test_seeds_report(seed_result, tmp_path):
    result = seed_result
    ranked = result.ranked()
    assert ("ISR", "IRQ") in set(zip(ranked["source"], ranked["target"], strict=True))
    # a pair's rules score is exactly the sum of its rule hits
    for row in result.pair_scores.itertuples():
        hits = result.rule_hits[(result.rule_hits["source"] == row.source) & (result.rule_hits["target"] == row.target)
                                & (result.rule_hits["window_start"] == row.window_start)]
        assert row.rules_score == pytest.approx(hits["contribution"].sum(), abs=1e-3)
    assert len(set(result.pair_scores["window_start"])) > 1
    assert "host-state-exposure" in set(result.explain("ISR", "IRQ")["rule_id"])
    path = build_report(result, tmp_path, [REPO / "seeds"])
    html = path.read_text()
    assert "host-state-exposure" in html and '<mark class="trigger"' in html
    # the brief names Iran -> Israel and Israel -> Iraq (at country or unit level: IRN or IRNMIL ...)
    brief = _brief_pairs(html)
    assert any(s.startswith("IRN") and t.startswith("ISR") for s, t in brief), brief
    assert any(s.startswith("ISR") and t.startswith("IRQ") for s, t in brief), brief
    # names first: from the run's actor dictionary, the codes in small type
    assert "Iran</span> → <span" in html and ">Israel</span>" in html and ">Iraq</span>" in html
    assert '<small class="code">ISR→IRQ</small>' in html
    # counts of documents, signals and rejected records; an "as of" window
    assert "<strong>9</strong> documents" in html and "<strong>0</strong> rejected records" in html
    assert "As of the week " in html
    # model terms in words, never as feature names in the drivers
    drivers = re.findall(r"model: ([^;<]+)", html)
    assert drivers and not any(re.search(r"\b[a-z]+_[a-zA-Z_]+\b", d) for d in drivers), drivers
    # no external resources: no src attributes, links only to anchors (requests are checked in Chromium)
    assert " src=" not in html and 'href="http' not in html
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["counts"]["documents"] == 9 and len(run["rules_sha256"]) == 64
    for name in ("signals", "rule_hits", "pair_scores"):
        assert (tmp_path / f"{name}.csv").exists() and (tmp_path / f"{name}.parquet").exists()
    assert not (tmp_path / "report.pdf").exists()


def test_content_security_policy_allows_only_the_report_script(seed_result, tmp_path):
    html = build_report(seed_result, tmp_path, [REPO / "seeds"]).read_text()
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    assert "default-src 'none'" in policy
    script_src = re.search(r"script-src ([^;]+)", policy).group(1)
    assert "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
    scripts = re.findall(r"<script>(.*?)</script>", html, flags=re.S)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert script_src.strip() == f"'sha256-{digest}'"
    assert not re.search(r"<[a-z]+[^>]* on[a-z]+=", html)  # no inline event handlers


def test_band_floor_is_explained(tmp_path):
    result = _synthetic_result(n_docs=120, n_pairs=8, copies=3, floor=("USA", "IRQ"))
    ranked = result.ranked().set_index(["source", "target"])
    assert ranked.loc[("USA", "IRQ"), "band"] == "ELEVATED" and ranked.loc[("USA", "IRQ"), "score"] < 40
    html = build_report(result, tmp_path).read_text()
    assert "held up at ELEVATED by severe attack floor; the score alone gives" in html
    assert 'ELEVATED*</span>' in html


def test_every_feature_and_signal_type_has_words():
    from engine.model.features import FEATURES

    missing = [f for f in FEATURES if f not in FEATURE_PHRASES]
    assert not missing, f"add a phrase to engine/report/words.py FEATURE_PHRASES for {missing}"
    assert set(SIGNAL_WORDS) == set(SIGNAL_TYPES)
    assert feature_phrase("attack_rate", "week") == "attacks in the last 4 weeks"
    assert "{" not in "".join(feature_phrase(f, w) for f in FEATURES for w in ("day", "week", "month"))


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
    assert "documents dated 2024-11-04 to 2024-11-04" in html  # a dated input with no signal has dates


def test_scorer_api_on_texts(scorer, tmp_path):
    result = scorer.score(["Iran fired missiles at Israel.", "Israel vowed to retaliate against Iran."],
                          date=dt.date(2024, 11, 4))
    top = result.ranked().iloc[0]
    assert (top["source"], top["target"]) in {("IRN", "ISR"), ("ISR", "IRN")}
    html = result.to_report(tmp_path / "api").read_text()
    assert 'data-source="IRN"' in html and (tmp_path / "api" / "pair_scores.parquet").exists()


# --------------------------------------------------------------------------- the brief
def _scores(rows):
    columns = ["source", "target", "window_start", "window_end", "score", "band", "rules_score", "change"]
    return pd.DataFrame(rows, columns=columns)


def test_brief_against_previous_window_and_previous_run():
    w1, w2, w3 = "2024-10-21", "2024-10-28", "2024-11-04"
    scores = _scores([
        ("A", "B", w1, "", 30.0, "GUARDED", 5, None), ("A", "B", w3, "", 65.0, "HIGH", 20, 35.0),  # newly HIGH
        ("C", "D", w1, "", 30.0, "GUARDED", 5, None), ("C", "D", w2, "", 45.0, "ELEVATED", 9, 15.0),  # rise
        ("E", "F", w2, "", 25.0, "GUARDED", 4, None),  # first seen after the first window: new
        ("G", "H", w1, "", 50.0, "ELEVATED", 9, None), ("G", "H", w3, "", 20.0, "GUARDED", 3, -30.0),  # fall
        ("I", "J", w1, "", 70.0, "HIGH", 12, None),  # only in the first window: nothing to compare with
    ])
    lists = brief_items(scores)
    assert [(i.row["source"], i.previous_score) for i in lists["newly-high"]] == [("A", 30.0)]
    assert [i.row["source"] for i in lists["rise"]] == ["C"]
    assert [i.row["source"] for i in lists["new"]] == ["E"]
    assert [i.row["source"] for i in lists["fall"]] == ["G"]
    assert [i.row["source"] for i in lists["top"]] == ["I"]  # named once, in the first list that fits
    # against the previous run (a history): C->D fell since then, E->F is not new, I->J is
    previous = pd.DataFrame({"source": ["A", "C", "E", "G"], "target": ["B", "D", "F", "H"],
                             "score": [70.0, 60.0, 10.0, 10.0], "band": ["HIGH", "ELEVATED", "LOW", "LOW"]})
    latest = latest_with_previous(scores, previous).set_index("source")
    assert latest.loc["C", "prev_score"] == 60.0 and not latest.loc["E", "new"] and latest.loc["I", "new"]
    lists = brief_items(scores, previous)
    assert not any(i.row["source"] == "A" for i in lists["newly-high"])  # already HIGH in the previous run
    assert [i.row["source"] for i in lists["newly-high"]] == ["I"]
    assert {i.row["source"] for i in lists["fall"]} == {"A", "C"}
    assert [i.row["source"] for i in lists["rise"]] == ["E", "G"]


def test_evidence_collapses_copies_and_keeps_the_strongest():
    base = "Iran fired dozens of ballistic missiles at Israel on Monday night, the Revolutionary Guards said in a statement"
    rows = [(f"s{i}", f"d{i}", base + ("." if i % 2 else " ."), 0.9) for i in range(10)]  # identical up to punctuation
    rows += [("v1", "dv", base.replace("Monday night", "Monday evening") + ".", 0.5)]  # near-identical
    rows += [(f"o{i}", f"e{i}", f"Israel struck a depot number {i} in Syria overnight.", 0.8 - i / 100) for i in range(8)]
    sig = pd.DataFrame([{"signal_id": s, "doc_id": d, "sent_index": 0, "sentence": text, "confidence": c,
                         "intensity": 1.0, "negated": False, "date": "2024-11-04", "source": "IRN", "target": "ISR"}
                        for s, d, text, c in rows])
    chosen, left_out = strongest_evidence(sig, limit=5)
    assert len(chosen) == 5 and left_out == 4
    assert chosen[0].signal["sentence"].startswith("Iran fired") and chosen[0].copies == 10
    assert sum(e.signal["sentence"].startswith("Iran fired") for e in chosen) == 1


# --------------------------------------------------------------------------- scale
def _synthetic_result(n_docs: int = 5200, n_pairs: int = 1100, copies: int = 15, floor: tuple[str, str] | None = None):
    """A run's tables built directly (no spaCy): ``n_docs`` documents over ``n_pairs`` pairs in two
    weeks, Iran->Israel with ``copies`` syndicated copies of one sentence and many others; ``floor``:
    a pair whose hits hold it at ELEVATED or above."""
    config = RunConfig.build()
    states = sorted({a.code for a in config.actors.actors.values() if a.code == a.country and not a.parent})
    first = [("IRN", "ISR")] + ([floor] if floor else [])
    pairs = [p for p in itertools.permutations(states, 2) if p not in first][: n_pairs - len(first)]
    pairs = [*first, *pairs]
    syndicated = ("Iran fired dozens of ballistic missiles at Israel on Monday night, the Revolutionary Guards "
                  "said in a statement carried by state media.")
    documents, signals = [], []
    for i in range(n_docs):
        source, target = pairs[0] if i < 60 else pairs[i % len(pairs)]
        date = "2024-11-04" if i % 3 or i < copies else "2024-10-28"
        if i < copies:
            sentence = syndicated if i % 2 else syndicated.replace("Monday night", "Monday  night")
        elif i < 60:
            sentence = f"Iranian drones struck target number {i} in northern Israel, the army said."
        else:
            sentence = f"{source} forces attacked {target} positions near the border on day {i}."
        trigger = sentence.index("fired" if i < copies else ("struck" if i < 60 else "attacked"))
        documents.append(Document(f"doc{i}", sentence, dt.date.fromisoformat(date), title=f"Story {i}"))
        signals.append({"signal_id": f"doc{i}:0:{trigger}", "doc_id": f"doc{i}", "date": date, "sent_index": 0,
                        "start_char": trigger, "end_char": trigger + 5, "sent_start": 0, "sent_end": len(sentence),
                        "source": source, "target": target, "signal": "ATTACK", "cameo": "190", "intensity": 0.9,
                        "negated": False, "hypothetical": False, "status": "past", "reported_by": "", "location": "",
                        "confidence": 0.9 if i < copies else 0.5 + (i % 40) / 100, "pattern_id": "attack-verb",
                        "trigger": sentence[trigger:trigger + 5], "source_text": source, "target_text": target,
                        "sentence": sentence})
    sig = pd.DataFrame(signals)
    hits = []
    for (source, target, date), group in sig.groupby(["source", "target", "date"]):
        end = (dt.date.fromisoformat(date) + dt.timedelta(days=6)).isoformat()
        points = 15 * len(group) ** 0.5
        hits.append({"run_id": "synthetic", "source": source, "target": target, "window_start": date, "window_end": end,
                     "rule_id": "base-attack", "contribution": round(points, 4),
                     "signal_ids": ";".join(group["signal_id"]), "explanation": f"base-attack: {len(group)} attacks",
                     "band_floor": "", "band_cap": ""})
        if (source, target) == floor:
            hits.append({**hits[-1], "rule_id": "severe-attack-floor", "contribution": 0.0, "band_floor": "ELEVATED",
                         "explanation": "severe-attack-floor: band at least ELEVATED"})
    rule_hits = pd.DataFrame(hits)
    probabilities = pd.DataFrame(columns=["source", "target", "window_start", "model_probability", "model_terms"])
    scores = pair_scores_table(rule_hits, probabilities, config.formula, run_id="synthetic", base_probability=0.05,
                               base_terms=[("attack_rate", 0.4)])
    from engine.scoring import ScoreResult

    extraction = Extraction(sig, pd.DataFrame(columns=["text", "label", "count", "example_doc"]),
                            ModelInfo("en_core_web_sm", "core_web_sm", "3.8.0", False), n_docs, n_docs, n_docs * 14)
    return ScoreResult("synthetic", sig, rule_hits, scores, extraction, config,
                       IngestResult(documents=documents, files={"synthetic.jsonl": n_docs}), "2024-11-05T00:00:00", 1.0)


def test_five_thousand_documents_stay_within_budget(tmp_path):
    result = _synthetic_result()
    assert result.extraction.n_documents >= 5000 and len(result.ranked()) >= 1000
    html = build_report(result, tmp_path / "report", evidence=5).read_text()
    assert len(html.encode()) < SIZE_BUDGET_BYTES, len(html.encode())
    sections = re.findall(r'<details class="pair" id="pair-([A-Z]+-[A-Z]+)".*?</details>', html, flags=re.S)
    assert len(sections) == MAX_PAIRS_IN_DETAIL
    assert f"{len(result.ranked()) - MAX_PAIRS_IN_DETAIL} more are in the tables" in html
    for section in re.findall(r'<details class="pair".*?</details>', html, flags=re.S):
        assert section.count("<blockquote>") <= 5
    top = re.search(r'<details class="pair" id="pair-IRN-ISR".*?</details>', html, flags=re.S).group(0)
    assert top.count("<blockquote>") == 5
    assert top.count("Revolutionary Guards said in a statement") == 1  # 15 copies shown once ...
    assert "and 14 copies" in top  # ... with their count
    assert "more distinct sentence(s) for this pair in <code>signals.csv</code>" in top
    # fewer sentences on request
    html = build_report(result, tmp_path / "small", evidence=2).read_text()
    top = re.search(r'<details class="pair" id="pair-IRN-ISR".*?</details>', html, flags=re.S).group(0)
    assert top.count("<blockquote>") == 2


def test_pdf_without_chromium_says_so(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    import engine.report.screenshot as screenshot
    from engine.cli import app
    from engine.errors import EngineError

    monkeypatch.setattr(screenshot, "chromium_path", lambda: None)
    outcome = CliRunner().invoke(app, ["report", str(REPO / "seeds"), "--out", str(tmp_path / "out"), "--pdf"])
    assert isinstance(outcome.exception, EngineError)
    assert "Chromium not found" in str(outcome.exception) and "apt-get install chromium" in str(outcome.exception)
    assert not (tmp_path / "out").exists()  # refused before any work


def test_charts_name_pairs_and_show_gaps():
    from engine.report import charts

    scores = _scores([
        ("IRN", "ISR", "2024-10-07", "", 40.0, "ELEVATED", 10, None),
        ("IRN", "ISR", "2024-10-21", "", 70.0, "HIGH", 20, 30.0),  # no signal in the week of 14 October: a gap
        ("ISR", "IRQ", "2024-10-14", "", 30.0, "GUARDED", 5, None),
        ("USA", "IRQ", "2024-10-21", "", 10.0, "LOW", 1, None),
    ])
    ranked = scores.sort_values("window_start").groupby(["source", "target"]).tail(1)
    ranked = ranked.sort_values("score", ascending=False).reset_index(drop=True)
    names = {"IRN": "Iran", "ISR": "Israel", "IRQ": "Iraq", "USA": "United States"}.get
    trend = charts.trends(scores, ranked, names, "week")
    assert "Iran → Israel" in trend and "Israel → Iraq" in trend
    # one colour per pair (Okabe-Ito), one tick label per week
    assert all(c.lower() in trend.lower() for c in charts.PAIR_COLOURS[:3])
    assert all(day in trend for day in ("07 Oct 2024", "14 Oct 2024", "21 Oct 2024"))
    # a gap: Iran -> Israel's line is drawn as separate pieces (NaN in the week without a score)
    line = re.search(r'<path d="([^"]+)"[^>]*stroke: #0072b2', trend)
    assert line and line.group(1).count("M") == 2, line
    network = charts.network(ranked, names, {"LOW": 0, "GUARDED": 20, "ELEVATED": 40, "HIGH": 60, "SEVERE": 80})
    assert "Iran" in network and "GUARDED ≥ 20" in network and 'href="http' not in network
    heat = charts.heatmap(ranked, names)
    assert heat.index("Iran") < heat.index("United States")  # ordered by risk
    assert charts.trends(scores, ranked, names) == charts.trends(scores, ranked, names)  # deterministic
