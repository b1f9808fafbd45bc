"""Compile validated rules to durable-rules rulesets (plain JSON form) and run them on signals.

What durable-rules 2.0.28 does that this module designs around (each checked here, see tests):
- an exception raised in an action is swallowed (the rule just seems not to fire): every action is
  wrapped, the exception kept, and raised as ``RuleActionError`` naming the rule after the assert;
- events are consumed by the first rule that fires on them: we assert *facts*, seen by every rule;
- ``Host.set_rulesets`` mutates its definition (drops ``run``) and ruleset names are global to the
  process: definitions are built fresh per run and named with a per-run unique name, and the
  ruleset is deleted from the engine after the run;
- ``Host`` starts two timer threads that never stop: we use a subclass without them and drive the
  rules synchronously;
- correlated sequences fire once per combination and facts accumulate (quadratic cost): signals are
  first aggregated per pair, window, type, mode and launch point into *signal groups* (one fact per
  group, with a count and a volume factor capped at ``log2(1 + count) <= 3``), facts older than the
  longest rule window are retracted as windows advance, and a rule credits a pair at most once per
  window (the largest contribution is kept).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import durable_rules_engine
import pandas as pd
from durable.engine import Host

from engine.errors import RuleActionError
from engine.nlp.lexicon import ActorDictionary
from engine.rules.models import LoadedRule, Rule, SignalCondition
from engine.schemas import RuleHitsTable, empty_frame, validate

EPOCH = dt.date(1970, 1, 1)
VOLUME_CAP = 3.0
_run_counter = itertools.count()


class _QuietHost(Host):
    """durable-rules Host without its background dispatch threads (we drive it synchronously)."""

    def _run(self):
        pass


def day_number(date: dt.date) -> int:
    return (date - EPOCH).days


def window_of(date: dt.date, granularity: str = "week") -> tuple[dt.date, dt.date]:
    if granularity == "day":
        return date, date
    if granularity == "week":
        start = date - dt.timedelta(days=date.weekday())
        return start, start + dt.timedelta(days=6)
    if granularity == "month":
        start = date.replace(day=1)
        nxt = (start + dt.timedelta(days=32)).replace(day=1)
        return start, nxt - dt.timedelta(days=1)
    raise ValueError(f"unknown window {granularity!r} (day, week or month)")


# --------------------------------------------------------------------------- signals -> facts
def mode_of(negated: bool, hypothetical: bool, status: str) -> str:
    if negated:
        return "negated"
    if hypothetical:
        return "hypothetical"
    return "planned" if status == "planned" else "actual"


def signal_groups(signals: pd.DataFrame, actors: ActorDictionary, granularity: str = "week",
                  reference_date: dt.date | None = None) -> list[dict]:
    """Aggregate dyadic signals into one fact per (pair, window, type, mode, launch point)."""
    df = signals[(signals["source"] != "") & (signals["target"] != "")]
    if df.empty:
        return []
    ref = (reference_date or dt.date.today()).isoformat()
    dates = df["date"].replace("", ref)
    # per distinct date, not per row: a day's window and number are computed once
    unique = {d: dt.date.fromisoformat(d) for d in dates.unique()}
    windows = {d: window_of(day, granularity) for d, day in unique.items()}
    modes = {(n, h, st): mode_of(n, h, st) for n, h, st in
             df[["negated", "hypothetical", "status"]].drop_duplicates().itertuples(index=False)}
    work = pd.DataFrame({
        "source": df["source"].values, "target": df["target"].values,
        "_wstart": dates.map(lambda d: windows[d][0].isoformat()).values,
        "_wend": dates.map(lambda d: windows[d][1].isoformat()).values,
        "signal": df["signal"].values,
        "_mode": [modes[k] for k in zip(df["negated"], df["hypothetical"], df["status"], strict=True)],
        "location": df["location"].values, "status": df["status"].values,
        "_day": dates.map(lambda d: day_number(unique[d])).values,
        "intensity": df["intensity"].astype(float).values, "confidence": df["confidence"].astype(float).values,
        "signal_id": df["signal_id"].astype(str).values,
    })
    work["_weight"] = work["intensity"] * work["confidence"]
    keys = ["source", "target", "_wstart", "_wend", "signal", "_mode", "location"]
    groups = work.groupby(keys, sort=True).agg(
        count=("signal_id", "size"), intensity=("intensity", "max"), confidence=("confidence", "mean"),
        weight=("_weight", "sum"), first_day=("_day", "min"), last_day=("_day", "max"),
        signal_ids=("signal_id", ";".join),
    )
    # the group's most frequent status, ties to the alphabetically first (as Series.mode does)
    status = (work.groupby([*keys, "status"]).size().rename("n").reset_index()
              .sort_values(["n", "status"], ascending=[False, True]).drop_duplicates(keys)
              .set_index(keys)["status"])
    groups = groups.join(status).reset_index()
    codes = set(groups["source"]) | set(groups["target"])
    country = {c: actors.country_of(c) or c for c in codes}
    unit = {c: actors.unit_of(c) for c in codes}
    patron = {c: actors.patron_of(c) for c in codes}
    facts = []
    for row in groups.itertuples(index=False):
        src_country, tgt_country, src_patron = country[row.source], country[row.target], patron[row.source]
        loc = row.location
        facts.append({
            "source": row.source, "target": row.target, "source_unit": unit[row.source],
            "target_unit": unit[row.target], "source_country": src_country,
            "target_country": tgt_country, "source_patron": src_patron, "target_patron": patron[row.target],
            "source_is_proxy": bool(src_patron), "type": row.signal, "mode": row._5,
            "negated": row._5 == "negated", "hypothetical": row._5 == "hypothetical",
            "status": row.status, "location": loc,
            # launched from a state that is neither the target nor the attacker itself (a proxy
            # based in its host state counts: the host is exposed)
            "from_third_country": bool(loc) and loc != tgt_country and (loc != src_country or bool(src_patron)),
            "count": int(row.count), "intensity": float(row.intensity), "confidence": float(row.confidence),
            "weight": float(row.weight), "first_day": int(row.first_day), "last_day": int(row.last_day),
            "window_start": row._2, "window_end": row._3,
            "window_end_day": day_number(dt.date.fromisoformat(row._3)),
            "signal_ids": row.signal_ids, "id": len(facts),
        })
    return facts


# --------------------------------------------------------------------------- compilation
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


# --------------------------------------------------------------------------- execution
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


def contribution_of(rule: Rule, facts: list[dict]) -> tuple[float, str]:
    """Points a firing gives, and the explanation of how they were computed."""
    last = facts[-1]
    factors = []
    value = rule.then.add * rule.then.share
    for scale in rule.then.scale_by:
        if scale == "intensity":
            f = max(x["intensity"] for x in facts)
        elif scale == "confidence":
            f = sum(x["confidence"] for x in facts) / len(facts)
        elif scale == "recency":
            age = max(0, last["window_end_day"] - last["last_day"])
            f = 0.5 ** (age / rule.then.half_life_days)
        else:  # volume
            f = min(VOLUME_CAP, math.log2(1 + sum(x["count"] for x in facts)))
        factors.append(f"{scale} {f:.2f}")
        value *= f
    base = f"{rule.then.add:+g}" + (f" x share {rule.then.share:g}" if rule.then.share != 1 else "")
    return round(value, 4), base + "".join(f" x {x}" for x in factors)


def _describe(facts: list[dict]) -> str:
    parts = []
    for f in facts:
        loc = f" from {f['location']}" if f["location"] else ""
        parts.append(f"{f['source']}->{f['target']} {f['type']} ({f['mode']}, x{f['count']}{loc}, {f['window_start']})")
    return " then ".join(parts)


def session_of(fact: dict) -> str:
    """A rule session is a pair of units (ActorDictionary.unit_of), in either order: sequences
    correlate A->B with B->A, and an organ of a state with the state (IRNMIL and IRN); an armed
    group or proxy stays itself (IRQUAF is not Iraq)."""
    first, second = sorted((fact["source_unit"], fact["target_unit"]))
    return f"{first}|{second}"


# the fact fields compiled conditions read (compile_condition, compile_rule), plus the fact's id
CONDITION_FIELDS = ("id", "source_unit", "target_unit", "type", "mode", "status", "negated", "hypothetical",
                    "source_is_proxy", "location", "from_third_country", "count", "intensity",
                    "first_day", "last_day")


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
        ids = ";".join(dict.fromkeys(i for f in facts for i in f["signal_ids"].split(";")))
        text = f"{rule.id}: {_describe(facts)}; {how} = {points:+.2f}"
        if pair:
            text += f" (credited to {source}->{target})"
        hit = Hit(rule.id, source, target, last["window_start"], last["window_end"], points, ids, text,
                  rule.then.band_floor or "")
        old = self.hits.get(key)
        if old is not None:
            # whatever the firing order: the largest contribution (ties: the first explanation in
            # sort order) and the signals of every firing behind this hit
            hit.signal_ids = ";".join(sorted(set(old.signal_ids.split(";")) | set(ids.split(";"))))
            if (abs(points), old.explanation) <= (abs(old.contribution), text):
                old.signal_ids = hit.signal_ids
                return
        self.hits[key] = hit


class RuleRun:
    """One isolated scoring run: its own host and uniquely named ruleset, deleted afterwards."""

    def __init__(self, rules: list[LoadedRule]):
        self.name = f"escalation_{next(_run_counter)}_{uuid.uuid4().hex[:8]}"
        self.recorder = HitRecorder()
        self.full: dict[int, dict] = {}
        self.errors: list[RuleActionError] = []
        self.max_window = max([r.rule.when.within_days or 0 for r in rules] + [0])
        self.conditions = [c for r in rules for c in ([r.rule.when.signal] if r.rule.when.signal
                                                      else r.rule.when.sequence)]
        definition = {}
        for i, loaded in enumerate(rules):
            rule_def = compile_rule(loaded.rule)
            rule_def["run"] = self._action(loaded.rule)
            definition[f"r{i}_{loaded.id.replace('-', '_')}"] = rule_def
        self.host = _QuietHost()
        self.host.set_rulesets({self.name: definition})

    def _action(self, rule: Rule) -> Callable:
        def run(c):
            facts = [self.full[c._m[k]["id"]] for k in sorted(c._m)]
            try:
                self.recorder.record(rule, facts)
            except Exception as exc:  # durable-rules would swallow it; keep it for after the assert
                pair = f"{facts[-1].get('source')}->{facts[-1].get('target')}"
                self.errors.append(RuleActionError(rule.id, pair, exc))
        return run

    def run(self, facts: list[dict]) -> list[Hit]:
        """Assert facts window by window, retracting those no rule window can reach any more.

        Only facts that satisfy some rule step's own terms are asserted, one batch per window and
        session. Checked with durable-rules 2.0.28: a batch holding a fact that no rule matches
        raises before running any action (such a fact could not take part in a firing anyway), and
        a batch spanning several sessions runs the actions of its first session only."""
        by_window: dict[str, list[dict]] = {}
        for k, fact in enumerate(facts):
            if not any(matches(cond, fact) for cond in self.conditions):
                continue
            fact = dict(fact, id=fact.get("id", k))
            self.full[fact["id"]] = fact
            # the engine gets only what conditions read; actions look the full fact up by id
            slim = {key: fact[key] for key in CONDITION_FIELDS}
            slim["sid"] = session_of(fact)
            by_window.setdefault(fact["window_start"], []).append(slim)
        live: list[dict] = []
        try:
            for wstart in sorted(by_window):
                horizon = day_number(dt.date.fromisoformat(wstart)) - self.max_window
                expired = [f for f in live if f["last_day"] < horizon]
                if expired:
                    for fact in expired:  # one at a time: a batch reaches its first session only
                        self.host.retract_fact(self.name, fact)
                    live = [f for f in live if f["last_day"] >= horizon]
                by_session: dict[str, list[dict]] = {}
                for fact in by_window[wstart]:
                    by_session.setdefault(fact["sid"], []).append(fact)
                for batch in by_session.values():
                    self.host.assert_facts(self.name, batch)
                    self._raise_errors()
                live.extend(by_window[wstart])
        finally:
            self.close()
        return list(self.recorder.hits.values())

    def _raise_errors(self) -> None:
        if self.errors:
            raise self.errors[0]

    def close(self) -> None:
        ruleset = self.host._ruleset_directory.pop(self.name, None)
        if ruleset is not None:
            durable_rules_engine.delete_ruleset(ruleset._handle)


PAIRS_PER_RULESET = 150


def run_rules(rules: list[LoadedRule], facts: list[dict]) -> list[Hit]:
    """Run the rules on facts. Sessions are independent, so they are spread over fresh rulesets of
    at most PAIRS_PER_RULESET sessions each: durable-rules' C engine has fixed-size tables and fails
    with MemoryError on a few thousand pairs in one ruleset (seen with ICEWS18 at 10 %)."""
    by_pair: dict[str, list[dict]] = {}
    for fact in facts:
        by_pair.setdefault(session_of(fact), []).append(fact)
    pairs = sorted(by_pair)
    hits: list[Hit] = []
    for i in range(0, max(len(pairs), 1), PAIRS_PER_RULESET):
        chunk = [f for pair in pairs[i : i + PAIRS_PER_RULESET] for f in by_pair[pair]]
        hits.extend(RuleRun(rules).run(chunk))
    return hits


def hits_table(hits: list[Hit], run_id: str) -> pd.DataFrame:
    """The validated rule-hits table (plus a ``band_floor`` column for floor rules)."""
    if not hits:
        return empty_frame(RuleHitsTable)
    rows = [{"run_id": run_id, "source": h.source, "target": h.target, "window_start": h.window_start,
             "window_end": h.window_end, "rule_id": h.rule_id, "contribution": h.contribution,
             "signal_ids": h.signal_ids, "explanation": h.explanation} for h in hits]
    df = pd.DataFrame(rows).sort_values(["source", "target", "window_start", "rule_id"]).reset_index(drop=True)
    return validate(RuleHitsTable, df, "rule_hits")
