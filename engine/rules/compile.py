"""Rules -> durable-rules JSON terms, and the same terms evaluated in Python (``matches``)."""

from __future__ import annotations

from engine.rules.models import Rule, SignalCondition


def _one_of(field: str, values: list) -> dict:
    return {field: values[0]} if len(values) == 1 else {"$or": [{field: v} for v in values]}


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
    if cond.min_count:
        terms.append({"$gte": {"count": cond.min_count}})
    if cond.min_intensity is not None:
        terms.append({"$gte": {"intensity": cond.min_intensity}})
    return terms


def matches(cond: SignalCondition, fact: dict) -> bool:
    """The same terms as ``compile_condition``, evaluated in Python (keep the two in step)."""
    if fact["count"] < 1:
        return False
    for field, allowed in (("type", cond.type), ("mode", cond.mode), ("status", cond.status)):
        if allowed and fact[field] not in allowed:
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
    if cond.min_count and fact["count"] < cond.min_count:
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


CONDITION_FIELDS = ("id", "source_unit", "target_unit", "type", "mode", "status", "negated", "hypothetical",
                    "source_is_proxy", "location", "from_third_country", "count", "intensity",
                    "first_day", "last_day")


# the fields ``matches`` reads
MATCHED_FIELDS = ("type", "mode", "status", "negated", "hypothetical", "source_is_proxy", "location",
                  "from_third_country", "count", "intensity")
