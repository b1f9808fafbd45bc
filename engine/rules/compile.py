"""Rules -> durable-rules JSON terms, and the same terms evaluated in Python (``matches``)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from engine.rules.models import Rule, SignalCondition


def _one_of(field: str, values: list) -> dict:
    return {field: values[0]} if len(values) == 1 else {"$or": [{field: v} for v in values]}


def _actor_terms(role: str, codes: list[str]) -> dict:
    """A code matches the actor itself or, for a unit (a state), every actor whose unit it is."""
    return {"$or": [{field: c} for c in codes for field in (role, f"{role}_unit")]}


def count_key(cond: SignalCondition) -> str:
    """The fact field holding, for ``cond.min_count``, the number of signals of the fact's pair and
    window that meet the condition's other terms (``annotate_counts``)."""
    terms = cond.model_dump(exclude={"min_count", "direction"})
    return "n_" + hashlib.sha1(json.dumps(terms, sort_keys=True).encode()).hexdigest()[:12]


def annotate_counts(conditions: Iterable[SignalCondition], facts: list[dict]) -> list[str]:
    """``min_count`` counts across groups: every signal of the pair (source, target) and window that
    meets the condition's other terms, whatever its type, mode or launch point (one past and one
    planned threat make two). For each condition with a ``min_count``, each fact gets that total
    under ``count_key(cond)``; both the durable-rules path and the plain-Python one read it.
    Returns the keys added."""
    keys: list[str] = []
    for cond in conditions:
        if not cond.min_count or count_key(cond) in keys:
            continue
        key, others = count_key(cond), cond.model_copy(update={"min_count": None})
        totals: dict[tuple, int] = {}
        for fact in facts:
            if matches(others, fact):
                pair = (fact["source"], fact["target"], fact["window_start"])
                totals[pair] = totals.get(pair, 0) + fact["count"]
        for fact in facts:
            fact[key] = totals.get((fact["source"], fact["target"], fact["window_start"]), 0)
        keys.append(key)
    return keys


def compile_condition(cond: SignalCondition) -> list[dict]:
    """A signal condition as durable-rules JSON terms (to be joined with $and)."""
    terms: list[dict] = [{"$gte": {"count": 1}}]
    if cond.type:
        terms.append(_one_of("type", cond.type))
    if cond.mode:
        terms.append(_one_of("mode", cond.mode))
    if cond.status:
        terms.append(_one_of("status", cond.status))
    for flag in ("negated", "hypothetical", "source_is_proxy"):
        value = getattr(cond, flag)
        if value is not None:
            terms.append({flag: value})
    if cond.location == "any":
        terms.append({"$ne": {"location": ""}})
    elif cond.location == "none":
        terms.append({"location": ""})
    elif cond.location == "third-country":
        terms.append({"from_third_country": True})
    elif cond.location:
        terms.append({"location": cond.location})
    if cond.source:
        terms.append(_actor_terms("source", cond.source))
    if cond.target:
        terms.append(_actor_terms("target", cond.target))
    if cond.source_kind:
        terms.append(_one_of("source_kind", cond.source_kind))
    if cond.target_kind:
        terms.append(_one_of("target_kind", cond.target_kind))
    if cond.min_count:
        terms.append({"$gte": {count_key(cond): cond.min_count}})
    if cond.min_intensity is not None:
        terms.append({"$gte": {"intensity": cond.min_intensity}})
    if cond.min_confidence is not None:
        terms.append({"$gte": {"confidence": cond.min_confidence}})
    if cond.reported_by:
        # the fact's ``reporters`` list (facts.reporter_tokens) holds at least one of the values
        anyof = [{"$iany": {"reporters": {"$i": v}}} for v in cond.reported_by]
        terms.append(anyof[0] if len(anyof) == 1 else {"$or": anyof})
    return terms


def matches(cond: SignalCondition, fact: dict) -> bool:
    """The same terms as ``compile_condition``, evaluated in Python (keep the two in step)."""
    if fact["count"] < 1:
        return False
    for field, allowed in (("type", cond.type), ("mode", cond.mode), ("status", cond.status),
                           ("source_kind", cond.source_kind), ("target_kind", cond.target_kind)):
        if allowed and fact[field] not in allowed:
            return False
    for role, codes in (("source", cond.source), ("target", cond.target)):
        if codes and fact[role] not in codes and fact[f"{role}_unit"] not in codes:
            return False
    for flag in ("negated", "hypothetical", "source_is_proxy"):
        value = getattr(cond, flag)
        if value is not None and fact[flag] != value:
            return False
    if cond.location == "any" and fact["location"] == "":
        return False
    if cond.location == "none" and fact["location"] != "":
        return False
    if cond.location == "third-country" and not fact["from_third_country"]:
        return False
    if cond.location not in (None, "any", "none", "third-country") and fact["location"] != cond.location:
        return False
    if cond.min_count and fact.get(count_key(cond), fact["count"]) < cond.min_count:
        return False
    if cond.min_confidence is not None and fact["confidence"] < cond.min_confidence:
        return False
    if cond.reported_by and not any(v in fact["reporters"] for v in cond.reported_by):
        return False
    return cond.min_intensity is None or fact["intensity"] >= cond.min_intensity


def compile_rule(rule: Rule) -> dict:
    """The durable-rules JSON definition of one rule (without its ``run`` action)."""
    if rule.when.signal is not None:
        return {"all": [{"m": {"$and": compile_condition(rule.when.signal)}}]}
    steps = []
    for i, cond in enumerate(rule.when.sequence):
        terms = compile_condition(cond)
        if i > 0:
            same = cond.direction == "same"
            # correlation terms go first: durable-rules 2.0.28 drops references that follow an
            # "$or" inside an "$and" (see tests/test_rules.py::test_durable_or_quirk)
            terms = [
                {"source_unit": {"f0": "source_unit" if same else "target_unit"}},
                {"target_unit": {"f0": "target_unit" if same else "source_unit"}},
                {"$gte": {"last_day": {f"f{i - 1}": "first_day"}}},
                {"$lte": {"last_day": {"$add": {"$l": {"f0": "first_day"}, "$r": rule.when.within_days}}}},
            ] + terms
        steps.append({f"f{i}": {"$and": terms}})
    return {"all": steps}


CONDITION_FIELDS = ("id", "source", "target", "source_unit", "target_unit", "source_kind", "target_kind", "type",
                    "mode", "status", "negated", "hypothetical", "source_is_proxy", "location", "from_third_country",
                    "count", "intensity", "confidence", "reporters", "first_day", "last_day")


# the fields ``matches`` reads (besides the count_key fields of conditions with a min_count)
MATCHED_FIELDS = ("type", "mode", "status", "negated", "hypothetical", "source_is_proxy", "location",
                  "from_third_country", "count", "intensity", "source", "target", "source_unit", "target_unit",
                  "source_kind", "target_kind", "confidence", "reporters")


_OPTIONAL = {"source": ("source", "source_unit"), "target": ("target", "target_unit"),
             "source_kind": ("source_kind",), "target_kind": ("target_kind",),
             "min_confidence": ("confidence",), "reported_by": ("reporters",)}
_OPTIONAL_FIELDS = {"source", "target", "source_kind", "target_kind", "confidence", "reporters"}


def _used_optional(conditions: list[SignalCondition]) -> set[str]:
    return {f for name, fields in _OPTIONAL.items() if any(getattr(c, name) for c in conditions) for f in fields}


def condition_fields(conditions: Iterable[SignalCondition]) -> tuple[str, ...]:
    """The fact fields the engine needs for these conditions: the core ones, plus those of the
    optional conditions some condition uses (fewer fields per fact: less JSON for durable-rules)."""
    used = _used_optional(list(conditions))
    return tuple(f for f in CONDITION_FIELDS if f not in _OPTIONAL_FIELDS or f in used)


def matched_fields(conditions: Iterable[SignalCondition]) -> tuple[str, ...]:
    """The fact fields ``matches`` reads for these conditions (the rest cannot change its answer)."""
    used = _used_optional(list(conditions))
    return tuple(f for f in MATCHED_FIELDS if f in used or (f not in _OPTIONAL_FIELDS
                                                            and f not in ("source_unit", "target_unit")))
