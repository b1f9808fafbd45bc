"""spaCy component ``escalation_signals``: find signals and read their roles and flags from the parse.

For each trigger match (patterns from ``rules/signals.yaml``) the syntactic head of the match is
the event word. From the dependency parse around it we read:

- source: the event's subject (or passive agent, possessor, demonym modifier); if it has none,
  the nearest governing clause's object ("prevent Iranian forces from launching attacks") or
  subject ("Iran is preparing an assault");
- target: its object, passive subject, or a prepositional object ("on/against/to X");
- location: "from X" / "from Iraqi soil" (the launch point);
- negated, hypothetical (modal, if/unless clause, "or risk ..."), status (past/ongoing/planned),
  reported_by (the subject of the nearest verb of saying, "according to", "reportedly");
- the event date when the text names one ("the strike on Oct. 25"), else the document date.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Token

from engine.nlp.actors import mention_at
from engine.nlp.lexicon import ActorDictionary, SignalLexicon, load_actors, load_signals

if not Doc.has_extension("signals"):
    Doc.set_extension("signals", default=None)
if not Doc.has_extension("doc_date"):
    Doc.set_extension("doc_date", default=None)

VERBAL = ("VERB", "AUX")
NOMINAL = ("NOUN", "PROPN")
CLAUSE_BOUNDARIES = ("ccomp", "parataxis")
SUBORDINATE = ("xcomp", "ccomp", "advcl", "acl", "relcl", "pcomp")
PLURAL_PRONOUNS = {"they", "them", "their", "theirs"}
FIRST_PERSON = {"we", "us", "our", "i", "me", "my"}
MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MONTH_DAY = re.compile(r"\b([A-Za-z]{3})[a-z]*\.?\s+(\d{1,2})\b|\b(\d{1,2})\s+([A-Za-z]{3})[a-z]*\b")
MAX_PAIRS_PER_EVENT = 4
# a noun event under one of these is the act of the clause's subject ("preparing for a joint attack");
# under any other preposition it is a circumstance or a target ("despite warnings", "at any attack")
INTENT_PREPOSITIONS = frozenset({"for", "to", "into"})


@dataclass
class Signal:
    signal: str
    cameo: str
    intensity: float
    confidence: float
    pattern_id: str
    trigger: str
    start_char: int
    end_char: int
    sent_index: int
    sent_start: int
    sent_end: int
    sentence: str
    source: str
    target: str
    source_text: str
    target_text: str
    negated: bool
    hypothetical: bool
    status: str
    reported_by: str
    location: str
    date: dt.date | None


@dataclass
class _Actors:
    codes: list[str]
    text: str = ""
    anaphora: bool = False

    def __bool__(self) -> bool:
        return bool(self.codes)


NONE = _Actors([])


class SignalDetector:
    def __init__(self, nlp: Language, lexicon: SignalLexicon, actors: ActorDictionary):
        self.lexicon = lexicon
        self.actors = actors
        self.matcher = Matcher(nlp.vocab)
        self.triggers = {t.id: t for t in lexicon.triggers}
        self.order = {t.id: i for i, t in enumerate(lexicon.triggers)}
        for trigger in lexicon.triggers:
            self.matcher.add(trigger.id, [trigger.pattern])
        w = lexicon.words
        self.negations = w("negations")
        self.negating_heads = w("negating_heads")
        self.modals = w("hypothetical_modals")
        self.condition_marks = w("condition_marks")
        self.hypothetical_heads = w("hypothetical_heads")
        self.hypothetical_modifiers = w("hypothetical_modifiers")
        self.planned_heads = w("planned_heads")
        self.planned_modifiers = w("planned_modifiers")
        self.future = w("future_auxiliaries")
        self.ongoing = w("ongoing_words")
        self.past_modifiers = w("past_modifiers")
        self.reporting = w("reporting_verbs")
        self.reported_adverbs = w("reported_adverbs")
        self.location_preps = w("location_prepositions")
        self.object_control = w("object_control_verbs")
        self.territory = w("territory_nouns")
        self.prevention = frozenset({"prevent", "stop", "deter", "halt", "block", "avert"})
        preps = lexicon.context.get("target_prepositions", {})
        self.target_preps = {k: frozenset(v) for k, v in preps.items()}
        self.conf = {"no_source": 0.6, "no_target": 0.8, "reported": 0.9, "via_anaphora": 0.85}
        self.conf.update(lexicon.confidence)

    # ------------------------------------------------------------------ matching
    def __call__(self, doc: Doc) -> Doc:
        matches = self.matcher(doc)
        # longer and more confident matches first; a token belongs to at most one trigger
        matches.sort(key=lambda m: (-(m[2] - m[1]), -self.triggers[doc.vocab.strings[m[0]]].confidence,
                                    self.order[doc.vocab.strings[m[0]]]))
        consumed: set[int] = set()
        chosen = []
        for key, start, end in matches:
            if any(i in consumed for i in range(start, end)):
                continue
            span = doc[start:end]
            if mention_at(span.root) is not None:
                continue  # "Popular Mobilization Forces" is an actor, not a mobilisation
            consumed.update(range(start, end))
            chosen.append((self.triggers[doc.vocab.strings[key]], span))
        chosen.sort(key=lambda c: c[1].start)
        sent_index = {s.start: i for i, s in enumerate(doc.sents)}
        signals: list[Signal] = []
        for trigger, span in chosen:
            signals.extend(self._signals_for(doc, trigger, span, sent_index))
        doc._.signals = signals
        return doc

    def _signals_for(self, doc: Doc, trigger, span, sent_index) -> list[Signal]:
        head = span.root
        sent = span.sent
        speaker = self._reported_by(head, sent)
        source = self._source(head, speaker, trigger.signal)
        target = self._target(head, trigger.signal, speaker)
        for tok in span:
            if not target and tok != head:
                target = self._target(tok, trigger.signal, speaker)  # "vowed to retaliate against Israel"
        signal, cameo, pattern_id = trigger.signal, trigger.cameo, trigger.id
        status = self._status(head)
        # A planned attack announced by the attacker itself is a threat (CAMEO 138).
        if signal == "ATTACK" and status == "planned" and speaker.codes and set(speaker.codes) & set(source.codes):
            signal, cameo, pattern_id = "THREATEN", "138", f"{trigger.id}+stated-intent"
        negated = self._negated(head)
        hypothetical = self._hypothetical(head)
        location = self._location(head)
        date = self._event_date(head, doc._.doc_date)
        confidence = trigger.confidence
        confidence *= 1.0 if source else self.conf["no_source"]
        confidence *= 1.0 if target else self.conf["no_target"]
        confidence *= self.conf["reported"] if speaker.text else 1.0
        confidence *= self.conf["via_anaphora"] if (source.anaphora or target.anaphora) else 1.0
        reported_by = ";".join(speaker.codes) if speaker.codes else speaker.text

        if not target and len(source.codes) >= 2:
            # "Iraq and the United States held talks": a reciprocal event, coded in both directions
            pairs = [(a, b) for a in source.codes for b in source.codes if a != b]
            return [self._signal(trigger, span, sent, sent_index, a, b, source, source, signal, cameo, pattern_id,
                                 negated, hypothetical, status, reported_by, location, date, confidence)
                    for a, b in pairs[:MAX_PAIRS_PER_EVENT]]
        out = []
        for src in (source.codes or [""])[:MAX_PAIRS_PER_EVENT]:
            for tgt in (target.codes or [""])[:MAX_PAIRS_PER_EVENT]:
                if tgt and (tgt == src or self.actors.country_of(src) == tgt):
                    tgt = ""  # a government acting on its own country is not a dyad
                out.append(self._signal(trigger, span, sent, sent_index, src, tgt, source, target, signal, cameo,
                                        pattern_id, negated, hypothetical, status, reported_by, location, date,
                                        confidence))
        unique = {(s.source, s.target): s for s in out}
        return list(unique.values())

    @staticmethod
    def _signal(trigger, span, sent, sent_index, src, tgt, source, target, signal, cameo, pattern_id, negated,
                hypothetical, status, reported_by, location, date, confidence) -> Signal:
        return Signal(
            signal=signal, cameo=cameo, intensity=trigger.intensity, confidence=round(confidence, 4),
            pattern_id=pattern_id, trigger=span.text, start_char=span.start_char, end_char=span.end_char,
            sent_index=sent_index.get(sent.start, 0), sent_start=sent.start_char, sent_end=sent.end_char,
            sentence=sent.text, source=src, target=tgt, source_text=source.text if src else "",
            target_text=target.text if tgt else "", negated=negated, hypothetical=hypothetical,
            status=status, reported_by=reported_by, location=location, date=date,
        )

    # ------------------------------------------------------------------ actors
    def _actors_of(self, tok: Token, speaker: _Actors | None = None, depth: int = 0) -> _Actors:
        """Actor codes a token stands for, with its coordinated tokens ("Sullivan and Blinken")."""
        result = self._actors_single(tok, speaker, depth)
        for conj in tok.conjuncts:
            if conj.i > tok.i:
                more = self._actors_single(conj, speaker, depth)
                if more:
                    result = _Actors(list(dict.fromkeys(result.codes + more.codes)),
                                     " and ".join(t for t in (result.text, more.text) if t), result.anaphora or more.anaphora)
        return result

    def _actors_single(self, tok: Token, speaker: _Actors | None, depth: int) -> _Actors:
        codes = tok._.actor_codes
        if codes:
            m = mention_at(tok)
            return _Actors(codes, m.text if m else tok.text, bool(m and m.via == "anaphora"))
        if depth > 2:
            return NONE
        lower = tok.lower_
        if lower in PLURAL_PRONOUNS:
            return self._plural_antecedent(tok, speaker, depth)
        if lower in FIRST_PERSON and speaker and speaker.codes:
            return _Actors(speaker.codes, tok.text, True)
        if tok.tag_ in ("WDT", "WP") and tok.head.dep_ == "relcl":
            return self._actors_of(tok.head.head, speaker, depth + 1)
        # "an official from an Iraqi militia", "Iraqi soil", "Israel's leaders"
        for child in tok.children:
            if child.dep_ in ("compound", "amod", "nmod", "poss"):
                found = self._actors_of(child, speaker, depth + 1)
                if found:
                    return _Actors(found.codes, found.text, found.anaphora)
        for child in tok.children:
            if child.dep_ == "prep" and child.lower_ in ("of", "from"):
                for pobj in child.children:
                    if pobj.dep_ == "pobj":
                        found = self._actors_of(pobj, speaker, depth + 1)
                        if found:
                            return found
        return NONE

    def _plural_antecedent(self, tok: Token, speaker, depth) -> _Actors:
        for anc in tok.ancestors:
            if anc.dep_ == "relcl":
                found = self._actors_of(anc.head, speaker, depth + 1)
                return _Actors(found.codes, found.text, True) if found else NONE
        for j in range(tok.i - 1, tok.sent.start - 1, -1):
            cand = tok.doc[j]
            if cand.pos_ in NOMINAL and cand._.actor_codes:
                found = self._actors_single(cand, speaker, depth + 1)
                return _Actors(found.codes, found.text, True)
        return NONE

    def _source(self, head: Token, speaker: _Actors, signal: str = "") -> _Actors:
        if signal == "MOBILIZE":
            for child in head.children:
                if child.dep_ == "nsubjpass":  # "Israeli forces were deployed to Gaza"
                    found = self._actors_of(child, speaker)
                    if found:
                        return found
        for child in head.children:
            if child.dep_ in ("nsubj", "csubj"):
                return self._actors_of(child, speaker)
            if child.dep_ == "agent":
                for pobj in child.children:
                    return self._actors_of(pobj, speaker)
        for child in head.children:
            if child.dep_ == "npadvmod" and child.i < head.i and child._.actor_codes:
                return self._actors_of(child, speaker)  # a subject the small parser mislabelled
        if head.pos_ in NOMINAL or head.pos_ == "ADJ":
            for child in head.children:
                if child.dep_ == "poss":
                    return self._actors_of(child, speaker)
            for child in head.children:
                if child.dep_ in ("compound", "amod", "nmod"):
                    found = self._actors_of(child, speaker)
                    if found:
                        return found
            for child in head.children:
                if child.dep_ == "prep" and child.lower_ == "by":
                    for pobj in child.children:
                        return self._actors_of(pobj, speaker)
        if head.dep_ == "conj" and head.head.pos_ in NOMINAL and head.pos_ in NOMINAL:
            return self._source(head.head, speaker)  # "U.S. warnings and calls": calls share the source
        child, node = head, head.head
        clausal = head.pos_ in VERBAL or head.pos_ == "ADJ"
        for _ in range(6):
            if node == child:
                return NONE
            if child.dep_ == "conj" and node.pos_ in VERBAL:
                for subj in node.children:  # "Tehran said ... and vowed to respond": shared subject
                    if subj.dep_ in ("nsubj", "csubj"):
                        return self._actors_of(subj, speaker)
            if child.dep_ in CLAUSE_BOUNDARIES or node.lemma_ in self.reporting:
                return NONE
            if node.dep_ == "prep" and child.dep_ == "pobj" and (
                node.head.pos_ in NOMINAL or node.lower_ not in INTENT_PREPOSITIONS
            ):
                # "a launch point for strikes", "despite warnings", "hit back at any attack":
                # the noun is a circumstance or a target, not the act of the clause's subject
                return NONE
            if child.dep_ in ("amod", "acl", "appos") and node.pos_ in NOMINAL:
                found = self._actors_of(node, speaker)
                if found:
                    return found
            if child.dep_ in ("xcomp", "pcomp", "advcl", "ccomp"):
                clausal = True
            if clausal and child.dep_ in ("xcomp", "prep", "advcl", "ccomp") and node.pos_ in VERBAL:
                for obj in node.children:
                    if obj.dep_ in ("dobj", "dative") and obj != child:
                        found = self._actors_of(obj, speaker)
                        if found or node.lemma_.lower() in self.object_control:
                            # "stop X from attacking": X acts, even when we cannot name X
                            return found
            for subj in node.children:
                if subj.dep_ in ("nsubj", "csubj"):
                    return self._actors_of(subj, speaker)
                if subj.dep_ == "agent":
                    for pobj in subj.children:
                        return self._actors_of(pobj, speaker)
            if child.dep_ == "relcl":
                return NONE
            child, node = node, node.head
        return NONE

    def _target(self, head: Token, signal: str, speaker: _Actors) -> _Actors:
        preps = self.target_preps.get(signal, self.target_preps.get("DEFAULT", frozenset({"on", "against", "to"})))
        objects = []
        if head.pos_ in VERBAL:
            for child in head.children:
                if signal == "MOBILIZE" and child.dep_ in ("dobj", "nsubjpass"):
                    continue  # what is deployed is the source's own, not the target
                if signal == "DEMAND" and child.dep_ == "ccomp":
                    for subj in child.children:  # "demanded that Israel halt its offensive"
                        if subj.dep_ == "nsubj" and self._actors_of(subj, speaker):
                            return self._actors_of(subj, speaker)
                if child.dep_ in ("dobj", "nsubjpass", "dative"):
                    found = self._actors_of(child, speaker)
                    if found:
                        return found
                    objects.append(child)
                    objects.extend(child.conjuncts)
        nodes = [head, *objects]
        if head.pos_ in NOMINAL and head.dep_ == "dobj" and head.head.pos_ in VERBAL:
            nodes.append(head.head)  # "issued a warning to Iraq"
        for node in nodes:
            for child in node.children:
                if child.dep_ == "prep" and child.lower_ in preps:
                    for pobj in child.children:
                        if pobj.dep_ == "pobj":
                            found = self._actors_of(pobj, speaker)
                            if found:
                                return found
        return self._target_by_surface(head, preps, speaker)

    def _target_by_surface(self, head: Token, preps: frozenset, speaker: _Actors) -> _Actors:
        """Fallback when the parse is off ("mobilize missiles to allied Shia militias" parsed with
        "allied" as a verb): a target preposition in the event's phrase followed closely by an actor."""
        subtree = sorted(head.subtree, key=lambda t: t.i)
        for tok in subtree:
            if tok.i <= head.i or tok.pos_ not in ("ADP", "PART") or tok.lower_ not in preps:
                continue
            if tok.i + 1 < len(tok.doc) and tok.doc[tok.i + 1].tag_ == "VB":
                continue  # "to curb ...": an infinitive, not a preposition
            if any(a.pos_ in VERBAL and a.dep_ in SUBORDINATE for a in tok.ancestors if head.is_ancestor(a)):
                continue  # inside a subordinate clause of the event
            for nxt in tok.doc[tok.i + 1 : min(tok.i + 5, tok.sent.end)]:
                if nxt._.actor_codes:
                    return self._actors_of(nxt, speaker)
                if nxt.pos_ not in ("DET", "ADJ", "VERB", "PROPN", "NUM"):
                    break
        return NONE

    def _location(self, head: Token) -> str:
        nodes = [head, *[c for c in head.children if c.dep_ in ("dobj", "acl")]]
        if head.dep_ in ("dobj", "pobj") and head.head.pos_ in VERBAL:
            nodes.append(head.head)
        for node in nodes:
            for child in node.children:
                if child.dep_ == "prep" and child.lower_ in self.location_preps:
                    for pobj in child.children:
                        if pobj.dep_ != "pobj":
                            continue
                        found = self._actors_of(pobj)
                        for code in found.codes:
                            country = self.actors.country_of(code)
                            if country:
                                return country
        return ""

    # ------------------------------------------------------------------ flags
    def _path(self, head: Token) -> list[Token]:
        """The event word and its governors within its clause: up to the clause that is the
        complement of another verb (ccomp/parataxis), never into the verb of saying."""
        path = [head]
        node = head
        while node.head != node and node.dep_ not in CLAUSE_BOUNDARIES:
            node = node.head
            if node.lemma_ in self.reporting:
                break
            path.append(node)
        return path

    def _negated(self, head: Token) -> bool:
        node = head
        for _ in range(4):
            for child in node.children:
                if child.dep_ == "neg" or (child.lower_ in self.negations and child.dep_ in ("det", "advmod", "preconj")):
                    return True
            if node != head and node.lemma_ in self.negating_heads:
                return True
            if node.lemma_ in self.prevention or node.dep_ in (*CLAUSE_BOUNDARIES, "relcl", "advcl", "ROOT"):
                return False
            if node.head == node:
                return False
            node = node.head
        return False

    def _hypothetical(self, head: Token) -> bool:
        if any(c.lemma_.lower() in self.hypothetical_modifiers for c in head.children if c.dep_ in ("amod", "advmod")):
            return True
        for node in self._path(head):
            if node != head and node.lemma_.lower() in self.hypothetical_heads:
                return True
            for child in node.children:
                if child.dep_ in ("aux", "auxpass") and child.lower_ in self.modals:
                    return True
                if child.dep_ == "mark" and child.lower_ in self.condition_marks:
                    return True
                if child.dep_ == "advcl" and any(
                    m.dep_ == "mark" and m.lower_ in self.condition_marks for m in child.children
                ):
                    return True
        return False

    def _status(self, head: Token) -> str:
        path = self._path(head)
        mods = [c for c in head.children if c.dep_ in ("amod", "advmod", "compound", "npadvmod")]
        if any(m.lemma_.lower() in self.planned_modifiers for m in mods):
            return "planned"
        if head.pos_ in NOMINAL:
            if any(t.lemma_.lower() in self.ongoing for t in head.subtree if t != head):
                return "ongoing"
        elif any(c.lemma_.lower() in self.ongoing for c in head.children if c.dep_ in ("advmod", "acomp")):
            return "ongoing"
        if any(m.lemma_.lower() in self.past_modifiers for m in mods):
            return "past"
        for node in path:
            if any(c.dep_ == "aux" and c.lower_ in self.future for c in node.children):
                return "planned"
            if node != head and node.lemma_.lower() in self.planned_heads:
                return "planned"
            if node != head and node.lemma_.lower() in self.ongoing:
                return "ongoing"
        if any(m.lemma_.lower() in self.past_modifiers for m in mods):
            return "past"
        verb = next((n for n in path if n.pos_ in VERBAL), None)
        if verb is None:
            return "unknown"
        if verb.tag_ in ("VBD", "VBN"):
            return "past"
        if verb.tag_ == "VBG" and any(c.dep_ == "aux" and c.lemma_ == "be" for c in verb.children):
            return "ongoing"
        return "unknown"

    def _reported_by(self, head: Token, sent) -> _Actors:
        for anc in head.ancestors:
            if anc.lemma_ in self.reporting:
                for subj in anc.children:
                    if subj.dep_ in ("nsubj", "nsubjpass"):
                        found = self._actors_of(subj)
                        if found:
                            return found
                        words = [t.text for t in subj.subtree]
                        return _Actors([], " ".join(words))
        for tok in sent:
            if tok.lower_ == "according" and tok.i + 1 < len(tok.doc) and tok.doc[tok.i + 1].lower_ == "to":
                for pobj in tok.doc[tok.i + 1].children:
                    found = self._actors_of(pobj)
                    return found if found else _Actors([], " ".join(t.text for t in pobj.subtree))
        for node in [head, *head.ancestors]:
            for child in node.children:
                if child.lower_ in self.reported_adverbs:
                    return _Actors([], child.lower_)
        return NONE

    def _event_date(self, head: Token, doc_date: dt.date | None) -> dt.date | None:
        if doc_date is None:
            return None
        candidates = list(head.children) + [g for c in head.children if c.dep_ == "prep" for g in c.children]
        for tok in candidates:
            if tok.ent_type_ != "DATE":
                continue
            ent = next((e for e in tok.doc.ents if e.start <= tok.i < e.end), None)
            if ent is None:
                continue
            parsed = _parse_date_phrase(ent.text, doc_date)
            if parsed:
                return parsed
        return doc_date


def _parse_date_phrase(text: str, doc_date: dt.date) -> dt.date | None:
    """'Oct. 25', '25 October', 'Tuesday', 'yesterday' relative to the document date."""
    lower = text.lower()
    if "yesterday" in lower:
        return doc_date - dt.timedelta(days=1)
    for i, day in enumerate(WEEKDAYS):
        if day in lower:
            return doc_date - dt.timedelta(days=(doc_date.weekday() - i) % 7)
    m = MONTH_DAY.search(text)
    if m:
        mon, day = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        month = MONTHS.get(mon.lower()[:3])
        if month:
            try:
                date = dt.date(doc_date.year, month, int(day))
            except ValueError:
                return None
            return date if date <= doc_date else date.replace(year=date.year - 1)
    return None


@Language.factory("escalation_signals", default_config={"signals_path": "", "actors_path": ""})
def make_signal_detector(nlp: Language, name: str, signals_path: str, actors_path: str) -> SignalDetector:
    from engine.paths import ACTORS_FILE, SIGNALS_FILE

    return SignalDetector(nlp, load_signals(signals_path or str(SIGNALS_FILE)),
                          load_actors(actors_path or str(ACTORS_FILE)))
