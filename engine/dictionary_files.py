"""The analysts' dictionary files as pydantic models: ``rules/actors.yaml``, ``rules/signals.yaml`` and
the generated files they include (``rules/generated/``), in the style of the scoring rules
(``engine/rules/models.py``) and of ``bands.yaml`` and ``cameo_mapping.yaml`` (``engine/formula.py``,
``engine/config.py``).

Every model forbids keys it does not list, so a misspelt key (``confidense:``, ``demonym:``,
``negation:``) is a ``FILE:LINE: id: unknown ... (did you mean ...?)`` problem instead of a silently
ignored section. To allow a new key, add one field to its model: a context word list to
``ContextWords``, a confidence factor to ``ConfidenceFactors``, a field of an actor to ``ActorEntry``,
of a trigger to ``TriggerEntry``.

These models check each entry on its own; what needs the whole dictionary (duplicate codes and ids,
parents and patrons that exist, a name two actors claim, Matcher patterns, the files under
``include:``, the lemmas analysts claim from generated triggers) is checked in
``engine/nlp/lexicon.py``, which reports both kinds of problem the same way (``engine.problems.Problem``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from engine.errors import did_you_mean
from engine.problems import Problem, line_for
from engine.schemas import SIGNAL_TYPES

CODE_RE = re.compile(r"^[A-Z]{3}[A-Z]*$|^---[A-Z]*$")  # IRN, IRNMIL, IGOUNO, ---REB


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------- values
def _word(value):
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a word; quote it (YAML reads on/off/yes/no as booleans)")
    return value


def _path(value):
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a file path")
    return value


def _scalar(value):
    """A code, id or name written without quotes (a number, a date) is read as its text."""
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def _list_or_none(message: str):
    """A check that a section is a list (or left empty), with ``message`` when it is not."""

    def check(value):
        if value is not None and not isinstance(value, list):
            raise ValueError(message)
        return value

    return check


def _a_list(value, name: str, of: str = "words", example: str = "word"):
    if value is not None and not isinstance(value, list):
        shown = value if isinstance(value, str) else example
        raise ValueError(f"{name} must be a list of {of} in quotes or brackets, e.g. {name}: [{shown}] "
                         f"(got {type(value).__name__})")
    return value


Word = Annotated[str, BeforeValidator(_word)]
Words = list[Word]  # lemmas or words in lower case, e.g. [not, never, "n't"]
Text = Annotated[str, BeforeValidator(_scalar)]
Includes = Annotated[list[Annotated[str, BeforeValidator(_path)]] | None,
                     BeforeValidator(_list_or_none("include must be a list of file paths"))]


# --------------------------------------------------------------------------- actors.yaml
class ActorEntry(Strict):
    """One actor: ``{code: IRNMIL, name: ..., parent: IRN, names: [...], ...}`` (rules/actors.yaml
    explains each field)."""

    code: Text
    name: Text | None = None
    country: Text | None = None  # the ISO-3 code it rolls up to; default: the parent's country, or itself
    parent: Text | None = None  # the actor it belongs to (IRNMIL -> IRN)
    proxy_of: Text | None = None  # the patron whose pair risk its signals raise
    names: list[str] | None = None  # names, aliases, metonyms
    demonyms: list[str] | None = None  # adjectives and nationality nouns
    people: list[str] | None = None  # office holders: the full name and the surname resolve to it
    places: list[str] | None = None  # cities and regions: territory, never an actor

    @model_validator(mode="before")
    @classmethod
    def _has_code(cls, data):
        if not isinstance(data, dict) or "code" not in data:
            raise ValueError("actor entry needs a 'code'")
        return data

    @field_validator("code")
    @classmethod
    def _code(cls, value):
        if not CODE_RE.match(value):
            raise ValueError("code must be capital letters (ISO-3 country + role)")
        return value

    @field_validator("country")
    @classmethod
    def _country(cls, value):
        if value and not CODE_RE.match(value):
            raise ValueError("country must be a code")
        return value

    @field_validator("names", "demonyms", "people", "places", mode="before")
    @classmethod
    def _names(cls, value, info):
        if value is not None and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            name = info.field_name
            raise ValueError(f"{name} must be a list of names in quotes or brackets, e.g. {name}: "
                             f"[{value if isinstance(value, str) else 'Name'}] (got {type(value).__name__})")
        return value


Actors = Annotated[list[ActorEntry] | None, BeforeValidator(_list_or_none("'actors' must be a list"))]


class ActorsFile(Strict):
    """rules/actors.yaml."""

    include: Includes = None  # generated actor files, relative to this one
    roles: dict[str, Words] | None = None  # role code -> nouns that make a country-role actor
    ignore: Words | None = None  # names the NER finds that are no actors (news outlets)
    actors: Actors = None

    @field_validator("ignore", mode="before")
    @classmethod
    def _ignore(cls, value):
        return _a_list(value, "ignore", "names", "Name")


class IncludedActors(Strict):
    """A generated actor file (rules/generated/phoenix_actors.yaml): actors only."""

    actors: Actors = None


# --------------------------------------------------------------------------- signals.yaml
class SignalTypeEntry(Strict):
    """One signal type: its CAMEO root, PLOVER name, default intensity and description."""

    cameo: Text
    plover: str | None = None
    intensity: float = Field(0.5, ge=0, le=1)
    description: str | None = None


# one optional field per signal type of engine/schemas.py: an unknown type is an unknown key
SignalTypes = create_model("SignalTypes", __base__=Strict,
                           **{name: (SignalTypeEntry | None, None) for name in SIGNAL_TYPES})


def _confidence(value):
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if not 0 < number <= 1:
        raise ValueError("confidence must be in (0, 1]")
    return number


class TriggerEntry(Strict):
    """One trigger: a spaCy Matcher pattern whose match is a signal of one type."""

    id: Text
    signal: str  # a type of signal_types
    cameo: Text | None = None  # default: the signal type's
    confidence: Annotated[float, BeforeValidator(_confidence)] = 0.8
    intensity: float | None = Field(None, ge=0, le=1)  # default: the signal type's
    pattern: list

    @model_validator(mode="before")
    @classmethod
    def _mapping(cls, data):
        if not isinstance(data, dict):
            raise ValueError("a trigger is a mapping with id, signal, pattern")
        return data


class ContextWords(Strict):
    """The words that set a signal's flags (rules/signals.yaml ``context:`` says what each does), all
    matched on lemmas in lower case. One field per key: to add a word list, add a line here."""

    negations: Words | None = None
    negating_heads: Words | None = None
    hypothetical_modals: Words | None = None
    condition_marks: Words | None = None
    hypothetical_heads: Words | None = None
    hypothetical_modifiers: Words | None = None
    planned_heads: Words | None = None
    planned_modifiers: Words | None = None
    future_auxiliaries: Words | None = None
    ongoing_words: Words | None = None
    past_modifiers: Words | None = None
    reporting_verbs: Words | None = None
    reported_adverbs: Words | None = None
    target_prepositions: dict[str, Words] | None = None  # per signal type (DEFAULT: the others)
    object_control_verbs: Words | None = None
    location_prepositions: Words | None = None
    territory_nouns: Words | None = None
    event_carrier_verbs: Words | None = None
    response_verbs: Words | None = None
    failure_verbs: Words | None = None
    violation_verbs: Words | None = None
    target_subject_lemmas: Words | None = None
    needs_party_lemmas: Words | None = None
    reciprocal_lemmas: Words | None = None
    figurative_modifiers: Words | None = None
    threat_verbs: Words | None = None
    agreement_nouns: Words | None = None
    event_named_things: Words | None = None
    descriptive_verbs: Words | None = None
    endangered_things: Words | None = None
    interception_verbs: Words | None = None
    intercepted_weapons: Words | None = None
    lemma_corrections: dict[str, str] | None = None  # word form -> lemma, where the small model errs

    @field_validator("*", mode="before")
    @classmethod
    def _lists(cls, value, info):
        if info.field_name == "lemma_corrections":
            if value is not None and not (isinstance(value, dict) and all(
                    isinstance(k, str) and isinstance(v, str) for k, v in value.items())):
                raise ValueError("lemma_corrections must map a word form to its lemma, e.g. "
                                 "lemma_corrections: {staged: stage}")
            return value
        if info.field_name == "target_prepositions":
            if value is not None and not isinstance(value, dict):
                raise ValueError("target_prepositions must map a signal type to a list of words, e.g. "
                                 "target_prepositions: {ATTACK: [on, against]}")
            return value
        return _a_list(value, info.field_name)


Factor = Annotated[float, Field(gt=0, le=1)]


class ConfidenceFactors(Strict):
    """How sure a signal is: its trigger's confidence times these factors, each in (0, 1]."""

    no_source: Factor | None = None  # no source actor found
    no_target: Factor | None = None  # no target actor found
    reported: Factor | None = None  # reported speech
    via_anaphora: Factor | None = None  # an actor found through a pronoun or description
    nearest_actor: Factor | None = None  # an actor guessed as the nearest one


Triggers = Annotated[list[TriggerEntry] | None, BeforeValidator(_list_or_none("'triggers' must be a list"))]


Share = Annotated[float, Field(gt=0, lt=1)]


class FigurativeCopy(Strict):
    """Sport, business and culture copy that borrows war words: a document of at least ``min_words`` words
    where ``words`` make up at least ``min_share`` of them, and ``conflict_words`` are fewer than
    ``max_conflict_ratio`` times as many, yields no signal (``engine/nlp/gate.py``)."""

    min_words: Annotated[int, Field(ge=1)] = 150
    min_share: Share
    max_conflict_ratio: Annotated[float, Field(ge=0)]
    words: Words
    conflict_words: Words

    @field_validator("words", "conflict_words", mode="before")
    @classmethod
    def _lists(cls, value, info):
        return _a_list(value, info.field_name)


class SignalsFile(Strict):
    """rules/signals.yaml."""

    signal_types: SignalTypes | None = None
    include: Includes = None  # generated trigger files, relative to this one
    # lemmas or ids of generated triggers to leave out
    disable_generated: Annotated[list[Text] | None, BeforeValidator(_list_or_none(
        "disable_generated must be a list of lemmas or generated trigger ids"))] = None
    triggers: Triggers = None
    context: ContextWords | None = None
    confidence: ConfidenceFactors | None = None
    figurative_copy: FigurativeCopy | None = None


class IncludedTriggers(Strict):
    """A generated trigger file (rules/generated/cameo_triggers.yaml): triggers only."""

    triggers: Triggers = None


# --------------------------------------------------------------------------- located problems
# What a key is called in a message, by the section it is in
UNKNOWN = {"context": "context key", "confidence": "confidence factor", "signal_types": "signal type"}
ENTRY_LISTS = ("actors", "triggers")  # sections whose entries are named by their code or id


def fields_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """The keys allowed where ``loc`` (a pydantic error location) points: the fields of the model
    that holds its last part."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(current, type) and issubclass(current, BaseModel) and part in current.model_fields:
            current = _model_in(current.model_fields[part].annotation)
    return list(current.model_fields) if isinstance(current, type) and issubclass(current, BaseModel) else []


def _model_in(annotation) -> type[BaseModel] | None:
    """The pydantic model a field's type holds (``list[ActorEntry] | None`` -> ActorEntry)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _entry_name(raw, loc: tuple) -> str:
    """The code or id of the actor or trigger entry at ``loc`` ("-" if it has none)."""
    try:
        entry = raw[loc[0]][loc[1]]
    except (KeyError, IndexError, TypeError):
        return "-"
    if isinstance(entry, dict):
        return str(entry.get("code", entry.get("id", "-")))
    return "-"


def validate_file(model: type[BaseModel], raw: dict, path: str | Path,
                  unknown_top: Callable[[str, list[str]], str] | None = None) -> tuple[list[Problem], set[tuple]]:
    """Validate one loaded dictionary file (``raw``, with line numbers) against ``model``; return its
    problems, each at the line of the key or value it is about, and what the model refused in the
    actor and trigger entries: ``(section, index)`` for a whole entry (no code, not a mapping) and
    ``(section, index, field)`` for one field (an unknown key is reported, not refused).

    Problems are named like the hand-written checks that came before: an actor by its code, a trigger
    by its id, a context list or a top-level key by its key; an unknown key gets the closest allowed
    one. ``unknown_top(key, allowed)`` words an unknown top-level key (default: "unknown top-level
    key")."""
    try:
        model.model_validate(raw)
        return [], set()
    except ValidationError as exc:
        errors = exc.errors()
    problems: list[Problem] = []
    refused: set[tuple] = set()
    for err in errors:
        loc = tuple(err["loc"])
        line = line_for(raw, loc)
        entry = len(loc) >= 2 and loc[0] in ENTRY_LISTS and isinstance(loc[1], int)
        if entry:
            ident, inner = _entry_name(raw, loc), loc[2:]
            if err["type"] != "extra_forbidden":
                refused.add(loc[:3])
        elif len(loc) >= 2 and loc[0] in UNKNOWN:
            ident, inner = str(loc[1]), loc[2:]
        else:
            ident, inner = (str(loc[0]) if loc else "-"), loc[1:]
        if err["type"] == "extra_forbidden":
            key = str(loc[-1])
            allowed = fields_at(model, loc)
            if len(loc) == 1:
                message = (unknown_top or _unknown_top)(key, allowed)
            elif not entry and len(loc) == 2 and loc[0] in UNKNOWN:
                message = f"unknown {UNKNOWN[loc[0]]}{did_you_mean(key, allowed)}"
            else:
                message = f"unknown field {key!r}{did_you_mean(key, allowed)}"
        elif err["type"] == "value_error":  # our own validators: the message names what it is about
            message = err["msg"].removeprefix("Value error, ")
        else:
            where = ".".join(str(p) for p in inner)
            message = f"{where}: {err['msg']}" if where else err["msg"]
        problems.append(Problem(path, line, ident, message))
    return problems, refused


def _unknown_top(key: str, allowed: list[str]) -> str:
    return f"unknown top-level key{did_you_mean(key, allowed)}"


def included_unknown(holds: str) -> Callable[[str, list[str]], str]:
    """How an unknown key of an included (generated) file is worded."""
    return lambda key, allowed: f"unknown key (an included file holds {holds!r} only)"
