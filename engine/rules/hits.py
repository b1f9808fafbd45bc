"""Firings -> rule hits: the points a firing gives (``contribution_of``), one hit per rule, pair and
window (``HitRecorder``), and the validated rule-hits table."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from engine.rules.models import Rule
from engine.schemas import RuleHitsTable, empty_frame, validate

VOLUME_CAP = 3.0


@dataclass
class Hit:
    rule_id: str
    source: str
    target: str
    window_start: str
    window_end: str
    contribution: float
    signal_ids: str
    explanation: str
    band_floor: str = ""
    band_cap: str = ""
    rule_status: str = "stable"  # the rule's status: stable or experimental


def contribution_of(rule: Rule, facts: list[dict]) -> tuple[float, str]:
    """Points a firing gives, and the explanation of how they were computed."""
    then, last = rule.then, facts[-1]
    value = then.add * then.share
    how = f"{then.add:+g}" + (f" x share {then.share:g}" if then.share != 1 else "")
    for scale in then.scale_by:
        if scale == "intensity":
            f = last["intensity"] if len(facts) == 1 else max(x["intensity"] for x in facts)
        elif scale == "confidence":
            f = last["confidence"] if len(facts) == 1 else sum(x["confidence"] for x in facts) / len(facts)
        elif scale == "recency":
            f = 0.5 ** (max(0, last["window_end_day"] - last["last_day"]) / then.half_life_days)
        else:  # volume
            f = min(VOLUME_CAP, math.log2(1 + (last["count"] if len(facts) == 1 else sum(x["count"] for x in facts))))
        how += f" x {scale} {f:.2f}"
        value *= f
    return round(value, 4), how


def _describe(facts: list[dict]) -> str:
    parts = []
    for f in facts:
        loc = f" from {f['location']}" if f["location"] else ""
        parts.append(f"{f['source']}->{f['target']} {f['type']} ({f['mode']}, x{f['count']}{loc}, {f['window_start']})")
    return " then ".join(parts)


class HitRecorder:
    """Turns firings into hits: a one-group rule credits each signal group once; a sequence rule
    credits a pair once per window, keeping the largest contribution and the union of its signals,
    so the result does not depend on the order in which the engine fires."""

    def __init__(self):
        self.hits: dict[tuple, Hit] = {}

    def record(self, rule: Rule, facts: list[dict]) -> None:
        last = facts[-1]  # the sequence's last step (it ends no earlier than the others): it is credited
        pair = rule.then.for_pair
        source = last[pair.source] if pair else last["source"]
        target = last[pair.target] if pair else last["target"]
        if not source or not target or source == target:
            return
        points, how = contribution_of(rule, facts)
        key = (rule.id, source, target, last["window_start"])
        if rule.when.signal is not None:
            key += (last["id"],)
        if len(facts) == 1:
            ids = last["signal_ids"]  # one group: its ids are distinct already
        else:
            ids = ";".join(dict.fromkeys(i for f in facts for i in f["signal_ids"].split(";")))
        text = f"{rule.id}: {_describe(facts)}; {how} = {points:+.2f}"
        if pair:
            text += f" (credited to {source}->{target})"
        bands = ""
        if rule.then.band_floor:
            bands += f"; band at least {rule.then.band_floor}"
        if rule.then.band_cap:
            bands += f"; band at most {rule.then.band_cap}"
        if rule.status != "stable":
            text += f" [{rule.status}]"
        hit = Hit(rule.id, source, target, last["window_start"], last["window_end"], points, ids, text + bands,
                  rule.then.band_floor or "", rule.then.band_cap or "", rule.status)
        old = self.hits.get(key)
        if old is not None:
            # whatever the firing order: the largest contribution (ties: the first explanation in
            # sort order) and the signals of every firing behind this hit
            hit.signal_ids = ";".join(sorted(set(old.signal_ids.split(";")) | set(ids.split(";"))))
            if (abs(points), old.explanation) <= (abs(old.contribution), text):
                old.signal_ids = hit.signal_ids
                return
        self.hits[key] = hit


def hits_table(hits: list[Hit], run_id: str) -> pd.DataFrame:
    """The validated rule-hits table."""
    if not hits:
        return empty_frame(RuleHitsTable)
    rows = [{"run_id": run_id, "source": h.source, "target": h.target, "window_start": h.window_start,
             "window_end": h.window_end, "rule_id": h.rule_id, "contribution": h.contribution,
             "signal_ids": h.signal_ids, "explanation": h.explanation, "band_floor": h.band_floor,
             "band_cap": h.band_cap, "rule_status": h.rule_status} for h in hits]
    df = pd.DataFrame(rows).sort_values(["source", "target", "window_start", "rule_id"]).reset_index(drop=True)
    return validate(RuleHitsTable, df, "rule_hits")
