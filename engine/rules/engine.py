"""Compile validated rules to durable-rules rulesets (plain JSON form) and run them on signals.

What durable-rules 2.0.28 does that this module designs around (each checked here, see tests):
- an exception raised in an action is swallowed (the rule just seems not to fire): every action is
  wrapped, the exception kept, and raised as ``RuleActionError`` naming the rule after the assert;
- events are consumed by the first rule that fires on them: we assert *facts*, seen by every rule;
- ``Host.set_rulesets`` mutates its definition (drops ``run``) and ruleset names are global to the
  process: definitions are built fresh per run and named with a per-run unique name, and the
  ruleset is deleted from the engine after the run;
- ``Host`` starts two timer threads that never stop: we use a subclass without them and drive the
  rules synchronously, running the actions the engine has queued ourselves;
- ``delete_ruleset`` does not free the ruleset's sessions (about 0.25 MB per pair and run stays
  allocated and the engine slows down as memory grows): each session is deleted first;
- correlated sequences fire once per combination and facts accumulate (quadratic cost): signals are
  first aggregated per pair, window, type, mode and launch point into *signal groups* (one fact per
  group, with a count and a volume factor capped at ``log2(1 + count) <= 3``), facts older than the
  longest rule window are retracted as windows advance, and a rule credits a pair at most once per
  window (the largest contribution is kept);
- one Python call per firing is what costs most: each rule gets its matches in batches (the rule's
  ``cap``), and facts are asserted a block of windows at a time, for all sessions in one call.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import durable_rules_engine
import numpy as np
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
def signal_groups(signals: pd.DataFrame, actors: ActorDictionary, granularity: str = "week",
                  reference_date: dt.date | None = None) -> list[dict]:
    """Aggregate dyadic signals into one fact per (pair, window, type, mode, launch point)."""
    df = signals[(signals["source"] != "") & (signals["target"] != "")]
    if df.empty:
        return []
    ref = (reference_date or dt.date.today()).isoformat()
    dates = df["date"].to_numpy(dtype=object, copy=True)
    dates[dates == ""] = ref
    # dates repeat a lot: each distinct date's window and day number is computed once
    date_index, distinct = pd.factorize(dates)
    days = [dt.date.fromisoformat(d) for d in distinct]
    spans = [window_of(day, granularity) for day in days]
    negated, hypothetical = df["negated"].to_numpy(dtype=bool), df["hypothetical"].to_numpy(dtype=bool)
    status = df["status"].to_numpy(dtype=object)
    work = pd.DataFrame({
        "source": df["source"].to_numpy(dtype=object), "target": df["target"].to_numpy(dtype=object),
        "_wstart": np.array([s.isoformat() for s, _ in spans], dtype=object)[date_index],
        "_wend": np.array([e.isoformat() for _, e in spans], dtype=object)[date_index],
        "signal": df["signal"].to_numpy(dtype=object),
        # a signal's mode: negated wins over hypothetical, which wins over planned; the rest is actual
        "_mode": np.where(negated, "negated", np.where(hypothetical, "hypothetical",
                                                       np.where(status == "planned", "planned", "actual"))),
        "location": df["location"].to_numpy(dtype=object), "status": status,
        "_day": np.array([day_number(d) for d in days], dtype=np.int64)[date_index],
        "intensity": df["intensity"].to_numpy(dtype=float), "confidence": df["confidence"].to_numpy(dtype=float),
    })
    work["_weight"] = work["intensity"] * work["confidence"]
    keys = ["source", "target", "_wstart", "_wend", "signal", "_mode", "location"]
    grouped = work.groupby(keys, sort=True)
    groups = grouped.agg(
        count=("intensity", "size"), intensity=("intensity", "max"), confidence=("confidence", "mean"),
        weight=("_weight", "sum"), first_day=("_day", "min"), last_day=("_day", "max"),
    )
    # each group's signal ids in input order: rows sorted (stably) by group number, then cut
    group_of_row = grouped.ngroup().to_numpy()
    ids = df["signal_id"].astype(str).to_numpy(dtype=object)[np.argsort(group_of_row, kind="stable")]
    bounds = np.concatenate([[0], np.cumsum(groups["count"].to_numpy())])
    groups["signal_ids"] = [";".join(ids[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    # the group's most frequent status, ties to the alphabetically first (as Series.mode does)
    status_names, status_of_row = np.unique(status.astype(str), return_inverse=True)
    tally = np.zeros((len(groups), len(status_names)), dtype=np.int64)
    np.add.at(tally, (group_of_row, status_of_row), 1)
    groups["status"] = status_names[tally.argmax(axis=1)].astype(object)
    groups = groups.reset_index()
    codes = set(groups["source"]) | set(groups["target"])
    country = {c: actors.country_of(c) or c for c in codes}
    unit = {c: actors.unit_of(c) for c in codes}
    patron = {c: actors.patron_of(c) for c in codes}
    end_day = {end.isoformat(): day_number(end) for _, end in spans}
    facts = []
    # plain lists: iterating pandas' Arrow-backed columns row by row is slow
    columns = [groups[c].tolist() for c in ["source", "target", "signal", "_mode", "status", "location", "count",
                                              "intensity", "confidence", "weight", "first_day", "last_day",
                                              "_wstart", "_wend", "signal_ids"]]
    for (source, target, signal, mode, status_, loc, count, intensity, confidence, weight, first_day, last_day,
         wstart, wend, ids) in zip(*columns, strict=True):
        src_country, tgt_country, src_patron = country[source], country[target], patron[source]
        facts.append({
            "source": source, "target": target, "source_unit": unit[source], "target_unit": unit[target],
            "source_country": src_country, "target_country": tgt_country, "source_patron": src_patron,
            "target_patron": patron[target], "source_is_proxy": bool(src_patron), "type": signal, "mode": mode,
            "negated": mode == "negated", "hypothetical": mode == "hypothetical", "status": status_,
            "location": loc,
            # launched from a state that is neither the target nor the attacker itself (a proxy
            # based in its host state counts: the host is exposed)
            "from_third_country": bool(loc) and loc != tgt_country and (loc != src_country or bool(src_patron)),
            "count": int(count), "intensity": float(intensity), "confidence": float(confidence),
            "weight": float(weight), "first_day": int(first_day), "last_day": int(last_day),
            "window_start": wstart, "window_end": wend, "window_end_day": end_day[wend],
            "signal_ids": ids, "id": len(facts),
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
    band_cap: str = ""


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


# the fields ``matches`` reads
MATCHED_FIELDS = ("type", "mode", "status", "negated", "hypothetical", "source_is_proxy", "location",
                  "from_third_country", "count", "intensity")


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
        hit = Hit(rule.id, source, target, last["window_start"], last["window_end"], points, ids, text + bands,
                  rule.then.band_floor or "", rule.then.band_cap or "")
        old = self.hits.get(key)
        if old is not None:
            # whatever the firing order: the largest contribution (ties: the first explanation in
            # sort order) and the signals of every firing behind this hit
            hit.signal_ids = ";".join(sorted(set(old.signal_ids.split(";")) | set(ids.split(";"))))
            if (abs(points), old.explanation) <= (abs(old.contribution), text):
                old.signal_ids = hit.signal_ids
                return
        self.hits[key] = hit


# A rule's action receives up to this many matches at once (durable-rules' "cap"): one Python call
# per rule, session and batch instead of one per match.
ACTION_BATCH = 1000
# Facts are asserted in blocks of windows that start within this many days of each other. Longer
# blocks mean fewer, larger action batches; facts older than the block minus the longest rule
# window are retracted before the block is asserted, so the working set stays bounded.
BLOCK_DAYS = 28


class RuleRun:
    """One isolated scoring run: its own host and uniquely named ruleset, deleted afterwards."""

    def __init__(self, rules: list[LoadedRule]):
        self.name = f"escalation_{next(_run_counter)}_{uuid.uuid4().hex[:8]}"
        self.recorder = HitRecorder()
        self.full: dict[int, dict] = {}
        self.errors: list[RuleActionError] = []
        self.acted: set[str] = set()  # sessions in which an action has run
        self.max_window = max([r.rule.when.within_days or 0 for r in rules] + [0])
        self.conditions = [c for r in rules for c in ([r.rule.when.signal] if r.rule.when.signal
                                                      else r.rule.when.sequence)]
        definition, self.actions = {}, {}
        for i, loaded in enumerate(rules):
            name = f"r{i}_{loaded.id.replace('-', '_')}"
            self.actions[name] = self._action(loaded.rule)
            definition[name] = dict(compile_rule(loaded.rule), cap=ACTION_BATCH, run=self.actions[name])
        self.host = _QuietHost()
        self.host.set_rulesets({self.name: definition})
        self.ruleset = self.host.get_ruleset(self.name)

    def _action(self, rule: Rule) -> Callable[[list[dict]], None]:
        """The action of one rule: it receives a batch of matches (the rule's ``cap``), each
        ``{"m": fact}`` or, for a sequence, ``{"f0": fact, "f1": fact, ...}``."""
        one_step = rule.when.signal is not None

        def run(matches: list[dict]) -> None:
            for found in matches:
                steps = [found["m"]] if one_step else [found[k] for k in sorted(found)]
                self.acted.add(steps[0]["sid"])
                facts = [self.full[step["id"]] for step in steps]
                try:
                    self.recorder.record(rule, facts)
                except Exception as exc:  # keep it: raised once the engine has finished the action
                    pair = f"{facts[-1].get('source')}->{facts[-1].get('target')}"
                    self.errors.append(RuleActionError(rule.id, pair, exc))
                    return
        return run

    def run(self, facts: list[dict]) -> list[Hit]:
        """Assert facts block by block of windows, run every action they trigger, then retract the
        facts that no rule window can reach from the next block.

        Only facts that satisfy some rule step's own terms are asserted (checked with durable-rules
        2.0.28: a fact that no rule matches makes the engine report the whole batch as unhandled).
        One batch spans many sessions: the engine queues each session's actions, and
        ``_run_pending_actions`` runs them until none is left."""
        blocks: dict[int, list[dict]] = {}
        block_start: dict[int, int] = {}  # the first window day of each block
        window_days: dict[str, int] = {}
        wanted: dict[tuple, bool] = {}  # many facts look alike to the conditions: test each look once
        for k, fact in enumerate(facts):
            look = tuple(fact[key] for key in MATCHED_FIELDS)
            if look not in wanted:
                wanted[look] = any(matches(cond, fact) for cond in self.conditions)
            if not wanted[look]:
                continue
            if "id" not in fact:
                fact = dict(fact, id=k)
            self.full[fact["id"]] = fact
            # the engine gets only what conditions read; actions look the full fact up by id
            slim = {key: fact[key] for key in CONDITION_FIELDS}
            slim["sid"] = session_of(fact)
            wstart = fact["window_start"]
            if wstart not in window_days:
                window_days[wstart] = day_number(dt.date.fromisoformat(wstart))
            block = window_days[wstart] // BLOCK_DAYS
            blocks.setdefault(block, []).append(slim)
            block_start[block] = min(window_days[wstart], block_start.get(block, window_days[wstart]))
        live: list[dict] = []
        try:
            for block in sorted(blocks):
                batch = blocks[block]
                horizon = block_start[block] - self.max_window
                expired = [f for f in live if f["last_day"] < horizon]
                if expired:
                    self.ruleset.retract_facts(expired)
                    live = [f for f in live if f["last_day"] >= horizon]
                self.ruleset.assert_facts(batch)
                self._run_pending_actions()
                if self.errors:
                    raise self.errors[0]
                live.extend(batch)
        finally:
            self.close()
        return list(self.recorder.hits.values())

    def _run_pending_actions(self) -> None:
        """Run the actions the engine has queued, session after session, until none is left.

        This is the loop of durable-rules' own ``Ruleset.dispatch``/``_flush_actions`` on the same
        engine calls (``start_action``, ``complete_and_start_action``), without what a synchronous
        run of stateless actions does not use: per-action ``Closure`` objects, lease timers and
        writing the session state back after each action. That wrapper was a third of the cost."""
        handle = self.ruleset._handle
        started = durable_rules_engine.start_action(handle)
        while started:
            _, messages, state_offset = started
            while messages:
                for name, batch in json.loads(messages).items():  # every rule has a cap: always a list
                    self.actions[name](batch)
                messages = durable_rules_engine.complete_and_start_action(handle, state_offset)
            started = durable_rules_engine.start_action(handle)

    def close(self) -> None:
        """Free the run's sessions and delete its ruleset. durable-rules 2.0.28 frees a session's
        memory only in ``delete_state``, not in ``delete_ruleset`` (without this, every run leaks
        about 0.25 MB per pair). ``delete_state`` crashes the process on a session whose actions are
        still queued, and on one in which no action has ever run (its action context is never
        initialised): so queued actions are run first, only sessions that ran an action are
        deleted (the few others stay allocated), and nothing is deleted if running them fails."""
        ruleset = self.host._ruleset_directory.pop(self.name, None)
        if ruleset is None:
            return
        try:
            self._run_pending_actions()
        except Exception:  # noqa: BLE001 - already failing: keep the first error, skip the cleanup
            pass
        else:
            for sid in self.acted:
                ruleset.delete_state(sid)
        durable_rules_engine.delete_ruleset(ruleset._handle)


PAIRS_PER_RULESET = 150


def run_rules(rules: list[LoadedRule], facts: list[dict]) -> list[Hit]:
    """Run the rules on facts. Sessions are independent, so they are spread over fresh rulesets of
    at most PAIRS_PER_RULESET sessions each: durable-rules' C engine has fixed-size tables and fails
    with MemoryError past about a thousand sessions in one ruleset (1,000 pass, 1,109 fail)."""
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
    """The validated rule-hits table."""
    if not hits:
        return empty_frame(RuleHitsTable)
    rows = [{"run_id": run_id, "source": h.source, "target": h.target, "window_start": h.window_start,
             "window_end": h.window_end, "rule_id": h.rule_id, "contribution": h.contribution,
             "signal_ids": h.signal_ids, "explanation": h.explanation, "band_floor": h.band_floor,
             "band_cap": h.band_cap} for h in hits]
    df = pd.DataFrame(rows).sort_values(["source", "target", "window_start", "rule_id"]).reset_index(drop=True)
    return validate(RuleHitsTable, df, "rule_hits")
