"""Pair scores as table arithmetic, rule contributions and ScoreResult.explain: no spaCy, no classifier.

The expected numbers are worked out by hand here (an independent reference), not with the engine's
own helpers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from engine.formula import PAIR_SCORE_COLUMNS, ScoreFormula, pair_scores_table, validate_pair_scores
from engine.rules.engine import contribution_of
from engine.rules.models import Rule

FORMULA = ScoreFormula(rules_weight=0.6, model_weight=0.4, rules_half=20,
                       bands={"LOW": 0, "GUARDED": 20, "ELEVATED": 40, "HIGH": 60, "SEVERE": 80})
W1, W1_END, W2, W2_END = "2024-11-04", "2024-11-10", "2024-11-11", "2024-11-17"


def _hit(source, target, rule_id, contribution, ids, window=W1, floor="", cap=""):
    end = {W1: W1_END, W2: W2_END}[window]
    return {"run_id": "r", "source": source, "target": target, "window_start": window, "window_end": end,
            "rule_id": rule_id, "contribution": contribution, "signal_ids": ids, "explanation": rule_id,
            "band_floor": floor, "band_cap": cap}


def _probabilities(rows):
    return pd.DataFrame(rows, columns=["source", "target", "window_start", "model_probability", "model_terms"])


def test_pair_scores_are_the_formula_of_hits_and_probabilities():
    hits = pd.DataFrame([
        _hit("IRN", "ISR", "base-attack", 12.0, "a;b"),
        _hit("IRN", "ISR", "mobilise-then-threaten", 8.0, "b;c"),
        _hit("IRN", "ISR", "base-attack", 30.0, "d", window=W2),
        _hit("IRQUAF", "USAMIL", "base-attack", 20.0, "e"),
        _hit("USA", "IRQ", "deescalation", -6.0, "f"),
    ])
    probs = _probabilities([("IRN", "ISR", W1, 0.5, [("since_attack", 1.5), ("w_hostile", -0.25), ("trend", 0.1)]),
                            ("IRN", "ISR", W2, 0.25, []),
                            ("IRQ", "USA", W1, 0.75, [("attack_rate", 0.5)])])
    table = pair_scores_table(hits, probs, FORMULA, run_id="r", countries={"IRQUAF": "IRQ", "USAMIL": "USA"},
                              base_probability=0.1, base_terms=[("since_attack", -0.5)])
    assert list(table.columns) == PAIR_SCORE_COLUMNS
    rows = table.set_index(["source", "target", "window_start"])
    first = rows.loc[("IRN", "ISR", W1)]
    # rules 20 -> rules part 20 / (20 + 20) = 0.5; score = 100 * (0.6 * 0.5 + 0.4 * 0.5) = 50
    assert (first["rules_score"], first["model_probability"], first["score"], first["band"]) == (20.0, 0.5, 50.0, "ELEVATED")
    assert first["n_signals"] == 3  # a, b, c: b is behind both hits
    assert first["top_drivers"] == ("base-attack +12.0; mobilise-then-threaten +8.0; "
                                    "model: since_attack +1.50; model: w_hostile -0.25")
    assert math.isnan(first["change"])
    second = rows.loc[("IRN", "ISR", W2)]
    # 30 / 50 = 0.6 -> 100 * (0.36 + 0.1) = 46, change 46 - 50
    assert (second["score"], second["change"]) == (46.0, -4.0)
    # a militia's pair reads its countries' probability (IRQ -> USA)
    militia = rows.loc[("IRQUAF", "USAMIL", W1)]
    assert militia["model_probability"] == 0.75 and militia["score"] == pytest.approx(100 * (0.3 + 0.3))
    # no probability row: the empty-history probability and its terms
    calm = rows.loc[("USA", "IRQ", W1)]
    assert (calm["rules_score"], calm["model_probability"], calm["score"], calm["band"]) == (-6.0, 0.1, 4.0, "LOW")
    assert calm["top_drivers"] == "deescalation -6.0; model: since_attack -0.50"
    validate_pair_scores(table, FORMULA)


def test_band_floor_is_the_highest_and_cap_the_lowest_and_a_floor_wins():
    hits = pd.DataFrame([
        _hit("A", "B", "points", 200.0, "1"),  # score ~ 100 * 0.6 * 200/220 -> SEVERE alone
        _hit("A", "B", "cap-high", 0.0, "1", cap="HIGH"),
        _hit("A", "B", "cap-guarded", 0.0, "1", cap="GUARDED"),
        _hit("A", "B", "cap-guarded-too", 0.0, "1", cap="GUARDED"),
        _hit("C", "D", "floor-guarded", 0.0, "2", floor="GUARDED"),
        _hit("C", "D", "floor-high", 0.0, "2", floor="HIGH"),
        _hit("C", "D", "cap-low", 0.0, "2", cap="LOW"),
    ])
    table = pair_scores_table(hits, _probabilities([]), FORMULA, run_id="r", base_probability=1.0)
    rows = table.set_index(["source", "target"])
    capped, floored = rows.loc[("A", "B")], rows.loc[("C", "D")]
    assert (capped["band_floor"], capped["band_cap"], capped["band"]) == ("", "GUARDED", "GUARDED")
    assert capped["top_drivers"].startswith("band at most GUARDED (cap-guarded, cap-guarded-too); points +200.0")
    # score 40 would be ELEVATED; the cap says LOW, the highest floor HIGH: the floor wins
    assert floored["score"] == 40.0
    assert (floored["band_floor"], floored["band_cap"], floored["band"]) == ("HIGH", "LOW", "HIGH")
    assert floored["top_drivers"].startswith("band at least HIGH (floor-high); band at most LOW (cap-low)")
    validate_pair_scores(table, FORMULA)


def test_band_edges_come_from_the_formula():
    other = FORMULA.model_copy(update={"bands": {"LOW": 0, "GUARDED": 5, "ELEVATED": 10, "HIGH": 15, "SEVERE": 16}})
    scores = np.array([0, 4.99, 5, 12, 15.5, 16, 100])
    levels = other.band_levels(scores, [""] * 7, [""] * 7)
    assert levels.tolist() == [0, 0, 1, 2, 3, 4, 4]
    assert FORMULA.band_levels(scores, [""] * 7, [""] * 7).tolist() == [0, 0, 0, 0, 0, 0, 4]


def test_empty_hits_give_an_empty_table():
    empty = pd.DataFrame(columns=list(_hit("A", "B", "x", 1, "1")))
    assert pair_scores_table(empty, _probabilities([]), FORMULA, run_id="r").empty


# --------------------------------------------------------------------------- rule contributions
def _rule(then: dict) -> Rule:
    return Rule.model_validate({
        "id": "r", "description": "a test rule", "when": {"signal": {"type": "ATTACK"}}, "then": then,
        "examples": {"fires": [{"signals": [{"source": "A", "target": "B", "type": "ATTACK"}]}],
                     "quiet": [{"signals": [{"source": "A", "target": "B", "type": "THREATEN"}]}]}})


def _fact(**values):
    fact = {"intensity": 0.8, "confidence": 0.5, "count": 3, "window_end_day": 100, "last_day": 100}
    return fact | values


@pytest.mark.parametrize("then,fact,expected", [
    ({"add": 10}, {}, 10.0),
    ({"add": 10, "scale_by": ["intensity"]}, {}, 8.0),
    ({"add": 10, "scale_by": ["confidence"]}, {}, 5.0),
    ({"add": 10, "scale_by": ["volume"]}, {"count": 3}, 20.0),  # log2(1 + 3) = 2
    ({"add": 10, "scale_by": ["volume"]}, {"count": 100}, 30.0),  # capped at 3
    # the last signal 14 days before the window's end, half-life 14 days: half the points
    ({"add": 10, "scale_by": ["recency"], "half_life_days": 14}, {"last_day": 86}, 5.0),
    ({"add": 10, "scale_by": ["recency"], "half_life_days": 7}, {"last_day": 86}, 2.5),
    ({"add": 10, "scale_by": ["recency"]}, {"last_day": 100}, 10.0),
    # a proxy's points rolled up to its patron: the share
    ({"add": 10, "share": 0.5}, {}, 5.0),
    ({"add": -6, "share": 0.25, "scale_by": ["intensity", "confidence"]}, {}, -0.6),
])
def test_contribution_of_each_scale_and_share(then, fact, expected):
    points, how = contribution_of(_rule(then), [_fact(**fact)])
    assert points == pytest.approx(expected)
    assert all(scale in how for scale in then.get("scale_by", []))


def test_contribution_of_a_sequence_uses_all_its_steps():
    facts = [_fact(intensity=0.4, confidence=0.2, count=1), _fact(intensity=0.9, confidence=0.6, count=2)]
    assert contribution_of(_rule({"add": 10, "scale_by": ["intensity"]}), facts)[0] == pytest.approx(9.0)
    assert contribution_of(_rule({"add": 10, "scale_by": ["confidence"]}), facts)[0] == pytest.approx(4.0)
    assert contribution_of(_rule({"add": 10, "scale_by": ["volume"]}), facts)[0] == pytest.approx(20.0)


# --------------------------------------------------------------------------- explain
def test_explain_returns_only_the_asked_pair():
    from engine.scoring import ScoreResult

    hits = pd.DataFrame([_hit("IRN", "ISR", "a", 1.0, "1"), _hit("IRN", "USA", "b", 2.0, "2"),
                         _hit("ISR", "IRN", "c", 3.0, "3"), _hit("IRQ", "ISR", "d", 4.0, "4")])
    result = ScoreResult("r", pd.DataFrame(), hits, pd.DataFrame(), extraction=None, config=None)
    assert result.explain("IRN", "ISR")["rule_id"].tolist() == ["a"]
    assert result.explain("IRN", "USA")["rule_id"].tolist() == ["b"]
    assert result.explain("ISR", "IRN")["rule_id"].tolist() == ["c"]
    assert result.explain("USA", "IRN").empty


# --------------------------------------------------------------------------- levels and the "as of" ranking
def test_unit_hits_roll_organs_into_their_state_and_keep_armed_groups():
    from engine.formula import unit_hits

    units = {"IRNMIL": "IRN", "ISRGOV": "ISR", "ISRMIL": "ISR", "IRQUAF": "IRQUAF"}
    hits = pd.DataFrame([
        _hit("IRN", "ISR", "base-attack", 12.0, "a"),
        _hit("IRNMIL", "ISR", "base-attack", 8.0, "b"),
        _hit("ISRGOV", "IRN", "threat", 5.0, "c"),
        _hit("ISRMIL", "IRN", "base-attack", 7.0, "d;c"),
        _hit("IRQUAF", "ISRMIL", "base-attack", 3.0, "e"),
        _hit("IRNMIL", "IRN", "base-attack", 1.0, "f"),  # inside one unit: not a pair
    ])
    rolled = unit_hits(hits, lambda code: units.get(code, code))
    assert sorted(set(zip(rolled["source"], rolled["target"], strict=True))) == [
        ("IRN", "ISR"), ("IRQUAF", "ISR"), ("ISR", "IRN")]
    assert sorted(rolled["signal_ids"]) == sorted(hits["signal_ids"][:5])  # each hit kept whole, bar the last
    assert rolled["contribution"].sum() == hits["contribution"].sum() - 1.0  # only the inside-one-unit hit is gone
    table = pair_scores_table(rolled, _probabilities([]), FORMULA, run_id="r").set_index(["source", "target"])
    assert table.loc[("IRN", "ISR"), "rules_score"] == 20.0  # the state's and its army's hits together
    assert table.loc[("ISR", "IRN"), "n_signals"] == 2  # c, d (c is behind both hits)
    # idempotent: a second roll-up changes nothing
    pd.testing.assert_frame_equal(unit_hits(rolled, lambda code: units.get(code, code)), rolled)


def test_ranking_is_as_of_the_latest_window_with_stale_pairs_decayed():
    from engine.formula import RANKED_COLUMNS, as_of_table

    hits = pd.DataFrame([
        _hit("A", "B", "points", 20.0, "1"),
        _hit("A", "B", "points", 30.0, "2", window=W2),
        _hit("C", "D", "points", 200.0, "3"),  # only in the first window: stale as of W2
        _hit("C", "D", "warning", 0.0, "3", floor="SEVERE"),
        _hit("E", "F", "points", 10.0, "4", window=W2),
    ])
    table = pair_scores_table(hits, _probabilities([]), FORMULA, run_id="r", base_probability=0.5)
    ranked = as_of_table(table, FORMULA, "week")
    assert list(ranked.columns) == RANKED_COLUMNS
    rows = ranked.set_index(["source", "target"])
    assert set(ranked["as_of"]) == {W2}
    current, stale = rows.loc[("A", "B")], rows.loc[("C", "D")]
    assert (current["window_start"], current["windows_since"], current["stale"]) == (W2, 0, False)
    assert current["score"] == current["window_score"] == 56.0  # 100 * (0.6 * 30/50 + 0.4 * 0.5)
    # C->D: its own window's score (SEVERE by its floor), halved every 2 windows: one window -> x 0.5 ** 0.5
    assert (stale["window_start"], stale["windows_since"], stale["stale"]) == (W1, 1, True)
    assert (stale["window_score"], stale["window_band"]) == (
        pytest.approx(100 * (0.6 * 200 / 220 + 0.4 * 0.5), abs=0.01), "SEVERE")
    assert stale["score"] == pytest.approx(stale["window_score"] * 0.5 ** 0.5, abs=0.01)
    assert stale["band"] == FORMULA.band(stale["score"])  # a floor is a current warning: not carried
    assert ranked["score"].is_monotonic_decreasing
    assert FORMULA.decayed([80.0], [4]).tolist() == [20.0]


def test_stale_half_life_is_validated_with_the_bands(tmp_path):
    from pydantic import ValidationError

    from engine.formula import check_formula

    with pytest.raises(ValidationError):
        FORMULA.model_validate(FORMULA.model_dump() | {"stale_half_life": 0})
    path = tmp_path / "bands.yaml"
    path.write_text("rules_weight: 0.6\nmodel_weight: 0.4\nrules_half: 20\nstale_half_lif: 2\n"
                    "bands: {LOW: 0, GUARDED: 20, ELEVATED: 40, HIGH: 60, SEVERE: 80}\n")
    formula, problems = check_formula(path)
    assert formula is None and any("stale_half_life" in p for p in problems), problems
