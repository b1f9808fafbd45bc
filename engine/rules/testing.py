"""`escalation rules test`: run every rule's examples through the *whole* compiled rule set."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from engine.actor_dictionary import ActorDictionary
from engine.rules.engine import run_rules, signal_groups
from engine.rules.models import Example, LoadedRule

EXAMPLE_START = dt.date(2024, 1, 1)  # a Monday: days 0-6 share a weekly window


@dataclass
class ExampleResult:
    rule_id: str
    file: Path
    line: int
    kind: str  # fires | quiet
    index: int
    passed: bool
    detail: str


def example_signals(example: Example) -> pd.DataFrame:
    rows = []
    for i, s in enumerate(example.signals):
        rows.append({
            "signal_id": f"ex{i}", "source": s.source, "target": s.target, "signal": s.type,
            "date": (EXAMPLE_START + dt.timedelta(days=s.day)).isoformat(), "negated": s.negated,
            "hypothetical": s.hypothetical, "status": s.status, "location": s.location,
            "intensity": s.intensity, "confidence": s.confidence, "reported_by": s.reported_by,
        })
        rows.extend(dict(rows[-1], signal_id=f"ex{i}.{k}") for k in range(1, s.count))
    return pd.DataFrame(rows)


def run_examples(rules: list[LoadedRule], actors: ActorDictionary) -> list[ExampleResult]:
    results = []
    for loaded in rules:
        for kind in ("fires", "quiet"):
            for index, example in enumerate(getattr(loaded.rule.examples, kind)):
                facts = signal_groups(example_signals(example), actors, "week", EXAMPLE_START)
                hits = run_rules(rules, facts)
                pair = tuple(example.pair) if example.pair else (example.signals[0].source, example.signals[0].target)
                fired = [h for h in hits if h.rule_id == loaded.id and (h.source, h.target) == pair]
                passed = bool(fired) == (kind == "fires")
                detail = (f"fired on {pair[0]}->{pair[1]}: {fired[0].explanation}" if fired
                          else f"did not fire on {pair[0]}->{pair[1]}")
                if fired and example.points is not None:
                    points = round(sum(h.contribution for h in fired), 4)
                    if abs(points - example.points) >= 0.005:
                        passed = False
                        detail = f"credited {points:+g} points to {pair[0]}->{pair[1]}, expected {example.points:+g}: " \
                                 + "; ".join(h.explanation for h in fired)
                results.append(ExampleResult(loaded.id, loaded.file, loaded.line, kind, index, passed, detail))
    return results
