"""spaCy component ``escalation_actors``: resolve actor mentions from the YAML dictionary.

A mention is a name or alias ("Tehran", "Blinken", "the White House"), a demonym ("Iranian"),
a country plus role noun ("Iraqi government", "Israeli and U.S. intelligence"), a role noun with
a place ("militias in Iraq"), or a reference to an actor named earlier in the document:

- an armed-group noun or description with no country ("these militias", "the group", "the Iranian-backed
  faction") is the last armed group named;
- a role noun with a determiner and no country ("the army", "the ministry", "the prime minister") is
  that role of the last state named ("the army" after "Israeli forces" -> ISRMIL);
- "the country", "the kingdom", "the island" is the last state named (not the subject of its own clause:
  in "China announced drills around the island" the island is not China);
- a third-person pronoun ("it", "its", "they", "he") is the last actor that was a grammatical subject in
  this or the two previous sentences (for "he"/"she" a person first), else the nearest actor before it.

Each reference is a mention with ``via="reference"`` and ``antecedent_sent`` (the sentence index of
the mention it copies), so evidence can show where the actor came from. Entities the statistical NER
finds that the dictionary does not know are listed as unknown actors instead of being guessed.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span, Token
from spacy.util import filter_spans

from engine.nlp.lexicon import ARMED_GROUP_ROLES, ActorDictionary, load_actors

UNKNOWN_ENTITY_LABELS = {"GPE", "ORG", "NORP", "PERSON"}
# Descriptions that refer back to an actor of a kind: the head noun of "the group", "the kingdom".
GROUP_NOUNS = frozenset({"group", "groups", "movement", "organisation", "organization", "faction", "factions",
                         "militia", "militias", "militants", "rebels", "insurgents", "fighters", "guerrillas"})
STATE_NOUNS = frozenset({"country", "kingdom", "republic", "island", "emirate", "nation", "state"})
# "both sides", "the two countries", "both governments": the two parties the document is about
PAIR_NOUNS = frozenset({"sides", "countries", "governments", "parties", "neighbours", "neighbors", "nations",
                        "capitals", "militaries", "armies", "states", "rivals", "adversaries", "foes"})
# "the North", "the South": the short name of a state whose name begins with the word (North Korea)
COMPASS_SHORT_NAMES = frozenset({"North", "South"})
# "the city", "the region": the place named last, within PLACE_WINDOW sentences
PLACE_NOUNS = frozenset({"city", "town", "region", "province", "village", "district", "governorate", "oblast"})
PLACE_WINDOW = 3
# how far back (in sentences) "both sides" looks for its two parties
PAIR_WINDOW = 6
DETERMINERS = frozenset({"the", "this", "these", "those", "its", "their", "his", "her"})
THIRD_PERSON = {"it": "any", "its": "any", "they": "plural", "them": "plural", "their": "plural",
                "he": "person", "him": "person", "his": "person", "she": "person", "her": "person"}
SUBJECT_DEPS = ("nsubj", "nsubjpass")
MINOR_CLAUSES = ("relcl", "acl", "advcl")
# a dateline ends with a dash within its paragraph's first tokens: "BAGHDAD, Nov 14 (Reuters) -"
DATELINE_DASHES = frozenset({"-", "--", "—", "–"})
DATELINE_TOKENS = 12
# "Iranian-backed militias", "Iran-aligned rebels": the words that make an armed group a proxy
PROXY_WORDS = frozenset({"backed", "-backed", "aligned", "-aligned", "allied", "sponsored", "supported", "funded"})
# how far back (in sentences) a pronoun looks for a subject before taking the nearest actor
PRONOUN_WINDOW = 2


@dataclass(frozen=True)
class ActorMention:
    code: str
    start: int  # token indices [start, end)
    end: int
    head: int  # token index of the mention's syntactic head
    text: str
    via: str  # name | demonym | country+role | role+place | anaphora | reference | proxy | place
    antecedent_sent: int = -1  # for references: sentence index of the mention referred to


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
        self.places = PhraseMatcher(nlp.vocab, attr="LOWER")
        for place, country in dictionary.places.items():
            self.places.add(f"place:{country}", [nlp.make_doc(place)])
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
        named = [Span(doc, s, e, label=vocab.strings[k]) for k, s, e in self._name_matches(doc)]
        # a place counts only written as a name ("Basra", not "basra"), and a name wins over a place
        named += [Span(doc, s, e, label=vocab.strings[k]) for k, s, e in self.places(doc)
                  if doc[s].is_title or doc[s].is_upper]
        named = filter_spans(named)
        roles = filter_spans([Span(doc, s, e, label=vocab.strings[k]) for k, s, e in self.roles(doc)])
        covered = {i for span in named for i in range(span.start, span.end)}
        roles = [r for r in roles if not any(i in covered for i in range(r.start, r.end))]
        role_at = {r.start: r for r in roles}
        used_roles: set[int] = set()
        mentions: list[ActorMention] = []

        part_of_other_name = _inside_unknown_names(named, roles)
        for span in named:
            kind, _, code = span.label_.partition(":")
            if kind == "ignore" or span.start in part_of_other_name or _describes_another(span):
                continue
            if kind == "place":  # territory, not an actor: "strikes near Basra"
                mentions.append(ActorMention(code, span.start, span.end, span.root.i, span.text, "place"))
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
            mention = (self._proxy_role(role, mentions) or self._place_role(role, mentions)
                       or self._anaphora(role, mentions))
            if mention:
                mentions.append(mention)
        mentions.sort(key=lambda m: (m.start, m.head))
        mentions = self._references(doc, mentions, used_roles | {r.start for r in roles})
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

    def _name_matches(self, doc: Doc) -> list[tuple[int, int, int]]:
        """Dictionary names in the text, also where the text writes them with accents the dictionary
        does not have ("Nicolás Maduro", "Petró"): matched on a copy without diacritics, same tokens."""
        matches = self.names(doc) + self.exact(doc)
        if doc.text.isascii():
            return matches
        words = [_without_diacritics(t.text) for t in doc]
        if all(w == t.text for w, t in zip(words, doc, strict=True)):
            return matches
        plain = Doc(doc.vocab, words=words, spaces=[bool(t.whitespace_) for t in doc])
        return matches + self.names(plain) + self.exact(plain)

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

    def _proxy_role(self, role: Span, mentions: list[ActorMention]) -> ActorMention | None:
        """'Iranian-backed militias', 'Iran-aligned rebels', 'pro-Tehran factions': an armed group that is
        a proxy of the named state; which one is told by a country named in the sentence, else the last
        one named in the document, else the patron's own armed-group code."""
        if role.label_.split(":")[1] not in ARMED_GROUP_ROLES:
            return None
        doc = role.doc
        left = doc[max(role.start - 4, 0): role.start]
        if not any(t.lower_ in PROXY_WORDS or t.lower_.startswith("pro-") for t in left):
            return None
        patron = next((m for m in reversed(mentions) if left.start <= m.start < role.start), None)
        if patron is None or not self.state_of(patron.code):
            return None
        state = self.state_of(patron.code)
        proxies = {code for code, actor in self.dictionary.actors.items() if actor.proxy_of == state}
        if not proxies:
            return None
        sent = role.sent
        in_sentence = {self.dictionary.country_of(m.code) for m in mentions if sent.start <= m.start < sent.end}
        by_country = sorted(c for c in proxies if self.dictionary.country_of(c) in in_sentence)
        earlier = [m.code for m in mentions if m.start < role.start and m.code in proxies]
        code = (by_country[0] if by_country else earlier[-1] if earlier else
                self.dictionary.role_code(state, role.label_.split(":")[1]))
        start = patron.start
        return ActorMention(code, start, role.end, role.root.i, doc[start:role.end].text, "proxy")

    def _place_role(self, role: Span, mentions: list[ActorMention]) -> ActorMention | None:
        """'militias in Iraq' -> IRQUAF: a role noun with an in/from COUNTRY phrase. Not 'the rebels in Doha'
        once an armed group has been named: the definite noun is that group, the city where it was."""
        if role.label_.split(":")[1] in ARMED_GROUP_ROLES and _has_determiner(role.root, ("the",)) and any(
                m.start < role.start and self.kind(m.code) == "group" for m in mentions):
            return None
        for prep in role.root.children:
            if prep.dep_ == "prep" and prep.lower_ in ("in", "from", "of"):
                for pobj in prep.children:
                    for m in mentions:
                        if m.head == pobj.i and self.dictionary.is_state(m.code):
                            code = self.dictionary.role_code(m.code, role.label_.split(":")[1])
                            return ActorMention(code, role.start, role.end, role.root.i, role.text, "role+place")
        return None

    def _anaphora(self, role: Span, mentions: list[ActorMention]) -> ActorMention | None:
        """An armed-group noun with no country refers to the last armed group named before it; another
        role noun with a determiner ("the army", "its ministry") is that role of the last state named."""
        role_code = role.label_.split(":")[1]
        earlier = [m for m in mentions if m.start < role.start]
        if role_code in ARMED_GROUP_ROLES:
            for m in reversed(earlier):
                if self.kind(m.code) == "group":
                    return ActorMention(m.code, role.start, role.end, role.root.i, role.text, "anaphora",
                                        _sent_of(role.doc, m.head))
            return None
        if role_code == "CVL" or not _has_determiner(role.root):
            return None
        for m in reversed(earlier):  # "the army" after "the Israeli military": the same organ
            actor = self.dictionary.get(m.code)
            if actor and actor.role == role_code and self.kind(m.code) == "organ":
                return ActorMention(m.code, role.start, role.end, role.root.i, role.text, "anaphora",
                                    _sent_of(role.doc, m.head))
        for m in reversed(earlier):
            state = self.state_of(m.code)
            if state:
                code = self.dictionary.role_code(state, role_code)
                if self.dictionary.get(code):
                    return ActorMention(code, role.start, role.end, role.root.i, role.text, "anaphora",
                                        _sent_of(role.doc, m.head))
        return None

    # ------------------------------------------------------------------ document memory
    def kind(self, code: str) -> str:
        """state | organ (a state's government, military ...) | group (armed groups, proxies) | igo."""
        actor = self.dictionary.get(code)
        if actor is None:
            return "group"
        if code.startswith("IGO") or not actor.country:
            return "igo"
        if self.dictionary.is_state(code):
            return "state"
        if actor.parent and self.dictionary.is_state(actor.parent) and actor.role not in ARMED_GROUP_ROLES \
                and not actor.proxy_of:
            return "organ"
        return "group"

    def state_of(self, code: str) -> str:
        kind = self.kind(code)
        if kind == "state":
            return code
        if kind == "organ":
            return self.dictionary.get(code).parent
        return ""

    def _references(self, doc: Doc, mentions: list[ActorMention], role_starts: set[int]) -> list[ActorMention]:
        """Add mentions for descriptions and pronouns that refer to an actor named before them.

        One pass in document order: ``seen`` holds the mentions before the current token, ``recent``
        the mentions of each kind."""
        taken = {i for m in mentions for i in range(m.start, m.end)}
        sent_of = [0] * len(doc)
        for k, sent in enumerate(doc.sents):
            sent_of[sent.start:sent.end] = [k] * (sent.end - sent.start)
        pending = sorted(mentions, key=lambda m: m.start)
        seen: list[ActorMention] = []
        recent: dict[str, list[ActorMention]] = {}  # mentions of each kind, in document order
        last_person: int | None = None  # token index of the latest PERSON entity, known or not
        added: list[ActorMention] = []
        places: list[ActorMention] = []  # places named so far, for "the city", "the region"
        k = 0
        for tok in doc:
            while k < len(pending) and pending[k].start < tok.i:
                if pending[k].via != "place":  # a place is no antecedent for "it" or "the group"
                    seen.append(pending[k])
                    recent.setdefault(self.kind(pending[k].code), []).append(pending[k])
                else:
                    places.append(pending[k])
                k += 1
            if tok.ent_type_ == "PERSON" and tok.ent_iob_ == "B":
                last_person = tok.i
            if tok.i in taken or tok.i in role_starts:
                continue
            lower = tok.lower_
            if (lower in THIRD_PERSON and tok.pos_ == "PRON") or (lower in ("its", "their", "his", "her")
                                                                    and tok.dep_ == "poss"):
                found = self._pronoun_antecedent(tok, seen, sent_of, THIRD_PERSON.get(lower, "any"), last_person)
            elif lower in GROUP_NOUNS and tok.pos_ == "NOUN" and _has_determiner(tok):
                found = _not_own_subject(tok, recent.get("group", []))
            elif lower in STATE_NOUNS and tok.pos_ == "NOUN" and _has_determiner(tok, ("the",)):
                found = _not_own_subject(tok, recent.get("state", []))
            elif lower in PLACE_NOUNS and tok.pos_ == "NOUN" and _has_determiner(tok, ("the",)) and not any(
                    c.dep_ in ("compound", "amod", "nmod") and c.pos_ in ("PROPN", "ADJ") for c in tok.children):
                # "shelled villages in the region", "the city's stadium": the place named last, as territory
                place = places[-1] if places and sent_of[tok.i] - sent_of[places[-1].head] <= PLACE_WINDOW else None
                if place is not None:
                    added.append(ActorMention(place.code, tok.i, tok.i + 1, tok.i, tok.text, "place",
                                              sent_of[place.head]))
                    taken.add(tok.i)
                continue
            elif tok.text in COMPASS_SHORT_NAMES and _compass_short_name(tok):
                found = self._compass_state(tok.text, mentions)
                if found is not None and is_territory_object(tok):
                    # "withdrew to the North", "fired into the South": there the short name is territory
                    added.append(ActorMention(found.code, tok.i, tok.i + 1, tok.i, tok.text, "place"))
                    taken.add(tok.i)
                    continue
            elif lower in PAIR_NOUNS and _names_a_pair(tok):
                for party in self._two_parties(tok, seen, sent_of):
                    ref = ActorMention(party.code, tok.i, tok.i + 1, tok.i, tok.text, "reference", sent_of[party.head])
                    added.append(ref)
                    seen.append(ref)
                taken.add(tok.i)
                continue
            else:
                continue
            if found is not None:
                ref = ActorMention(found.code, tok.i, tok.i + 1, tok.i, tok.text, "reference",
                                   sent_of[found.head])
                added.append(ref)
                seen.append(ref)
                taken.add(tok.i)
        return sorted(mentions + added, key=lambda m: (m.start, m.head))

    def _compass_state(self, word: str, mentions: list[ActorMention]) -> ActorMention | None:
        """'the North' in a story that names North Korea: that state (the latest such mention, in the
        headline or anywhere else, since wire copy says "North Korea" once and "the North" after)."""
        prefix = word.lower() + " "
        for m in reversed(mentions):
            if m.text.lower().startswith(prefix) and m.via != "place" and self.kind(m.code) != "group":
                state = self.state_of(m.code)
                return ActorMention(state, m.start, m.end, m.head, m.text, m.via) if state else None
        return None

    def _two_parties(self, tok: Token, seen: list[ActorMention], sent_of: list[int]) -> list[ActorMention]:
        """The two units named most often in the last sentences (the latest mention of each), leaving out
        the subject of the clause that names them ("the EU urged both sides")."""
        here = sent_of[tok.i]
        subject_units = {self.dictionary.unit_of(m.code) for m in seen if sent_of[m.head] == here
                         and tok.doc[m.head].dep_ in SUBJECT_DEPS}
        count: dict[str, int] = {}
        latest: dict[str, ActorMention] = {}
        for m in seen:
            if here - sent_of[m.head] > PAIR_WINDOW or m.via == "place":
                continue
            unit = self.dictionary.unit_of(m.code)
            if unit in subject_units:
                continue
            count[unit] = count.get(unit, 0) + 1
            latest[unit] = m
        best = sorted(count, key=lambda u: (count[u], latest[u].start), reverse=True)[:2]
        return [latest[u] for u in best] if len(best) == 2 else []

    def _pronoun_antecedent(self, tok: Token, seen: list[ActorMention], sent_of: list[int], wanted: str,
                            last_person: int | None) -> ActorMention | None:
        here = sent_of[tok.i]
        before: list[ActorMention] = []
        for m in reversed(seen):
            if here - sent_of[m.head] > PRONOUN_WINDOW:
                break
            before.append(m)
        before.reverse()
        if wanted == "person":
            if last_person is not None and here - sent_of[last_person] <= PRONOUN_WINDOW:
                # "he" after a named person: that person, or nobody when the dictionary does not know them
                return next((m for m in reversed(before) if m.start <= last_person < m.end or m.head == last_person),
                            None)
        subjects = [m for m in before if tok.doc[m.head].dep_ in SUBJECT_DEPS]
        # the subject of a relative or adverbial clause ("lines, which Pyongyang cut in 2023") is less
        # likely meant than the subject of a main clause
        main = [m for m in subjects if tok.doc[m.head].head.dep_ not in MINOR_CLAUSES
                or tok.doc[m.head].head.left_edge.i <= tok.i <= tok.doc[m.head].head.right_edge.i]
        if main:
            return main[-1]
        if subjects:
            return subjects[-1]
        return before[-1] if before and sent_of[before[-1].head] >= here - 1 else None


@Language.component("escalation_paragraphs", assigns=["token.is_sent_start"])
def mark_paragraphs(doc: Doc) -> Doc:
    """A line break starts a sentence: a headline, a dateline line or a paragraph never runs on into the
    next one (the parser would otherwise join "... this week\n\nBAGHDAD (Reuters) - Iran said")."""
    paragraph_start = 0
    for tok in doc[:-1]:
        if "\n" in tok.whitespace_ or (tok.is_space and "\n" in tok.text):
            doc[tok.i + 1].is_sent_start = True
            paragraph_start = tok.i + 1
        elif tok.text in DATELINE_DASHES and tok.i - paragraph_start <= DATELINE_TOKENS and tok.i > paragraph_start:
            before = doc[tok.i - 1]
            # a dash between spaces ("(Reuters) - Iran"), not a hyphen in a word ("The 11-day drill", "IRIS-T")
            dateline_place = doc[paragraph_start].is_upper and before.is_title  # "KINSHASA, DR Congo –"
            if (before.text == ")" or before.is_upper or before.like_num or dateline_place) \
                    and before.whitespace_ and (tok.whitespace_ or doc[tok.i + 1].is_space):
                doc[tok.i + 1].is_sent_start = True  # "BEIRUT (AP) -- Iran warned ..."
    return doc


def _inside_unknown_names(named: list[Span], roles: list[Span]) -> set[int]:
    """Start tokens of names that only modify a proper name the dictionary does not know: "Qatar Airways",
    "Zain Iraq", "Tehran Times" are companies, not the state."""
    covered = {i for span in [*named, *roles] for i in range(span.start, span.end)}
    inside = set()
    for span in named:
        root = span.root
        head_unknown = root.dep_ == "compound" and root.head.pos_ == "PROPN" and root.head.i not in covered
        left_unknown = any(c.dep_ == "compound" and c.pos_ == "PROPN" and c.i < span.start and c.i not in covered
                           and c.is_title for c in root.children)
        if head_unknown or left_unknown:
            inside.add(span.start)
    return inside


def _not_own_subject(tok: Token, candidates: list[ActorMention]) -> ActorMention | None:
    """The latest candidate, unless it is the subject of the description's own clause: in "China
    announced drills around the island" the island is not China (that would be "its own")."""
    if not candidates:
        return None
    if tok.dep_ in SUBJECT_DEPS:
        return candidates[-1]
    verb = next((a for a in tok.ancestors if a.pos_ in ("VERB", "AUX")), None)
    subjects = {c.i for c in verb.children if c.dep_ in SUBJECT_DEPS} if verb is not None else set()
    for m in reversed(candidates[-4:]):
        if m.head not in subjects:
            return m
    return None


# a name after one of these is where something goes or happens ("withdrew to the North", "strikes in Syria")
TERRITORY_PREPOSITIONS = frozenset({"to", "into", "in", "inside", "from", "toward", "towards", "across", "near",
                                    "within"})


def is_territory_object(tok: Token, prepositions: frozenset = TERRITORY_PREPOSITIONS) -> bool:
    return tok.dep_ == "pobj" and tok.head.lower_ in prepositions


# "the al Qaeda-linked group JNIM", "an Islamic State-affiliated cell": the name describes another group
LINKED_WORDS = frozenset({"linked", "affiliated", "inspired"})


def _describes_another(span: Span) -> bool:
    doc = span.doc
    return span.end + 1 < len(doc) and doc[span.end].text == "-" and doc[span.end + 1].lower_ in LINKED_WORDS


def _without_diacritics(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)) or text


def _compass_short_name(tok: Token) -> bool:
    """'the North' / 'the South's military', not 'the North Atlantic' or 'the south of the country'."""
    doc = tok.doc
    after = doc[tok.i + 1] if tok.i + 1 < len(doc) else None
    return tok.i > 0 and doc[tok.i - 1].lower_ == "the" and (
        after is None or after.pos_ not in ("PROPN", "NOUN", "ADJ") or after.tag_ == "POS")


def _names_a_pair(tok: Token) -> bool:
    """'both sides', 'the two countries' (not 'two countries', which may be any two)."""
    words = {c.lower_ for c in tok.children}
    before = tok.doc[tok.i - 1].lower_ if tok.i else ""
    return "both" in words or before == "both" or ("two" in words and "the" in words) or (
        before == "two" and tok.i > 1 and tok.doc[tok.i - 2].lower_ == "the")


def _has_determiner(tok: Token, words: frozenset | tuple = DETERMINERS) -> bool:
    return any(c.dep_ in ("det", "poss") and c.lower_ in words for c in tok.children)


def _sent_of(doc: Doc, i: int) -> int:
    start = doc[i].sent.start
    return sum(1 for s in doc.sents if s.start < start)


@Language.factory("escalation_actors", default_config={"actors_path": ""},
                  assigns=["doc._.actor_mentions", "doc._.unknown_actors"],
                  requires=["token.tag", "token.dep", "token.ent_type", "doc.sents", "doc.ents"])
def make_actor_resolver(nlp: Language, name: str, actors_path: str) -> ActorResolver:
    from engine.paths import ACTORS_FILE

    return ActorResolver(nlp, load_actors(actors_path or str(ACTORS_FILE)))
