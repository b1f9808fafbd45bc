"""The analysts' dictionaries: actors (``rules/actors.yaml``) and signal triggers (``rules/signals.yaml``).

Both are validated on load; every problem is reported as ``FILE:LINE: id: message``. What each file
and each entry may hold is declared by the pydantic models of ``engine/dictionary_files.py`` (a key
they do not list is reported with the closest one); what needs the whole dictionary is checked here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import yaml

from engine.actor_dictionary import ARMED_GROUP_ROLES, Actor, ActorDictionary  # noqa: F401 - their old home
from engine.dictionary_files import (
    CODE_RE,  # noqa: F401 - re-exported
    ActorEntry,
    ActorsFile,
    ContextWords,
    IncludedActors,
    IncludedTriggers,
    SignalsFile,
    TriggerEntry,
    included_unknown,
    validate_file,
)
from engine.errors import ConfigError, did_you_mean
from engine.problems import Problem
from engine.schemas import SIGNAL_TYPES
from engine.yamlio import DuplicateKeyError, line_of, load_yaml

# the keys each part of the files may hold: the fields of their models (engine/dictionary_files.py)
ACTOR_FIELDS = set(ActorEntry.model_fields)
ACTOR_FILE_KEYS = tuple(ActorsFile.model_fields)
SIGNAL_FILE_KEYS = tuple(SignalsFile.model_fields)
TRIGGER_FIELDS = set(TriggerEntry.model_fields)
CONTEXT_KEYS = frozenset(ContextWords.model_fields)  # a new context word list: one field of ContextWords
LIST_FIELDS = ("names", "demonyms", "people", "places")


def _problem(path: Path, line: int, ident: str, message: str) -> Problem:
    return Problem(path, line, ident, message)


@dataclass
class _ActorEntry:
    """One actor entry and where it was written (the analysts' file or an included generated one)."""

    path: Path
    line: int
    code: str
    data: dict
    generated: bool


def _name_key(name: str) -> str:
    """How the resolver compares a name: short capitals (US, IDF) exactly, everything else in lower case."""
    return name if name.isupper() and len(name.replace(".", "")) <= 4 else name.lower()


def _actor_entries(path: Path, raw, problems: list[str], generated: bool, bad: set[tuple]) -> list[_ActorEntry]:
    """The entries of one actor list, each already checked by the file's model (``bad``: the (section,
    index) of an entry it refused whole, no code, and the (section, index, field) of each field it
    refused); codes must be unique. An entry keeps its good fields, so that one mistake does not hide
    the others."""
    if not isinstance(raw, list):
        return []
    entries: list[_ActorEntry] = []
    lines: dict[str, int] = {}
    for i, entry in enumerate(raw):
        line = line_of(raw, i)
        if ("actors", i) in bad or not isinstance(entry, dict) or "code" not in entry:
            continue
        code = str(entry["code"])
        if code in lines:
            problems.append(_problem(path, line, code, f"duplicate actor code (first on line {lines[code]})"))
        lines[code] = line
        refused = {key for key in entry if key != "code" and ("actors", i, key) in bad}
        if refused:
            entry = {k: v for k, v in entry.items() if k not in refused}
        entries.append(_ActorEntry(path, line, code, entry, generated))
    return entries


SLOW_OPERATORS = ("REGEX", "FUZZY")


def _slow_operators(pattern) -> str:
    """The first regular-expression or fuzzy operator in a Matcher pattern ('' if none)."""
    stack = [pattern]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if str(key).upper().startswith(SLOW_OPERATORS):
                    return str(key)
                stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
    return ""


def _included_files(path: Path, data: dict, key: str, problems: list[str]):
    """(path, content, what its model refused) of each file named under ``include:`` (paths relative to
    ``path``) that reads as a mapping holding a ``key`` list, checked with its model; every problem is
    reported as FILE:LINE of the included file. ``include:`` itself is checked by the including
    file's model."""
    includes = data.get("include") or []
    if not isinstance(includes, list):
        return
    model = IncludedActors if key == "actors" else IncludedTriggers
    for i, name in enumerate(includes):
        if not isinstance(name, str):
            continue
        line = line_of(includes, i, line_of(data, "include"))
        included = path.parent / name
        if not included.is_file():
            problems.append(_problem(path, line, "include", f"included file {included} not found"))
            continue
        try:
            inc = load_yaml(included)
        except DuplicateKeyError as exc:
            problems.append(_problem(included, exc.line, "-", str(exc)))
            continue
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            problems.append(_problem(included, (mark.line + 1) if mark else 1, "-", f"YAML syntax error: {exc}"))
            continue
        if not isinstance(inc, dict) or key not in inc:
            problems.append(_problem(included, 1, "-", f"an included file must be a mapping holding the {key!r} list"))
            continue
        found, bad = validate_file(model, inc, included, included_unknown(key))
        problems += found
        yield included, inc, bad


def _included_actor_entries(path: Path, data: dict, problems: list[str]) -> list[_ActorEntry]:
    """Entries of the generated files named under ``include:``, validated like the analysts' own and
    reported as FILE:LINE of the included file."""
    entries: list[_ActorEntry] = []
    first: dict[str, _ActorEntry] = {}
    for included, inc, bad in _included_files(path, data, "actors", problems):
        for entry in _actor_entries(included, inc["actors"] or [], problems, generated=True, bad=bad):
            if entry.code in first and first[entry.code].path != included:
                other = first[entry.code]
                problems.append(_problem(included, entry.line, entry.code,
                                         f"actor code also generated in {other.path}:{other.line}"))
            first.setdefault(entry.code, entry)
            entries.append(entry)
    return entries


def check_actor_file(path: str | Path) -> tuple[ActorDictionary | None, list[str]]:
    """Load and validate an actor dictionary; return it (or None) and the list of problems.

    Files named under ``include:`` (generated from the Phoenix dictionaries) add their actors; the
    analysts' file wins: an actor code it defines replaces the generated entry of that code, and a
    generated name, demonym or ignored name the analysts already use is dropped from the generated actor.
    """
    path = Path(path)
    problems: list[str] = []
    try:
        data = load_yaml(path)
    except DuplicateKeyError as exc:
        return None, [_problem(path, exc.line, "-", str(exc))]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return None, [_problem(path, (mark.line + 1) if mark else 1, "-", f"YAML syntax error: {exc}")]
    if not isinstance(data, dict) or "actors" not in data:
        return None, [_problem(path, 1, "-", "expected a mapping with an 'actors' list")]

    found, bad = validate_file(ActorsFile, data, path)
    problems += found
    roles = data.get("roles") if isinstance(data.get("roles"), dict) else {}
    roles = {str(k): [str(n) for n in v] for k, v in roles.items() if isinstance(v, list)}
    ignore = [str(x) for x in data.get("ignore") or []] if isinstance(data.get("ignore") or [], list) else []
    analyst = _actor_entries(path, data["actors"] or [], problems, generated=False, bad=bad)
    analyst_codes = {e.code for e in analyst}
    included = _included_actor_entries(path, data, problems)
    generated = [e for e in included if e.code not in analyst_codes]
    entries: dict[str, _ActorEntry] = {}
    for entry in analyst + generated:
        entries[entry.code] = entry  # a duplicate is reported above; the last one stands

    actors: dict[str, Actor] = {}
    names: dict[str, str] = {}
    demonyms: dict[str, str] = {}
    places: dict[str, str] = {}

    def add_name(name: str, code: str, where: Path, line: int) -> None:
        key = name.strip()
        if key in names and names[key] != code:
            problems.append(_problem(where, line, code, f"name {key!r} already belongs to {names[key]}"))
        names.setdefault(key, code)

    # countries first, then their derived role codes, then explicit role/group entries
    for code, entry in entries.items():
        e = entry.data
        if "parent" not in e and "country" not in e and not code.startswith("IGO"):
            actors[code] = Actor(code, str(e.get("name", code)), code)
            for role in roles:
                actors.setdefault(code + role, Actor(code + role, f"{e.get('name', code)} ({role})", code, parent=code, role=role))
    taken: set[str] = set()  # keys of the analysts' names, demonyms and ignored names
    for code, entry in entries.items():
        e, line, where = entry.data, entry.line, entry.path
        if entry.generated and not taken:
            taken = {_name_key(n) for n in list(names) + list(demonyms) + ignore}
        parent = str(e.get("parent") or "")
        country = str(e.get("country") or "")
        if parent and parent not in entries:
            problems.append(_problem(where, line_of(e, "parent", line), code, f"unknown parent {parent!r}"))
        if parent:
            country = country or actors.get(parent, Actor(parent, parent, parent)).country
        elif code.startswith("IGO"):
            country = ""
        elif not country:
            country = code
        proxy_of = str(e.get("proxy_of") or "")
        if proxy_of and proxy_of not in entries:
            problems.append(_problem(where, line_of(e, "proxy_of", line), code, f"unknown proxy_of {proxy_of!r}"))
        if entry.generated and country and country not in entries and country not in actors:
            problems.append(_problem(where, line_of(e, "country", line), code, f"unknown country {country!r}"))
        role = code[len(parent):] if parent and code.startswith(parent) else ""
        actors[code] = Actor(code, str(e.get("name", code)), country, parent, proxy_of, role)
        for name in e.get("names") or []:
            if entry.generated and _name_key(str(name)) in taken:
                continue  # the analysts use this name: theirs wins
            add_name(str(name), code, where, line_of(e, "names", line))
        for person in e.get("people") or []:
            person = str(person)
            if entry.generated and _name_key(person) in taken:
                continue
            add_name(person, code, where, line_of(e, "people", line))
            surname = person.split()[-1]
            if len(person.split()) > 1 and surname not in names:
                names[surname] = code
        for dem in e.get("demonyms") or []:
            dem = str(dem)
            target = code if not parent else parent
            if entry.generated:
                if _name_key(dem) in taken:
                    continue
                if demonyms.get(dem, target) != target or names.get(dem, target) != code:
                    owner = demonyms.get(dem) or names.get(dem)
                    problems.append(_problem(where, line_of(e, "demonyms", line), code,
                                             f"demonym {dem!r} already belongs to {owner}"))
                    continue
            demonyms[dem] = target
    # places: the analysts' first, then the generated ones, also of codes the analysts redefine (their
    # cities stay theirs); a name or demonym is an actor, not only a place
    for entry in analyst + included:
        for place in entry.data.get("places") or []:
            owner = actors.get(entry.code)
            places.setdefault(str(place), (owner.country if owner else "") or entry.code)
    actor_keys = {_name_key(n) for n in list(names) + list(demonyms) + ignore}
    places = {p: c for p, c in places.items() if _name_key(p) not in actor_keys}
    dictionary = ActorDictionary(path, actors, names, demonyms, roles, ignore, places)
    return (dictionary if not problems else None), problems


@lru_cache(maxsize=8)
def load_actors(path: str | Path) -> ActorDictionary:
    dictionary, problems = check_actor_file(path)
    if problems:
        raise ConfigError("invalid actor dictionary:\n" + "\n".join(problems))
    return dictionary


@dataclass(frozen=True)
class Trigger:
    id: str
    signal: str
    cameo: str
    confidence: float
    intensity: float
    pattern: list
    origin: str = "analyst"  # "generated": from a file under `include:` (rules/generated/, ids cameo-...)


@dataclass
class SignalLexicon:
    path: Path
    types: dict[str, dict]
    triggers: list[Trigger]
    context: dict
    confidence: dict[str, float] = field(default_factory=dict)
    figurative: dict = field(default_factory=dict)  # figurative_copy: sport/business copy with war words

    def words(self, key: str) -> frozenset[str]:
        return frozenset(str(w).lower() for w in self.context.get(key, []))


def check_signal_file(path: str | Path) -> tuple[SignalLexicon | None, list[str]]:
    """Load and validate the signal lexicon; return it (or None) and the list of problems."""
    from spacy.matcher import Matcher
    from spacy.vocab import Vocab

    path = Path(path)
    try:
        data = load_yaml(path)
    except DuplicateKeyError as exc:
        return None, [_problem(path, exc.line, "-", str(exc))]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return None, [_problem(path, (mark.line + 1) if mark else 1, "-", f"YAML syntax error: {exc}")]
    if not isinstance(data, dict):
        return None, [_problem(path, 1, "-", "expected a mapping with signal_types, triggers and context")]
    problems, bad = validate_file(SignalsFile, data, path)
    types = data.get("signal_types") if isinstance(data.get("signal_types"), dict) else {}
    types = {name: entry for name, entry in types.items() if name in SIGNAL_TYPES and isinstance(entry, dict)}
    seen: dict[str, tuple[Path, int]] = {}
    matcher = Matcher(Vocab())
    triggers = _check_triggers(path, data.get("triggers") or [], types, seen, matcher, problems, "analyst", bad)
    generated = _included_triggers(path, data, types, seen, matcher, problems)
    triggers += _without_claimed(path, data, triggers, generated, problems)
    context = data.get("context") if isinstance(data.get("context"), dict) else {}
    confidence = data.get("confidence") if isinstance(data.get("confidence"), dict) else {}
    figurative = data.get("figurative_copy") if isinstance(data.get("figurative_copy"), dict) else {}
    lexicon = SignalLexicon(path, dict(types), triggers, dict(context), dict(confidence), dict(figurative))
    return (lexicon if not problems else None), problems


# the words YAML 1.1 reads as booleans when unquoted ("on", "no", "yes", "off" ...)
YAML_BOOLEAN_WORDS = {True: "on/yes/true", False: "no/off/false"}


def _booleans(pattern) -> list[str]:
    """The pattern values YAML turned into true/false, shown as the words that were probably meant."""
    found: list[str] = []

    def walk(value):
        if isinstance(value, bool):
            found.append(YAML_BOOLEAN_WORDS[value])
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, bool):
                    found.append(YAML_BOOLEAN_WORDS[key])
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(pattern)
    return list(dict.fromkeys(found))


def _check_triggers(path: Path, raw, types: dict, seen: dict, matcher, problems: list[str], origin: str,
                    bad: set[tuple]) -> list[Trigger]:
    """The triggers of one file (the signals file or an included one), each already checked by the
    file's model (``bad``: what it refused): ids unique across the files, a signal type the file
    defines, a Matcher pattern spaCy accepts and that cannot take hours on one sentence."""
    triggers = []
    if not isinstance(raw, list):
        return triggers
    for i, t in enumerate(raw):
        line = line_of(raw, i)
        if not isinstance(t, dict):
            continue
        tid = str(t.get("id", "-"))
        if tid in seen:
            first_path, first_line = seen[tid]
            where = f"line {first_line}" if first_path == path else f"{first_path}:{first_line}"
            problems.append(_problem(path, line, tid, f"duplicate trigger id (first on {where})"))
        seen[tid] = (path, line)
        if any(refused[:2] == ("triggers", i) for refused in bad):
            continue  # reported by the model
        sig = str(t.get("signal", ""))
        if sig not in types:
            problems.append(_problem(path, line_of(t, "signal", line), tid,
                                     f"unknown signal type {sig!r}{did_you_mean(sig, types)}"))
            continue
        slow = _slow_operators(t.get("pattern"))
        if slow:
            problems.append(_problem(path, line_of(t, "pattern", line), tid,
                                     f"{slow} is not allowed in trigger patterns: a pattern like '^(a+)+$' can take "
                                     "hours on one sentence; list the words with IN instead"))
            continue
        try:
            matcher.add(tid, [t["pattern"]])
        except Exception as exc:  # spaCy reports pattern errors as several exception types
            booleans = _booleans(t.get("pattern"))
            why = (f"YAML read {', '.join(booleans)} as true/false: quote the word (e.g. \"no\", \"on\")"
                   if booleans else f"{exc}".splitlines()[0])
            problems.append(_problem(path, line_of(t, "pattern", line), tid, f"bad Matcher pattern: {why}"))
            continue
        triggers.append(
            Trigger(tid, sig, str(t.get("cameo", types[sig].get("cameo", ""))), float(t.get("confidence", 0.8)),
                    float(t.get("intensity", types[sig].get("intensity", 0.5))), t["pattern"], origin)
        )
    return triggers


def _included_triggers(path: Path, data: dict, types: dict, seen: dict, matcher, problems: list[str]) -> list[Trigger]:
    """Triggers of the files named under ``include:``, validated like the analysts' own and reported as
    FILE:LINE of the included file."""
    triggers = []
    for included, inc, bad in _included_files(path, data, "triggers", problems):
        triggers += _check_triggers(included, inc["triggers"] or [], types, seen, matcher, problems, "generated", bad)
    return triggers


def _lemma_values(token) -> set[str]:
    lemma = token.get("LEMMA") if isinstance(token, dict) else None
    if isinstance(lemma, dict):
        return {str(w).lower() for w in lemma.get("IN", [])}
    return {str(lemma).lower()} if isinstance(lemma, str) else set()


def _without_lemmas(token, drop: set[str]):
    """The token without the lemmas in ``drop``; None when it has no lemma left."""
    lemma = token.get("LEMMA") if isinstance(token, dict) else None
    if isinstance(lemma, str):
        return None if lemma.lower() in drop else token
    if isinstance(lemma, dict) and "IN" in lemma:
        kept = [w for w in lemma["IN"] if str(w).lower() not in drop]
        if not kept:
            return None
        if len(kept) < len(lemma["IN"]):
            return {**token, "LEMMA": {**lemma, "IN": kept}}
    return token


def _without_claimed(path: Path, data: dict, analyst: list[Trigger], generated: list[Trigger],
                     problems: list[str]) -> list[Trigger]:
    """Generated triggers minus what the analysts claim: the lemma of every analyst trigger's first token
    (of any type) and the lemmas or trigger ids listed under ``disable_generated:``. Generated patterns
    use LEMMA only on their verb slot; a trigger whose verb slot loses every lemma is dropped."""
    claimed: set[str] = set()
    for trigger in analyst:
        if trigger.pattern:
            claimed |= _lemma_values(trigger.pattern[0])
    disabled = data.get("disable_generated") or []
    if not isinstance(disabled, list):  # reported by the file's model
        disabled = []
    ids = {t.id for t in generated}
    lemmas = set().union(*(_lemma_values(tok) for t in generated for tok in t.pattern)) if generated else set()
    off_ids, off_lemmas = set(), set()
    for i, entry in enumerate(disabled):
        word = str(entry)
        if word in ids:
            off_ids.add(word)
        elif word.lower() in lemmas:
            off_lemmas.add(word.lower())
        else:
            problems.append(_problem(path, line_of(disabled, i, line_of(data, "disable_generated")), "disable_generated",
                                     f"{word!r} is neither a generated trigger id nor a lemma of one{did_you_mean(word, ids)}"))
    kept = []
    for trigger in generated:
        if trigger.id in off_ids:
            continue
        pattern = [_without_lemmas(tok, claimed | off_lemmas) for tok in trigger.pattern]
        if any(tok is None for tok in pattern):
            continue
        kept.append(replace(trigger, pattern=pattern))
    return kept


@lru_cache(maxsize=8)
def load_signals(path: str | Path) -> SignalLexicon:
    lexicon, problems = check_signal_file(path)
    if problems:
        raise ConfigError("invalid signal lexicon:\n" + "\n".join(problems))
    return lexicon
