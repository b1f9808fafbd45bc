"""Plain-Python evaluation of the same rule conditions, without durable-rules.

Two uses: the baseline that `make bench` measures durable-rules against, and a parity check in the
tests (both must give the same hits). It mirrors ``compile_condition``/``compile_rule`` term by term.
"""

from __future__ import annotations

import itertools

from engine.rules.compile import annotate_counts, matches
from engine.rules.facts import session_of
from engine.rules.hits import HitRecorder
from engine.rules.models import LoadedRule, SignalCondition


def _follows(cond: SignalCondition, fact: dict, first: dict, previous: dict, within_days: int) -> bool:
    same = cond.direction == "same"
    return (fact["source_unit"] == (first["source_unit"] if same else first["target_unit"])
            and fact["target_unit"] == (first["target_unit"] if same else first["source_unit"])
            and fact["last_day"] >= previous["first_day"]
            and fact["last_day"] <= first["first_day"] + within_days)


def run_rules_plain(rules: list[LoadedRule], facts: list[dict]):
    """Hits of ``rules`` on ``facts``, computed in plain Python."""
    recorder = HitRecorder()
    annotate_counts([c for r in rules for c in ([r.rule.when.signal] if r.rule.when.signal else r.rule.when.sequence)],
                    facts)
    sessions: dict[str, list[dict]] = {}
    for fact in facts:
        sessions.setdefault(session_of(fact), []).append(fact)
    for loaded in rules:
        rule = loaded.rule
        for session in sessions.values():
            if rule.when.signal is not None:
                for fact in session:
                    if matches(rule.when.signal, fact):
                        recorder.record(rule, [fact])
                continue
            steps = rule.when.sequence
            candidates = [[f for f in session if matches(cond, f)] for cond in steps]
            for combo in itertools.product(*candidates):
                if len({id(f) for f in combo}) < len(combo):
                    continue
                first = combo[0]
                if all(_follows(steps[i], combo[i], first, combo[i - 1], rule.when.within_days)
                       for i in range(1, len(combo))):
                    recorder.record(rule, list(combo))
    return list(recorder.hits.values())
