"""spaCy component ``escalation_actors``: resolve actor mentions from the YAML dictionary.

A mention is a name or alias ("Tehran", "Blinken", "the White House"), a demonym ("Iranian"),
a country plus role noun ("Iraqi government", "Israeli and U.S. intelligence"), a role noun with
a place ("militias in Iraq"), or an armed-group noun referring back to the last armed group named
("these militias"). Entities the statistical NER finds that the dictionary does not know are
listed as unknown actors instead of being guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span, Token
from spacy.util import filter_spans

from engine.nlp.lexicon import ARMED_GROUP_ROLES, ActorDictionary, load_actors

UNKNOWN_ENTITY_LABELS = {"GPE", "ORG", "NORP", "PERSON"}


@dataclass(frozen=True)
class ActorMention:
    code: str
    start: int  # token indices [start, end)
    end: int
    head: int  # token index of the mention's syntactic head
    text: str
    via: str  # name | demonym | country+role | role+place | anaphora


for _name in ("actor_mentions", "unknown_actors"):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=None)
if not Token.has_extension("actor_codes"):
    Token.set_extension("actor_codes", getter=lambda t: _codes_at(t))


def _codes_at(token: Token) -> list[str]:
    """Actor codes whose mention is headed by, or covers, this token."""
    mentions = token.doc._.actor_mentions or []
    headed = [m.code for m in mentions if m.head == token.i]
    if headed:
        return list(dict.fromkeys(headed))
    return list(dict.fromkeys(m.code for m in mentions if m.start <= token.i < m.end))


def mention_at(token: Token) -> ActorMention | None:
    for m in token.doc._.actor_mentions or []:
        if m.head == token.i or m.start <= token.i < m.end:
            return m
    return None


class ActorResolver:
    def __init__(self, nlp: Language, dictionary: ActorDictionary):
        self.dictionary = dictionary
        self.names = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.exact = PhraseMatcher(nlp.vocab, attr="ORTH")
        self.roles = PhraseMatcher(nlp.vocab, attr="LOWER")
        for alias, code in dictionary.names.items():
            short_caps = alias.isupper() and len(alias.replace(".", "")) <= 4
            (self.exact if short_caps else self.names).add(f"name:{code}", [nlp.make_doc(alias)])
        for demonym, country in dictionary.demonyms.items():
            self.names.add(f"demonym:{country}", [nlp.make_doc(demonym)])
        for name in dictionary.ignore:
            matcher = self.exact if name.isupper() and len(name) <= 4 else self.names
            matcher.add("ignore:", [nlp.make_doc(name)])
        for role, nouns in dictionary.roles.items():
            self.roles.add(f"role:{role}", [nlp.make_doc(n) for n in nouns])

    def __call__(self, doc: Doc) -> Doc:
        vocab = doc.vocab
        named = [Span(doc, s, e, label=vocab.strings[k]) for k, s, e in self.names(doc) + self.exact(doc)]
        named = filter_spans(named)
        roles = filter_spans([Span(doc, s, e, label=vocab.strings[k]) for k, s, e in self.roles(doc)])
        covered = {i for span in named for i in range(span.start, span.end)}
        roles = [r for r in roles if not any(i in covered for i in range(r.start, r.end))]
        role_at = {r.start: r for r in roles}
        used_roles: set[int] = set()
        mentions: list[ActorMention] = []

        for span in named:
            kind, _, code = span.label_.partition(":")
            if kind == "ignore":
                continue
            role = self._role_after(doc, span, role_at, covered) if self.dictionary.is_state(code) else None
            if role is not None:
                used_roles.add(role.start)
                full = doc[span.start : role.end]
                mentions.append(
                    ActorMention(self.dictionary.role_code(code, role.label_.split(":")[1]),
                                 span.start, role.end, role.root.i, full.text, "country+role")
                )
            else:
                mentions.append(ActorMention(code, span.start, span.end, span.root.i, span.text, kind))

        mentions.sort(key=lambda m: m.start)
        for role in roles:
            if role.start in used_roles:
                continue
            mention = self._place_role(role, mentions) or self._anaphora(role, mentions)
            if mention:
                mentions.append(mention)
        mentions.sort(key=lambda m: (m.start, m.head))
        doc._.actor_mentions = mentions

        ignored = {i for span in named if span.label_.startswith("ignore") for i in range(span.start, span.end)}
        known = covered | {i for m in mentions for i in range(m.start, m.end)}
        doc._.unknown_actors = [
            (ent.text, ent.label_)
            for ent in doc.ents
            if ent.label_ in UNKNOWN_ENTITY_LABELS
            and not any(t.i in known or t.i in ignored for t in ent)
            and any(ch.isupper() for ch in ent.text)
        ]
        return doc

    def _role_after(self, doc: Doc, span: Span, role_at: dict[int, Span], covered: set[int]) -> Span | None:
        """A role noun right after a country/demonym, allowing adjectives and coordinated countries."""
        i = span.end
        while i < len(doc) and i - span.end <= 5:
            if i in role_at:
                return role_at[i]
            token = doc[i]
            if token.pos_ in ("ADJ", "CCONJ") or token.text in (",", "-", "'s", "’s") or token.i in covered:
                i += 1
                continue
            return None
        return None

    def _place_role(self, role: Span, mentions: list[ActorMention]) -> ActorMention | None:
        """'militias in Iraq' -> IRQUAF: a role noun with an in/from COUNTRY phrase."""
        for prep in role.root.children:
            if prep.dep_ == "prep" and prep.lower_ in ("in", "from", "of"):
                for pobj in prep.children:
                    for m in mentions:
                        if m.head == pobj.i and self.dictionary.is_state(m.code):
                            code = self.dictionary.role_code(m.code, role.label_.split(":")[1])
                            return ActorMention(code, role.start, role.end, role.root.i, role.text, "role+place")
        return None

    def _anaphora(self, role: Span, mentions: list[ActorMention]) -> ActorMention | None:
        """An armed-group noun with no country refers to the last armed group named before it."""
        if role.label_.split(":")[1] not in ARMED_GROUP_ROLES:
            return None
        for m in reversed(mentions):
            if m.start >= role.start:
                continue
            actor = self.dictionary.get(m.code)
            if actor and (actor.role in ARMED_GROUP_ROLES or actor.proxy_of):
                return ActorMention(m.code, role.start, role.end, role.root.i, role.text, "anaphora")
        return None


@Language.factory("escalation_actors", default_config={"actors_path": ""})
def make_actor_resolver(nlp: Language, name: str, actors_path: str) -> ActorResolver:
    from engine.paths import ACTORS_FILE

    return ActorResolver(nlp, load_actors(actors_path or str(ACTORS_FILE)))
