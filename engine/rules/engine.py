"""The durable-rules driver: runs compiled rules on facts. The only module touching durable-rules.

The stages around it: ``facts`` (signals -> signal-group facts), ``compile`` (rules -> durable-rules
JSON terms), ``hits`` (firings -> points and the rule-hits table); their names are re-exported here.

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
  group, with a count and a volume factor capped at ``log2(1 + count) <= 3``), and a rule credits a
  pair at most once per window (the largest contribution is kept);
- ``retract_facts`` corrupts the engine's memory: a later ``assert_facts`` crashed the process
  (SIGSEGV in ``reduceExpressionSequence``, evaluating a sequence's join) in about 1 run in 8 of
  tests/test_backtest.py, never with retraction left out (0 in 40). Facts are never retracted: a
  ruleset keeps the facts of its pairs (at most PAIRS_PER_RULESET) for the whole run, which costs
  the same time and memory as retracting them did on ICEWS18 (day and week windows) and ICEWS 2005-15
  (week and month), with the same hits;
- one Python call per firing is what costs most: each rule gets its matches in batches (the rule's
  ``cap``), and facts are asserted a block of windows at a time, for all sessions in one call.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import uuid
from collections.abc import Callable

import durable_rules_engine
from durable.engine import Host

from engine.errors import RuleActionError
from engine.rules.compile import (
    CONDITION_FIELDS,
    MATCHED_FIELDS,
    annotate_counts,
    compile_condition,
    compile_rule,
    condition_fields,
    matched_fields,
    matches,
)
from engine.rules.facts import day_number, session_of, signal_groups
from engine.rules.hits import Hit, HitRecorder, contribution_of, hits_table
from engine.rules.models import LoadedRule, Rule
from engine.windows import window_of

_run_counter = itertools.count()

__all__ = ["ACTION_BATCH", "BLOCK_DAYS", "CONDITION_FIELDS", "MATCHED_FIELDS", "PAIRS_PER_RULESET", "Hit",
           "HitRecorder", "RuleRun", "annotate_counts", "compile_condition", "compile_rule", "contribution_of", "day_number",
           "hits_table", "matches", "run_rules", "session_of", "signal_groups", "window_of"]


class _QuietHost(Host):
    """durable-rules Host without its background dispatch threads (we drive it synchronously)."""

    def _run(self):
        pass


# A rule's action receives up to this many matches at once (durable-rules' "cap"): one Python call
# per rule, session and batch instead of one per match.
ACTION_BATCH = 1000
# Facts are asserted in blocks of windows that start within this many days of each other. Longer
# blocks mean fewer, larger action batches.
BLOCK_DAYS = 28


class RuleRun:
    """One isolated scoring run: its own host and uniquely named ruleset, deleted afterwards."""

    def __init__(self, rules: list[LoadedRule]):
        self.name = f"escalation_{next(_run_counter)}_{uuid.uuid4().hex[:8]}"
        self.recorder = HitRecorder()
        self.full: dict[int, dict] = {}
        self.errors: list[RuleActionError] = []
        self.acted: set[str] = set()  # sessions in which an action has run
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
        """Assert facts block by block of windows and run every action they trigger (facts are never
        retracted: see the module's docstring).

        Only facts that satisfy some rule step's own terms are asserted (checked with durable-rules
        2.0.28: a fact that no rule matches makes the engine report the whole batch as unhandled).
        One batch spans many sessions: the engine queues each session's actions, and
        ``_run_pending_actions`` runs them until none is left."""
        blocks: dict[int, list[dict]] = {}
        window_days: dict[str, int] = {}
        wanted: dict[tuple, bool] = {}  # many facts look alike to the conditions: test each look once
        count_keys = annotate_counts(self.conditions, facts)  # min_count: totals across groups
        fields = condition_fields(self.conditions) + tuple(count_keys)
        looks = matched_fields(self.conditions) + tuple(count_keys)
        for k, fact in enumerate(facts):
            look = tuple(tuple(v) if isinstance(v := fact[key], list) else v for key in looks)
            if look not in wanted:
                wanted[look] = any(matches(cond, fact) for cond in self.conditions)
            if not wanted[look]:
                continue
            if "id" not in fact:
                fact = dict(fact, id=k)
            self.full[fact["id"]] = fact
            # the engine gets only what conditions read; actions look the full fact up by id
            slim = {key: fact[key] for key in fields}
            slim["sid"] = session_of(fact)
            wstart = fact["window_start"]
            if wstart not in window_days:
                window_days[wstart] = day_number(dt.date.fromisoformat(wstart))
            block = window_days[wstart] // BLOCK_DAYS
            blocks.setdefault(block, []).append(slim)
        try:
            for block in sorted(blocks):
                self.ruleset.assert_facts(blocks[block])
                self._run_pending_actions()
                if self.errors:
                    raise self.errors[0]
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
