"""The actor dictionary as the stages use it: codes, names, demonyms, places and the roll-ups between
actors (parent, country, patron, unit). Extraction, the rules, the model features and scoring all
read it; ``engine.nlp.lexicon.load_actors`` builds it from ``rules/actors.yaml`` (validated by the
models in ``engine/dictionary_files.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

ARMED_GROUP_ROLES = frozenset({"UAF", "REB"})


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
    # city or region -> country code: territory an attack can hit or be launched from, never an actor
    places: dict[str, str] = field(default_factory=dict)

    def get(self, code: str) -> Actor | None:
        return self.actors.get(code)

    def country_of(self, code: str) -> str:
        actor = self.actors.get(code)
        return actor.country if actor else ""

    def side_of(self, code: str) -> str:
        """The country a code is compared by (pair evaluation, the role ranker's candidates): its country;
        an international organisation (IGO...) is its own side; a code the dictionary does not know, its
        first three letters; "" for none."""
        if not code:
            return ""
        return self.country_of(code) or (code if code.startswith("IGO") else code[:3])

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
