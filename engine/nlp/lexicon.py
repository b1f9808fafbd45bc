"""The analysts' dictionaries: actors (``rules/actors.yaml``) and signal triggers (``rules/signals.yaml``).

Both are validated on load; every problem is reported as ``FILE:LINE: id: message``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from engine.errors import ConfigError, did_you_mean
from engine.schemas import SIGNAL_TYPES
from engine.yamlio import DuplicateKeyError, line_of, load_yaml

CODE_RE = re.compile(r"^[A-Z]{3}[A-Z]*$|^---[A-Z]*$")
ARMED_GROUP_ROLES = frozenset({"UAF", "REB"})
ACTOR_FIELDS = {"code", "name", "country", "parent", "proxy_of", "names", "demonyms", "people"}


@dataclass(frozen=True)
class Actor:
    code: str
    name: str
    country: str  # ISO-3 roll-up code for the model; "" for international bodies
    parent: str = ""
    proxy_of: str = ""
    role: str = ""


@dataclass
class ActorDictionary:
    path: Path
    actors: dict[str, Actor]
    names: dict[str, str]  # alias -> code (names, people, surnames)
    demonyms: dict[str, str]  # demonym -> country code
    roles: dict[str, list[str]]  # role suffix -> role nouns
    ignore: list[str]

    def get(self, code: str) -> Actor | None:
        return self.actors.get(code)

    def country_of(self, code: str) -> str:
        actor = self.actors.get(code)
        return actor.country if actor else ""

    def patron_of(self, code: str) -> str:
        actor = self.actors.get(code)
        return actor.proxy_of if actor else ""

    def unit_of(self, code: str) -> str:
        """The actor whose behaviour rule sequences correlate: a state organ is its state (IRNMIL ->
        IRN, USAGOV -> USA); an armed group or a proxy is itself (IRQUAF stays IRQUAF)."""
        actor = self.actors.get(code)
        if actor and actor.parent and actor.role not in ARMED_GROUP_ROLES and not actor.proxy_of:
            return actor.parent
        return code

    def role_code(self, country_code: str, role: str) -> str:
        """COUNTRY+ROLE code for a country (IRQ + UAF -> IRQUAF)."""
        return f"{country_code}{role}"

    def is_state(self, code: str) -> bool:
        actor = self.actors.get(code)
        return bool(actor) and actor.country == code


def _problem(path: Path, line: int, ident: str, message: str) -> str:
    return f"{path}:{line}: {ident}: {message}"


def check_actor_file(path: str | Path) -> tuple[ActorDictionary | None, list[str]]:
    """Load and validate an actor dictionary; return it (or None) and the list of problems."""
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

    roles = {str(k): [str(n) for n in v] for k, v in (data.get("roles") or {}).items()}
    raw_actors = data["actors"] or []
    codes = {}
    for i, entry in enumerate(raw_actors):
        line = line_of(raw_actors, i)
        if not isinstance(entry, dict) or "code" not in entry:
            problems.append(_problem(path, line, "-", "actor entry needs a 'code'"))
            continue
        code = str(entry["code"])
        if code in codes:
            problems.append(_problem(path, line, code, f"duplicate actor code (first on line {codes[code]})"))
        codes[code] = line
        if not CODE_RE.match(code):
            problems.append(_problem(path, line, code, "code must be capital letters (ISO-3 country + role)"))
        for key in entry:
            if key not in ACTOR_FIELDS:
                problems.append(_problem(path, line_of(entry, key, line), code,
                                         f"unknown field {key!r}{did_you_mean(key, ACTOR_FIELDS)}"))

    entries = {str(e["code"]): e for e in raw_actors if isinstance(e, dict) and "code" in e}
    actors: dict[str, Actor] = {}
    names: dict[str, str] = {}
    demonyms: dict[str, str] = {}

    def add_name(name: str, code: str, line: int) -> None:
        key = name.strip()
        if key in names and names[key] != code:
            problems.append(_problem(path, line, code, f"name {key!r} already belongs to {names[key]}"))
        names.setdefault(key, code)

    # countries first, then their derived role codes, then explicit role/group entries
    for code, e in entries.items():
        if "parent" not in e and "country" not in e and not code.startswith("IGO"):
            actors[code] = Actor(code, str(e.get("name", code)), code)
            for role in roles:
                actors.setdefault(code + role, Actor(code + role, f"{e.get('name', code)} ({role})", code, parent=code, role=role))
    for code, e in entries.items():
        line = codes[code]
        parent = str(e.get("parent") or "")
        country = str(e.get("country") or "")
        if parent and parent not in entries:
            problems.append(_problem(path, line_of(e, "parent", line), code, f"unknown parent {parent!r}"))
        if parent:
            country = country or actors.get(parent, Actor(parent, parent, parent)).country
        elif code.startswith("IGO"):
            country = ""
        elif not country:
            country = code
        proxy_of = str(e.get("proxy_of") or "")
        if proxy_of and proxy_of not in entries:
            problems.append(_problem(path, line_of(e, "proxy_of", line), code, f"unknown proxy_of {proxy_of!r}"))
        role = code[len(parent):] if parent and code.startswith(parent) else ""
        actors[code] = Actor(code, str(e.get("name", code)), country, parent, proxy_of, role)
        for name in e.get("names") or []:
            add_name(str(name), code, line_of(e, "names", line))
        for person in e.get("people") or []:
            person = str(person)
            add_name(person, code, line_of(e, "people", line))
            surname = person.split()[-1]
            if len(person.split()) > 1 and surname not in names:
                names[surname] = code
        for dem in e.get("demonyms") or []:
            demonyms[str(dem)] = code if not parent else parent
    for code, e in entries.items():
        if "country" in e and e["country"] and not CODE_RE.match(str(e["country"])):
            problems.append(_problem(path, line_of(e, "country", codes[code]), code, "country must be a code"))
    dictionary = ActorDictionary(path, actors, names, demonyms, roles, [str(x) for x in data.get("ignore") or []])
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


@dataclass
class SignalLexicon:
    path: Path
    types: dict[str, dict]
    triggers: list[Trigger]
    context: dict
    confidence: dict[str, float] = field(default_factory=dict)

    def words(self, key: str) -> frozenset[str]:
        return frozenset(str(w).lower() for w in self.context.get(key, []))


CONTEXT_KEYS = {
    "negations", "negating_heads", "hypothetical_modals", "condition_marks", "hypothetical_heads", "hypothetical_modifiers",
    "planned_heads", "planned_modifiers", "future_auxiliaries", "ongoing_words", "past_modifiers",
    "reporting_verbs", "reported_adverbs", "object_control_verbs", "target_prepositions", "location_prepositions", "territory_nouns",
}


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
    problems: list[str] = []
    types = data.get("signal_types") or {}
    for name in types:
        if name not in SIGNAL_TYPES:
            problems.append(_problem(path, line_of(types, name), name,
                                     f"unknown signal type{did_you_mean(name, SIGNAL_TYPES)}"))
    triggers = []
    seen: dict[str, int] = {}
    matcher = Matcher(Vocab())
    raw = data.get("triggers") or []
    for i, t in enumerate(raw):
        line = line_of(raw, i)
        tid = str(t.get("id", "-"))
        if tid in seen:
            problems.append(_problem(path, line, tid, f"duplicate trigger id (first on line {seen[tid]})"))
        seen[tid] = line
        sig = str(t.get("signal", ""))
        if sig not in types:
            problems.append(_problem(path, line_of(t, "signal", line), tid,
                                     f"unknown signal type {sig!r}{did_you_mean(sig, types)}"))
            continue
        conf = float(t.get("confidence", 0.8))
        if not 0 < conf <= 1:
            problems.append(_problem(path, line_of(t, "confidence", line), tid, "confidence must be in (0, 1]"))
        try:
            matcher.add(tid, [t["pattern"]])
        except Exception as exc:  # spaCy reports pattern errors as several exception types
            problems.append(_problem(path, line_of(t, "pattern", line), tid, f"bad Matcher pattern: {exc}".splitlines()[0]))
            continue
        triggers.append(
            Trigger(tid, sig, str(t.get("cameo", types[sig]["cameo"])), conf,
                    float(t.get("intensity", types[sig].get("intensity", 0.5))), t["pattern"])
        )
    context = data.get("context") or {}
    for key, words in context.items():
        lists = words.values() if isinstance(words, dict) else [words]
        for group in lists:
            for word in group if isinstance(group, list) else [group]:
                if not isinstance(word, str):
                    problems.append(_problem(path, line_of(context, key), key,
                                             f"{word!r} is not a word; quote it (YAML reads on/off/yes/no as booleans)"))
        if key not in CONTEXT_KEYS:
            problems.append(_problem(path, line_of(context, key), key,
                                     f"unknown context key{did_you_mean(key, CONTEXT_KEYS)}"))
    lexicon = SignalLexicon(path, dict(types), triggers, dict(context), dict(data.get("confidence") or {}))
    return (lexicon if not problems else None), problems


@lru_cache(maxsize=8)
def load_signals(path: str | Path) -> SignalLexicon:
    lexicon, problems = check_signal_file(path)
    if problems:
        raise ConfigError("invalid signal lexicon:\n" + "\n".join(problems))
    return lexicon
