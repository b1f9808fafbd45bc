"""Rule files: checks with FILE:LINE messages, examples through the full rule set, isolation, errors."""

from __future__ import annotations

import datetime as dt
import os
import shutil

import numpy as np
import pandas as pd
import pytest

import engine.rules.engine as eng
from engine.errors import RuleActionError
from engine.nlp.lexicon import load_actors
from engine.paths import ACTORS_FILE, RULES_DIR
from engine.rules.engine import RuleRun, run_rules, signal_groups
from engine.rules.models import check_rules, load_rules
from engine.rules.testing import run_examples

GOOD = """\
rules:
  - id: base-attack
    description: An attack that happened.
    when:
      signal: {type: ATTACK, mode: actual}
    then: {add: 15, scale_by: [intensity]}
    examples:
      fires: [{signals: [{source: IRN, target: ISR, type: ATTACK}]}]
      quiet: [{signals: [{source: IRN, target: ISR, type: ATTACK, negated: true}]}]
"""

BROKEN = [
    # (what is wrong, replacement of one line or snippet, expected line, expected text)
    ("unknown signal type", ("type: ATTACK, mode: actual", "type: ATACK, mode: actual"), 5, "did you mean 'ATTACK'"),
    ("unknown field", ("then: {add: 15,", "then: {ad: 15, add: 15,"), 6, "unknown field 'ad' (did you mean 'add'?)"),
    ("weight out of range", ("add: 15", "add: 500"), 6, "less than or equal to 100"),
    ("bad id", ("id: base-attack", "id: Base_Attack"), 2, "kebab-case"),
    ("unknown scale", ("scale_by: [intensity]", "scale_by: [intensty]"), 6, "unknown scale 'intensty' (did you mean 'intensity'?)"),
    ("unknown mode", ("mode: actual", "mode: actuel"), 5, "did you mean 'actual'"),
    ("missing examples", ("    examples:\n      fires: [{signals: [{source: IRN, target: ISR, type: ATTACK}]}]\n"
                          "      quiet: [{signals: [{source: IRN, target: ISR, type: ATTACK, negated: true}]}]\n", ""),
     2, "examples"),
    ("duplicate key", ("    description: An attack that happened.\n",
                       "    description: An attack that happened.\n    description: twice\n"), 4, "duplicate key 'description'"),
    ("YAML syntax", ("then: {add: 15, scale_by: [intensity]}", "then: {add: 15, scale_by: [intensity}"), 6, "YAML syntax error"),
    ("band floor above cap", ("then: {add: 15, scale_by: [intensity]}",
                              "then: {add: 15, scale_by: [intensity], band_floor: HIGH, band_cap: LOW}"),
     6, "band_floor HIGH is above band_cap LOW"),
    ("unknown band", ("then: {add: 15, scale_by: [intensity]}", "then: {add: 15, band_floor: HIHG}"), 6,
     "unknown band 'HIHG' (did you mean 'HIGH'?)"),
    ("bad example signal type", ("quiet: [{signals: [{source: IRN, target: ISR, type: ATTACK, negated: true}]}]",
                                 "quiet: [{signals: [{source: IRN, target: ISR, type: HUG, negated: true}]}]"), 9, "unknown signal type 'HUG'"),
]

SEQUENCE_BAD_WINDOW = """\
rules:
  - id: spiral
    description: Threats both ways.
    when:
      sequence:
        - {type: THREATEN}
        - {type: THREATEN, direction: reverse}
      within_days: 0
    then: {add: 10}
    examples:
      fires: [{signals: [{source: A, target: B, type: THREATEN}]}]
      quiet: [{signals: [{source: A, target: B, type: THREATEN}]}]
"""


def _write(tmp_path, text, name="rules.yaml"):
    folder = tmp_path / "scoring"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text)
    return folder / name


def test_good_file_passes(tmp_path):
    _write(tmp_path, GOOD)
    rules, problems = check_rules(tmp_path)
    assert problems == [] and [r.id for r in rules] == ["base-attack"]


@pytest.mark.parametrize("what,change,line,text", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_rule_file_points_at_line(tmp_path, what, change, line, text):
    old, new = change
    assert old in GOOD
    path = _write(tmp_path, GOOD.replace(old, new))
    _, problems = check_rules(tmp_path)
    assert problems, what
    assert any(p.startswith(f"{path}:{line}:") and text in p for p in problems), problems


def test_bad_window_and_duplicate_ids(tmp_path):
    path = _write(tmp_path, SEQUENCE_BAD_WINDOW)
    other = _write(tmp_path, GOOD, "other.yaml")
    _write(tmp_path, GOOD, "zz_again.yaml")
    _, problems = check_rules(tmp_path)
    assert any(p.startswith(f"{path}:8: spiral:") and "within_days must be between 1 and 365" in p for p in problems)
    assert any("zz_again.yaml:2: base-attack: duplicate rule id" in p and str(other) in p for p in problems)


def test_cli_rules_check_exit_code(tmp_path):
    from typer.testing import CliRunner

    from engine.cli import app

    _write(tmp_path, GOOD.replace("type: ATTACK, mode", "type: ATACK, mode"))
    result = CliRunner().invoke(app, ["rules", "check", str(tmp_path)])
    assert result.exit_code == 1 and "rules.yaml:5: base-attack: when.signal.type" in result.output
    assert CliRunner().invoke(app, ["rules", "check", str(RULES_DIR)]).exit_code == 0


def test_shipped_rules_examples_pass_with_all_rules_loaded():
    rules = load_rules(RULES_DIR)
    ids = {r.id for r in rules}
    assert {"host-state-exposure", "proxy-rollup", "mobilise-then-threaten", "reciprocal-hostility"} <= ids
    results = run_examples(rules, load_actors(ACTORS_FILE))
    assert all(r.passed for r in results), [r for r in results if not r.passed]
    assert {r.rule_id for r in results if r.kind == "fires"} == ids
    assert {r.rule_id for r in results if r.kind == "quiet"} == ids


def _signals(rows):
    base = {"negated": False, "hypothetical": False, "status": "past", "location": "", "intensity": 0.8,
            "confidence": 0.9}
    return pd.DataFrame([dict(base, signal_id=f"s{i}", **r) for i, r in enumerate(rows)])


def test_two_runs_with_different_rules_are_independent(tmp_path):
    actors = load_actors(ACTORS_FILE)
    facts = signal_groups(_signals([{"source": "IRN", "target": "ISR", "signal": "ATTACK", "date": "2024-11-04"}]),
                          actors)
    _write(tmp_path, GOOD.replace("add: 15", "add: 40"))
    first = run_rules(load_rules(RULES_DIR), facts)
    second = run_rules(load_rules(tmp_path), facts)
    third = run_rules(load_rules(RULES_DIR), facts)
    assert [h.contribution for h in first if h.rule_id == "base-attack"] == \
           [h.contribution for h in third if h.rule_id == "base-attack"]
    assert [h.contribution for h in second] == [pytest.approx(40 * 0.8)]


def test_exception_in_action_is_raised_naming_the_rule(monkeypatch):
    import engine.rules.hits as hits

    actors = load_actors(ACTORS_FILE)
    facts = signal_groups(_signals([{"source": "IRN", "target": "ISR", "signal": "ATTACK", "date": "2024-11-04"}]),
                          actors)

    def broken(rule, facts):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(hits, "contribution_of", broken)
    with pytest.raises(RuleActionError, match=r"rule 'base-attack' failed on pair IRN->ISR: ZeroDivisionError"):
        RuleRun(load_rules(RULES_DIR)).run(facts)


def test_many_signals_do_not_multiply_the_score():
    actors = load_actors(ACTORS_FILE)
    rows = [{"source": "IRN", "target": "ISR", "signal": s, "date": "2024-11-04"} for s in ["THREATEN"] * 500]
    rows += [{"source": "IRN", "target": "ISR", "signal": "MOBILIZE", "date": "2024-11-04"}] * 500
    hits = run_rules(load_rules(RULES_DIR), signal_groups(_signals(rows), actors))
    per_rule = {h.rule_id: h.contribution for h in hits}
    assert len([h for h in hits if h.rule_id == "mobilise-then-threaten"]) == 1
    assert per_rule["base-threat"] <= 8 * 3  # volume factor capped at 3


def test_durable_or_quirk():
    """durable-rules 2.0.28 ignores correlation terms placed after an $or; the compiler puts them first."""
    actors = load_actors(ACTORS_FILE)
    rows = [{"source": "ISR", "target": "IRN", "signal": "THREATEN", "date": "2024-11-04"},
            {"source": "ISR", "target": "IRN", "signal": "ATTACK", "date": "2024-11-05"}]
    hits = run_rules(load_rules(RULES_DIR), signal_groups(_signals(rows), actors))
    assert "reciprocal-hostility" not in {h.rule_id for h in hits}


def test_seed_article_host_state_and_proxy(seed_article_signals):
    actors = load_actors(ACTORS_FILE)
    hits = run_rules(load_rules(RULES_DIR), signal_groups(seed_article_signals, actors, "week", dt.date(2024, 11, 1)))
    host = [h for h in hits if h.rule_id == "host-state-exposure" and (h.source, h.target) == ("ISR", "IRQ")]
    assert host
    sentences = set(seed_article_signals.set_index("signal_id").loc[
        [i for h in host for i in h.signal_ids.split(";")], "sentence"])
    assert all("from Iraqi soil" in s for s in sentences)
    proxy = [h for h in hits if h.rule_id == "proxy-rollup"]
    assert proxy and all(h.source == "IRN" for h in proxy)
    assert any("IRQUAF->" in h.explanation for h in proxy)


def test_durable_rules_and_plain_python_agree(seed_article_signals):
    """The compiled rules and the plain-Python evaluation of the same conditions give the same hits."""
    from engine.rules.reference import run_rules_plain

    actors, rules = load_actors(ACTORS_FILE), load_rules(RULES_DIR)
    rows = [{"source": "IRN", "target": "ISR", "signal": "MOBILIZE", "date": "2024-11-04"},
            {"source": "IRN", "target": "ISR", "signal": "THREATEN", "date": "2024-11-12", "status": "planned"},
            {"source": "ISR", "target": "IRN", "signal": "ATTACK", "date": "2024-11-13"},
            {"source": "IRQUAF", "target": "ISR", "signal": "ATTACK", "date": "2024-12-20", "location": "IRQ"}]
    for signals in (seed_article_signals, _signals(rows)):
        facts = signal_groups(signals, actors, "week", dt.date(2024, 11, 1))
        key = lambda hits: sorted((h.rule_id, h.source, h.target, h.window_start, h.contribution, h.signal_ids)  # noqa: E731
                                  for h in hits)
        durable = key(run_rules(rules, facts))
        assert durable and durable == key(run_rules_plain(rules, facts))


def _many_pairs(n_signals: int, seed: int = 7) -> pd.DataFrame:
    """Signals spread over 40 actor codes (some states, organs, proxies), eight months, every type
    and mode, a few launch points: enough pairs for several rulesets, and windows spanning several
    assert blocks, so that batching across sessions and action batches are both used."""
    rng = np.random.default_rng(seed)
    actors = ["IRN", "ISR", "IRQ", "USA", "IRNMIL", "IRQUAF", "SYR", "LBN", "EGY", "ETH"] + \
             [f"C{i:02d}" for i in range(30)]
    types = ["ATTACK", "THREATEN", "MOBILIZE", "DEMAND", "DEESCALATE"]
    start = dt.date(2024, 1, 1)
    rows = []
    for _ in range(n_signals):
        source, target = rng.choice(actors, 2, replace=False)
        rows.append({"source": str(source), "target": str(target), "signal": str(rng.choice(types)),
                     "date": (start + dt.timedelta(days=int(rng.integers(0, 240)))).isoformat(),
                     "negated": bool(rng.random() < 0.1), "hypothetical": bool(rng.random() < 0.15),
                     "status": str(rng.choice(["past", "ongoing", "planned"])),
                     "location": str(rng.choice(["", "", "", "IRQ", "SYR"])),
                     "intensity": float(rng.choice([0.3, 0.6, 0.9])), "confidence": float(rng.choice([0.5, 0.8]))})
    return pd.DataFrame([dict(r, signal_id=f"g{i}") for i, r in enumerate(rows)])


@pytest.mark.parametrize("batch,block_days,pairs_per_ruleset", [(1000, 28, 150), (3, 7, 40)],
                         ids=["shipped settings", "small batches and blocks"])
def test_durable_rules_and_plain_python_agree_on_many_pairs_and_months(monkeypatch, batch, block_days,
                                                                       pairs_per_ruleset):
    from engine.rules.reference import run_rules_plain

    monkeypatch.setattr(eng, "ACTION_BATCH", batch)
    monkeypatch.setattr(eng, "BLOCK_DAYS", block_days)
    monkeypatch.setattr(eng, "PAIRS_PER_RULESET", pairs_per_ruleset)

    actors, rules = load_actors(ACTORS_FILE), load_rules(RULES_DIR)
    facts = signal_groups(_many_pairs(6000), actors, "week")
    sessions = {eng.session_of(f) for f in facts}
    assert len(sessions) > eng.PAIRS_PER_RULESET  # more than one ruleset
    key = lambda hits: sorted((h.rule_id, h.source, h.target, h.window_start, h.contribution, h.signal_ids)  # noqa: E731
                              for h in hits)
    durable = key(run_rules(rules, facts))
    assert len({h[0] for h in durable}) >= 10 and durable == key(run_rules_plain(rules, facts))


def test_facts_are_never_retracted(monkeypatch):
    """durable-rules 2.0.28's retract_facts corrupts its memory: a later assert_facts crashed the process
    (SIGSEGV) in about 1 run in 8 of tests/test_backtest.py. Windows over many assert blocks, sequence
    rules among the rules: nothing may be retracted."""
    import durable.engine

    def refuse(self, facts):
        raise AssertionError("retract_facts crashes durable-rules 2.0.28")

    monkeypatch.setattr(durable.engine.Ruleset, "retract_facts", refuse)
    monkeypatch.setattr(durable.engine.Ruleset, "retract_fact", refuse)
    monkeypatch.setattr(eng, "BLOCK_DAYS", 7)
    rules = load_rules(RULES_DIR)
    assert any(r.rule.when.sequence for r in rules)
    facts = signal_groups(_many_pairs(1500), load_actors(ACTORS_FILE), "week")
    assert len({eng.day_number(dt.date.fromisoformat(f["window_start"])) // 7 for f in facts}) > 20
    assert run_rules(rules, facts)


SEQUENCE_ONLY = """\
rules:
  - id: threat-then-attack
    description: A threat followed by an attack.
    when:
      sequence:
        - {type: THREATEN}
        - {type: ATTACK}
      within_days: 14
    then: {add: 10}
    examples:
      fires: [{signals: [{source: A, target: B, type: THREATEN}, {source: A, target: B, type: ATTACK, day: 2}]}]
      quiet: [{signals: [{source: A, target: B, type: ATTACK}]}]
"""


def test_a_pair_in_which_no_rule_fired_is_closed_safely(tmp_path):
    """durable-rules 2.0.28 crashes the process when deleting a session in which no action ever ran;
    a run whose only fact half-matches a sequence must end normally (and leave no hit)."""
    _write(tmp_path, SEQUENCE_ONLY)
    facts = signal_groups(_signals([{"source": "IRN", "target": "ISR", "signal": "THREATEN", "date": "2024-11-04"}]),
                          load_actors(ACTORS_FILE))
    assert run_rules(load_rules(tmp_path), facts) == []


def _resident_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc")
def test_repeated_runs_do_not_keep_engine_memory():
    """durable-rules keeps every session's memory (~0.25 MB a pair) unless the session is deleted."""
    actors, rules = load_actors(ACTORS_FILE), load_rules(RULES_DIR)
    rows = [{"source": f"C{i:03d}", "target": "ISR", "signal": "ATTACK", "date": "2024-11-04"} for i in range(600)]
    facts = signal_groups(_signals(rows), actors)
    run_rules(rules, facts)  # warm up: the allocator keeps what it freed for reuse
    before = _resident_mb()
    for _ in range(5):
        run_rules(rules, facts)
    assert _resident_mb() - before < 100  # 3,000 sessions leaked would be ~750 MB


POINTS = """\
rules:
  - id: recent-attack
    description: An attack, worth less the earlier in its window it happened.
    when:
      signal: {type: ATTACK}
    then: {add: 10, scale_by: [recency], half_life_days: 6}
    examples:
      fires:
        - {signals: [{source: IRN, target: ISR, type: ATTACK, day: 0}], points: 5}
        - {signals: [{source: IRN, target: ISR, type: ATTACK, day: 6}], points: 10}
      quiet: [{signals: [{source: IRN, target: ISR, type: THREATEN}]}]
"""


def test_rule_examples_may_assert_the_points(tmp_path):
    """An example's points: day 0 of a week ending on day 6 with a 6-day half-life gives half."""
    actors = load_actors(ACTORS_FILE)
    _write(tmp_path, POINTS)
    results = run_examples(load_rules(tmp_path), actors)
    assert [r.passed for r in results] == [True, True, True], results
    _write(tmp_path, POINTS.replace("points: 5}", "points: 7}"))
    wrong = run_examples(load_rules(tmp_path), actors)[0]
    assert not wrong.passed and "credited +5 points to IRN->ISR, expected +7" in wrong.detail
    _write(tmp_path, POINTS.replace("type: THREATEN}]}]", "type: THREATEN}], points: 1}]"))
    _, problems = check_rules(tmp_path)
    assert any(":11: recent-attack:" in p and "'points' only applies to a 'fires' example" in p for p in problems), problems


# --------------------------------------------------------------------------- rules that can say more
MORE = """\
rules:
  - id: repeated-threats
    description: Two threats or more in a window, carried out or announced.
    status: experimental
    when:
      signal: {type: THREATEN, mode: [actual, planned], min_count: 2}
    then: {add: 5}
    examples:
      fires: [{signals: [{source: IRN, target: ISR, type: THREATEN},
                         {source: IRN, target: ISR, type: THREATEN, status: planned, day: 1}]}]
      quiet: [{signals: [{source: IRN, target: ISR, type: THREATEN}]}]

  - id: iran-against-armed-groups
    description: Iran or one of its organs mobilising against an armed group.
    when:
      signal: {type: MOBILIZE, source: IRN, target_kind: armed_group}
    then: {add: 4}
    examples:
      fires: [{signals: [{source: IRNMIL, target: IRQUAF, type: MOBILIZE}]}]
      quiet:
        - {signals: [{source: IRNMIL, target: IRQ, type: MOBILIZE}]}
        - {signals: [{source: ISR, target: IRQUAF, type: MOBILIZE}]}

  - id: claimed-attack
    description: An attack its author claims, reported with good confidence.
    when:
      signal: {type: ATTACK, reported_by: source, min_confidence: 0.7}
    then: {add: 6}
    examples:
      fires: [{signals: [{source: IRN, target: ISR, type: ATTACK, reported_by: IRNMIL, confidence: 0.8}]}]
      quiet:
        - {signals: [{source: IRN, target: ISR, type: ATTACK, reported_by: ISR, confidence: 0.8}]}
        - {signals: [{source: IRN, target: ISR, type: ATTACK, reported_by: IRN, confidence: 0.5}]}
        - {signals: [{source: IRN, target: ISR, type: ATTACK, confidence: 0.9}]}

  - id: state-threat-then-armed-group-attacks
    description: A state's threat answered by repeated attacks from an armed group.
    when:
      sequence:
        - {type: THREATEN, source_kind: state, reported_by: [none, third-party, unnamed]}
        - {type: ATTACK, direction: reverse, source_kind: armed_group, min_count: 2}
      within_days: 14
    then: {add: 7}
    examples:
      fires: [{signals: [{source: ISR, target: LBNHEZ, type: THREATEN, day: 0, reported_by: reportedly},
                         {source: LBNHEZ, target: ISR, type: ATTACK, day: 2},
                         {source: LBNHEZ, target: ISR, type: ATTACK, day: 3, status: planned}],
               pair: [LBNHEZ, ISR]}]
      quiet: [{signals: [{source: ISR, target: LBNHEZ, type: THREATEN, day: 0},
                         {source: LBNHEZ, target: ISR, type: ATTACK, day: 2}], pair: [LBNHEZ, ISR]}]
"""


def _hits_of(rules, rows, engine="durable"):
    from engine.rules.reference import run_rules_plain

    facts = signal_groups(_signals(rows), load_actors(ACTORS_FILE), "week", dt.date(2024, 11, 1))
    return (run_rules if engine == "durable" else run_rules_plain)(rules, facts)


def test_new_conditions_examples_pass(tmp_path):
    _write(tmp_path, MORE)
    rules, problems = check_rules(tmp_path)
    assert problems == []
    results = run_examples(rules, load_actors(ACTORS_FILE))
    assert all(r.passed for r in results), [r for r in results if not r.passed]


def test_min_count_counts_across_the_listed_modes(tmp_path):
    """One past and one planned threat make two: before, min_count counted one signal group (one
    type, mode and launch point), so this rule never fired."""
    _write(tmp_path, MORE)
    rules = [r for r in load_rules(tmp_path) if r.id == "repeated-threats"]
    rows = [{"source": "IRN", "target": "ISR", "signal": "THREATEN", "date": "2024-11-04"},
            {"source": "IRN", "target": "ISR", "signal": "THREATEN", "date": "2024-11-05", "status": "planned"}]
    for engine in ("durable", "plain"):
        hits = _hits_of(rules, rows, engine)
        assert sorted(h.signal_ids for h in hits) == ["s0", "s1"], engine  # both groups credited
        assert _hits_of(rules, rows[:1], engine) == []
        # another week, another pair or a negated threat does not count
        other = [dict(rows[1], date="2024-11-12"), dict(rows[1], target="USA"), dict(rows[1], negated=True)]
        for extra in other:
            assert _hits_of(rules, [rows[0], extra], engine) == [], (engine, extra)


def test_actor_kind_confidence_and_reporter_conditions(tmp_path):
    _write(tmp_path, MORE)
    rules = load_rules(tmp_path)
    base = {"source": "IRNMIL", "target": "IRQUAF", "signal": "MOBILIZE", "date": "2024-11-04"}
    fired = lambda rows: {(h.rule_id, h.source, h.target) for h in _hits_of(rules, rows)}  # noqa: E731
    assert fired([base]) == {("iran-against-armed-groups", "IRNMIL", "IRQUAF")}
    assert fired([dict(base, target="LBNHEZ")]) == {("iran-against-armed-groups", "IRNMIL", "LBNHEZ")}
    assert fired([dict(base, target="IRQ")]) == set()  # a state, not an armed group
    assert fired([dict(base, source="IRQUAF", target="LBNHEZ")]) == set()
    attack = {"source": "IRN", "target": "ISR", "signal": "ATTACK", "date": "2024-11-04", "confidence": 0.8}
    assert ("claimed-attack", "IRN", "ISR") in fired([dict(attack, reported_by="IRN")])
    assert ("claimed-attack", "IRN", "ISR") in fired([dict(attack, reported_by="USA;IRNGOV")])
    for said in ("", "ISR", "USA", "reportedly"):
        assert ("claimed-attack", "IRN", "ISR") not in fired([dict(attack, reported_by=said)]), said
    assert ("claimed-attack", "IRN", "ISR") not in fired([dict(attack, reported_by="IRN", confidence=0.6)])


def test_rule_status_is_carried_into_rule_hits(tmp_path):
    _write(tmp_path, MORE)
    rules = load_rules(tmp_path)
    assert {r.id: r.rule.status for r in rules}["repeated-threats"] == "experimental"
    assert {r.id: r.rule.status for r in rules}["claimed-attack"] == "stable"  # the default
    rows = [{"source": "IRN", "target": "ISR", "signal": "THREATEN", "date": "2024-11-04"},
            {"source": "IRN", "target": "ISR", "signal": "THREATEN", "date": "2024-11-05", "status": "planned"},
            {"source": "IRN", "target": "ISR", "signal": "ATTACK", "date": "2024-11-05", "reported_by": "IRN"}]
    table = eng.hits_table(_hits_of(rules, rows), "run")
    status = dict(zip(table["rule_id"], table["rule_status"], strict=False))
    assert status == {"repeated-threats": "experimental", "claimed-attack": "stable"}
    assert all("[experimental]" in e for e in table.loc[table["rule_id"] == "repeated-threats", "explanation"])


BROKEN_MORE = [
    ("unknown unit kind", ("target_kind: armed_group}", "target_kind: armed_grop}"), 16,
     "unknown unit kind 'armed_grop' (did you mean 'armed_group'?)"),
    ("lower-case code", ("source: IRN, target_kind", "source: irn, target_kind"), 16, "did you mean 'IRN'?"),
    ("unknown reporter", ("reported_by: source,", "reported_by: sorce,"), 27, "unknown reporter 'sorce' (did you mean 'source'?)"),
    ("confidence out of range", ("min_confidence: 0.7", "min_confidence: 7"), 27, "less than or equal to 1"),
    ("unknown rule status", ("status: experimental", "status: experimentl"), 4,
     "unknown rule status 'experimentl' (did you mean 'experimental'?)"),
    ("misspelt field", ("min_count: 2}", "min_cont: 2}"), 6, "unknown field 'min_cont' (did you mean 'min_count'?)"),
]


@pytest.mark.parametrize("what,change,line,text", BROKEN_MORE, ids=[b[0] for b in BROKEN_MORE])
def test_new_fields_are_checked_with_file_line_and_did_you_mean(tmp_path, what, change, line, text):
    old, new = change
    assert old in MORE
    path = _write(tmp_path, MORE.replace(old, new, 1))
    _, problems = check_rules(tmp_path)
    assert any(p.startswith(f"{path}:{line}:") and text in p for p in problems), problems


def test_durable_rules_and_plain_python_agree_on_the_new_conditions(tmp_path):
    """The shipped rules plus rules using every new condition, on many pairs with reporters."""
    from engine.rules.reference import run_rules_plain

    _write(tmp_path, MORE)
    all_rules = load_rules(RULES_DIR) + load_rules(tmp_path)
    signals = _many_pairs(4000, seed=11)
    rng = np.random.default_rng(5)
    signals["reported_by"] = rng.choice(["", "", "IRN", "ISR", "USA;IRQ", "reportedly", "LBNHEZ"], len(signals))
    signals.loc[rng.random(len(signals)) < 0.2, "target"] = "LBNHEZ"
    signals = signals[signals["source"] != signals["target"]]
    facts = signal_groups(signals, load_actors(ACTORS_FILE), "week")
    key = lambda hits: sorted((h.rule_id, h.source, h.target, h.window_start, h.contribution, h.signal_ids)  # noqa: E731
                              for h in hits)
    durable = key(run_rules(all_rules, facts))
    new_ids = {r.id for r in load_rules(tmp_path)}
    assert {h[0] for h in durable} >= new_ids - {"state-threat-then-armed-group-attacks"}
    assert durable == key(run_rules_plain(all_rules, facts))


def test_rules_check_knows_the_actor_codes_of_conditions(tmp_path):
    from engine.config import check_folder

    shutil.copy(ACTORS_FILE, tmp_path / "actors.yaml")
    shutil.copytree(ACTORS_FILE.parent / "generated", tmp_path / "generated")
    path = _write(tmp_path, MORE.replace("source: IRN, target_kind", "source: IRNMLI, target_kind"))
    problems, _ = check_folder(tmp_path)
    assert [p for p in problems if p.startswith(f"{path}:16: iran-against-armed-groups:")] == [
        f"{path}:16: iran-against-armed-groups: when.signal.source: unknown actor code 'IRNMLI' (did you mean 'IRNMIL'?)"]
    _write(tmp_path, MORE)
    assert check_folder(tmp_path)[0] == []


def test_committed_json_schema_is_current():
    """rules/scoring/rules.schema.json is what `escalation rules schema` prints (regenerate with
    `escalation rules schema --out rules/scoring/rules.schema.json`)."""
    import json

    from engine.paths import SHIPPED_RULES_DIR
    from engine.rules.models import json_schema

    committed = json.loads((SHIPPED_RULES_DIR / "scoring" / "rules.schema.json").read_text())
    assert committed == json_schema()
