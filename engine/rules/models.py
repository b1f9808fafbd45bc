"""Rule files: pydantic models, loading with line numbers, and `rules check`.

A rule file is ``{rules: [rule, ...]}``. A rule::

    id: mobilise-then-threaten          # kebab-case, unique across files
    description: ...
    when:
      signal: {type: [THREATEN], negated: false}        # one signal group, or
                                                        # (also: source, target, source_kind, target_kind,
                                                        # min_confidence, reported_by, min_count, ...)
      sequence:                                         # two or more, correlated on the pair
        - {type: MOBILIZE}
        - {type: [THREATEN, ATTACK], direction: same}   # same | reverse (B->A)
      within_days: 14
    then:
      add: 20                                           # points (negative dampens)
      scale_by: [intensity, confidence, recency, volume]
      for_pair: {source: target, target: location}      # optional derived pair
      band_floor: ELEVATED                              # optional: the pair's band is at least this
      band_cap: HIGH                                    # optional: ... and at most this (a floor wins)
    status: stable                                      # or experimental (carried into rule_hits)
    examples:
      fires: [{signals: [{source: IRN, target: ISR, type: MOBILIZE, day: 0}, ...]}]
      quiet: [...]
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from engine.errors import did_you_mean
from engine.problems import Problem, line_for, read_yaml
from engine.schemas import BANDS, SIGNAL_TYPES, Band
from engine.yamlio import line_of

MODES = ["actual", "planned", "hypothetical", "negated"]
STATUSES = ["past", "ongoing", "planned", "unknown"]
Scale = Literal["intensity", "confidence", "recency", "volume"]
SCALES = list(get_args(Scale))
PairField = Literal["source", "target", "location", "source_patron", "target_patron"]
PAIR_FIELDS = list(get_args(PairField))
ID_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
CODE_RE = re.compile(r"^[A-Z][A-Z0-9]{1,15}$")  # an actor code (IRN, IRNMIL, IGOUNO, ISIL)
# the kind of a signal's *unit* (ActorDictionary.unit_of: a state organ counts as its state)
UnitKind = Literal["state", "armed_group", "international", "unknown"]
UNIT_KINDS = list(get_args(UnitKind))
# who reported a signal: none (stated as fact), source / target (one of the pair's own units said
# so), third-party (another named actor), unnamed ("reportedly", "officials said"), any (anyone),
# or an actor code
REPORTERS = ["none", "any", "source", "target", "third-party", "unnamed"]
RuleStatus = Literal["stable", "experimental"]
RULE_STATUSES = list(get_args(RuleStatus))


def _check_codes(values, what: str, extra: list[str] = ()):
    """Actor codes (or one of ``extra``), as a list; raise on anything else, suggesting the closest."""
    values = [values] if isinstance(values, str) else values
    for v in values or []:
        if not isinstance(v, str) or not (v in extra or CODE_RE.match(v)):
            hint = did_you_mean(v, extra) if extra else ""
            if not hint and isinstance(v, str) and CODE_RE.match(v.upper()):
                hint = f" (did you mean {v.upper()!r}?)"
            raise ValueError(f"unknown {what} {v!r}" + (hint or (f" (one of {', '.join(extra)}, or an actor code "
                                                                 "such as IRN)" if extra else
                                                                 " (an actor code such as IRN or IRNMIL)")))
    return values


def _check_choices(values, allowed: list[str], what: str):
    """Raise on the first value not in ``allowed``, suggesting the closest one."""
    for v in [values] if isinstance(values, str) else values or []:
        if v not in allowed:
            raise ValueError(f"unknown {what} {v!r}" + (did_you_mean(v, allowed) or f" (one of {', '.join(allowed)})"))
    return values


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignalCondition(Strict):
    """Conditions on one signal group (all signals of one type and mode for a pair and window)."""

    type: list[str] | str | None = Field(None, description="signal type(s)")
    mode: list[str] | str | None = Field(None, description="actual, planned, hypothetical, negated")
    negated: bool | None = None
    hypothetical: bool | None = None
    status: list[str] | str | None = None
    location: Literal["any", "none", "third-country"] | str | None = Field(
        None, description="'any' (a launch point is known), 'none', 'third-country' (neither source nor target), or a code")
    source_is_proxy: bool | None = Field(None, description="the source has a patron (proxy_of)")
    source: list[str] | str | None = Field(
        None, description="the source's code(s): a code matches the actor itself and, for a state, its organs "
                          "(IRN matches IRN and IRNMIL; IRNMIL only IRNMIL)")
    target: list[str] | str | None = Field(None, description="the target's code(s), as for source")
    source_kind: list[UnitKind] | UnitKind | None = Field(
        None, description="kind of the source's unit: state (organs count as their state), armed_group, "
                          "international, unknown")
    target_kind: list[UnitKind] | UnitKind | None = Field(None, description="kind of the target's unit")
    min_count: int | None = Field(
        None, ge=1, description="at least this many signals of the pair in the window that meet the other "
                                "conditions, counted across every type, mode and launch point listed")
    min_intensity: float | None = Field(None, ge=0, le=1)
    min_confidence: float | None = Field(None, ge=0, le=1, description="the group's mean confidence")
    reported_by: list[str] | str | None = Field(
        None, description="who reported at least one signal of the group: none, any, source, target, "
                          "third-party, unnamed, or an actor code")
    direction: Literal["same", "reverse"] = Field("same", description="in a sequence: relative to the first step")

    @field_validator("type", "mode", "status")
    @classmethod
    def _as_list(cls, value):
        return [value] if isinstance(value, str) else value

    @field_validator("source_kind", "target_kind", mode="before")
    @classmethod
    def _kinds(cls, value):
        value = [value] if isinstance(value, str) else value
        return _check_choices(value, UNIT_KINDS, "unit kind") if isinstance(value, list) else value

    @field_validator("source", "target")
    @classmethod
    def _codes(cls, value):
        return _check_codes(value, "actor code")

    @field_validator("reported_by")
    @classmethod
    def _reporters(cls, value):
        return _check_codes(value, "reporter", REPORTERS)

    @field_validator("type")
    @classmethod
    def _types(cls, value):
        return _check_choices(value, SIGNAL_TYPES, "signal type")

    @field_validator("mode")
    @classmethod
    def _modes(cls, value):
        return _check_choices(value, MODES, "mode")

    @field_validator("status")
    @classmethod
    def _statuses(cls, value):
        return _check_choices(value, STATUSES, "status")


class When(Strict):
    signal: SignalCondition | None = None
    sequence: list[SignalCondition] | None = Field(None, min_length=2, max_length=4)
    within_days: int | None = Field(None, description="time window of a sequence, in days")

    @field_validator("within_days")
    @classmethod
    def _window(cls, value):
        if value is not None and not 1 <= value <= 365:
            raise ValueError(f"within_days must be between 1 and 365, got {value}")
        return value

    @model_validator(mode="after")
    def _one_kind(self):
        if (self.signal is None) == (self.sequence is None):
            raise ValueError("give exactly one of 'signal' or 'sequence'")
        if self.sequence is not None:
            if self.within_days is None:
                raise ValueError("a sequence needs 'within_days'")
        elif self.within_days is not None:
            raise ValueError("'within_days' only applies to a sequence")
        return self


class ForPair(Strict):
    source: PairField = "source"
    target: PairField = "target"

    @field_validator("source", "target", mode="before")
    @classmethod
    def _field(cls, value):
        return _check_choices(value, PAIR_FIELDS, "pair field") if isinstance(value, str) else value


class Then(Strict):
    add: float = Field(..., ge=-100, le=100, description="points added to the pair (negative dampens)")
    scale_by: list[Scale] = Field(default_factory=list)
    for_pair: ForPair | None = Field(None, description="credit a derived pair instead of the signal's own")
    share: float = Field(1.0, ge=0, le=1, description="fraction of the points given (e.g. proxy roll-up)")
    half_life_days: float = Field(14.0, gt=0, le=365)
    band_floor: Band | None = Field(
        None, description="the pair's band in the window is at least this, whatever its score")
    band_cap: Band | None = Field(
        None, description="the pair's band in the window is at most this (a floor from any rule wins)")

    @field_validator("scale_by", mode="before")
    @classmethod
    def _scales(cls, value):
        return _check_choices(value, SCALES, "scale") if isinstance(value, list | str) else value

    @field_validator("band_floor", "band_cap", mode="before")
    @classmethod
    def _band(cls, value):
        return value if value is None else _check_choices(value, BANDS, "band")

    @model_validator(mode="after")
    def _floor_not_above_cap(self):
        if self.band_floor and self.band_cap and BANDS.index(self.band_floor) > BANDS.index(self.band_cap):
            raise ValueError(f"band_floor {self.band_floor} is above band_cap {self.band_cap}")
        return self


class ExampleSignal(Strict):
    source: str
    target: str
    type: str
    # bounded so that an example cannot overflow dates or make `rules test` build millions of signals
    day: int = Field(0, ge=-36_500, le=36_500, description="days after the example's first day")
    negated: bool = False
    hypothetical: bool = False
    status: str = "past"
    location: str = ""
    intensity: float = Field(0.8, ge=0, le=1)
    confidence: float = Field(0.9, ge=0, le=1)
    reported_by: str = Field("", description="speaker's actor code(s) joined by ';', or words such as "
                                             "'reportedly'; empty: stated as fact")
    count: int = Field(1, ge=1, le=10_000)

    @field_validator("type")
    @classmethod
    def _type(cls, value):
        return _check_choices(value, SIGNAL_TYPES, "signal type")


class Example(Strict):
    signals: list[ExampleSignal] = Field(..., min_length=1)
    pair: tuple[str, str] | None = Field(None, description="the pair the rule must credit (default: first signal's)")
    points: float | None = Field(None, description="in a 'fires' example: the points the rule must credit to the "
                                 "pair (its hits summed, to 0.01)")


class Examples(Strict):
    fires: list[Example] = Field(..., min_length=1)
    quiet: list[Example] = Field(..., min_length=1)

    @field_validator("quiet")
    @classmethod
    def _points_only_when_firing(cls, value):
        if any(example.points is not None for example in value):
            raise ValueError("'points' only applies to a 'fires' example")
        return value


class Rule(Strict):
    id: str
    description: str = Field(..., min_length=5)
    when: When
    then: Then
    status: RuleStatus = Field(
        "stable", description="experimental: being tried out (its hits say so in rule_hits.rule_status)")
    examples: Examples

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, value):
        return _check_choices(value, RULE_STATUSES, "rule status") if isinstance(value, str) else value

    @field_validator("id")
    @classmethod
    def _kebab(cls, value):
        if not ID_RE.match(value):
            raise ValueError(f"rule id {value!r} must be kebab-case (lower-case words joined by '-')")
        return value


class RuleFile(Strict):
    rules: list[Rule]


# --------------------------------------------------------------------------- loading and checks
class LoadedRule:
    """A validated rule with where it came from."""

    def __init__(self, rule: Rule, file: Path, line: int, raw=None):
        self.rule = rule
        self.file = file
        self.line = line
        self.raw = raw  # the rule as loaded from YAML (with line numbers), for located checks

    @property
    def id(self) -> str:
        return self.rule.id


def _message(err: dict) -> str:
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        field = err["loc"][-1]
        return f"unknown field {field!r}{did_you_mean(field, _allowed_fields(err['loc']))}"
    where = ".".join(str(p) for p in err["loc"])
    return f"{where}: {msg}" if where else msg


def _allowed_fields(loc: tuple) -> list[str]:
    names = [str(p) for p in loc if isinstance(p, str)]
    parent = names[-2] if len(names) >= 2 else "rule"
    model = {"when": When, "then": Then, "signal": SignalCondition, "sequence": SignalCondition,
             "examples": Examples, "for_pair": ForPair, "signals": ExampleSignal, "fires": Example,
             "quiet": Example}.get(parent, Rule)
    return list(model.model_fields)


def rule_files(path: str | Path) -> list[Path]:
    path = Path(path)
    if path.is_file():
        return [path]
    scoring = path / "scoring" if (path / "scoring").is_dir() else path
    return sorted(scoring.glob("*.yaml"))


def check_rules(path: str | Path) -> tuple[list[LoadedRule], list[Problem]]:
    """Validate every rule file under ``path``; return the good rules and ``FILE:LINE: id: message`` problems."""
    problems: list[Problem] = []
    loaded: list[LoadedRule] = []
    seen: dict[str, str] = {}
    files = rule_files(path)
    if not files:
        problems.append(Problem(path, 1, "-", f"no rule files found (expected *.yaml under {path}/scoring/)"))
    for file in files:
        raw, unreadable = read_yaml(file)
        if unreadable:
            problems += unreadable
            continue
        if not isinstance(raw, dict) or not isinstance(raw.get("rules"), list):
            problems.append(Problem(file, 1, "-", "a rule file is a mapping with a 'rules' list"))
            continue
        for i, entry in enumerate(raw["rules"]):
            line = line_of(raw["rules"], i)
            rid = str(entry.get("id", f"rule#{i + 1}")) if isinstance(entry, dict) else f"rule#{i + 1}"
            try:
                rule = Rule.model_validate(entry)
            except ValidationError as exc:
                for err in exc.errors():
                    problems.append(Problem(file, line_for(entry, err["loc"]), rid, _message(err)))
                continue
            if rule.id in seen:
                problems.append(Problem(file, line_of(entry, "id", line), rule.id, f"duplicate rule id (first at {seen[rule.id]})"))
                continue
            seen[rule.id] = f"{file}:{line}"
            loaded.append(LoadedRule(rule, file, line, entry))
    return loaded, problems


def check_rule_codes(rules: list[LoadedRule], codes: set[str] | dict) -> list[Problem]:
    """Actor codes in ``source``, ``target`` and ``reported_by`` conditions that the actor dictionary
    does not know, at their FILE:LINE, with the closest known code."""
    problems: list[Problem] = []
    for loaded in rules:
        when = loaded.rule.when
        steps = [("signal", when.signal)] if when.signal else [(("sequence", i), c) for i, c in enumerate(when.sequence)]
        for where, cond in steps:
            for field in ("source", "target", "reported_by"):
                for value in getattr(cond, field) or []:
                    if value in REPORTERS or value in codes:
                        continue
                    loc = ("when", *(where if isinstance(where, tuple) else (where,)), field)
                    line = line_for(loaded.raw, loc) if loaded.raw is not None else loaded.line
                    problems.append(Problem(loaded.file, line, loaded.id,
                                            f"{'.'.join(map(str, loc))}: unknown actor code {value!r}"
                                            + (did_you_mean(value, [c for c in codes if len(c) == len(value)])
                                               or did_you_mean(value, codes) or " (not in the actor dictionary)")))
    return problems


def load_rules(path: str | Path) -> list[LoadedRule]:
    """Load and validate all rules under ``path``; raise RuleFileError listing every problem."""
    from engine.errors import RuleFileError

    rules, problems = check_rules(path)
    if problems:
        raise RuleFileError(problems)
    return rules


def json_schema() -> dict:
    """JSON Schema of a rule file, generated from the same models that validate it."""
    schema = RuleFile.model_json_schema()
    schema["title"] = "Escalation engine rule file"
    return schema
