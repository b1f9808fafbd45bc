"""How a signal's event is told: negated, hypothetical, its status and its date (``SignalFlags``,
mixed into ``engine.nlp.signals.SignalDetector``, whose word lists from ``rules/signals.yaml`` it reads).

- negated: a negation on the event word or its governors within the clause ("did not strike", "no
  troops were deployed"), or a negating head ("denied carrying out the strike");
- hypothetical: a modal ("would strike"), an if/unless clause, "or risk ...", "any attack"; a threat
  that is made is not hypothetical, whatever its content's conditions;
- status: past / ongoing / planned / unknown, from modifiers ("imminent", "recent"), auxiliaries
  ("will") and governing verbs ("preparing", "continued");
- the event date when the text names one ("the strike on Oct. 25", "Tuesday's attack"), else the
  document date.
"""

from __future__ import annotations

import datetime as dt
import re

from spacy.tokens import Doc, Token

VERBAL = ("VERB", "AUX")
NOMINAL = ("NOUN", "PROPN")
CLAUSE_BOUNDARIES = ("ccomp", "parataxis")
MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MONTH_DAY = re.compile(r"\b([A-Za-z]{3})[a-z]*\.?\s+(\d{1,2})\b|\b(\d{1,2})\s+([A-Za-z]{3})[a-z]*\b")


class SignalFlags:
    """Flag readers; the word lists (``negations``, ``modals``, ``reporting`` ...) are the detector's."""

    def _definite(self, head: Token) -> bool:
        for child in head.children:
            if child.dep_ == "det" and child.lower_ in ("the", "that", "this", "such", "those", "these"):
                return True
            if child.dep_ == "poss" and child.ent_type_ in ("DATE", "TIME"):
                return True  # "Monday's attack"
            if child.dep_ == "amod" and child.lower_ == "such":
                return True
        return False

    def _path(self, head: Token, through_subject: bool = False) -> list[Token]:
        """The event word and its governors within its clause: up to the clause that is the
        complement of another verb (ccomp/parataxis), never into the verb of saying. An event noun
        that is a subject stops there unless ``through_subject`` (its tense is still the clause's:
        "our next strike will be crushing" is planned)."""
        path = [head]
        node = head
        if self._subject_event(head) and not through_subject:
            return path
        while node.head != node and node.dep_ not in CLAUSE_BOUNDARIES:
            node = node.head
            if node.lemma_ in self.reporting:
                break
            path.append(node)
        return path

    def _subject_event(self, head: Token) -> bool:
        """'The attack would not go unanswered': the predicate of an event noun that is a subject says
        something about the event; its negation and modals are not the event's (unless the predicate
        carries the event out: 'the strike was not carried out')."""
        return head.pos_ in NOMINAL and head.dep_ in ("nsubj", "nsubjpass") and \
            head.head.lemma_.lower() not in self.carriers and (
                self._definite(head) or any(c.dep_ == "poss" for c in head.children))
        # (a generic one is not told as having happened: "American strikes would be met with a response")

    def _negated(self, head: Token, span=None) -> bool:
        inside = range(span.start, span.end) if span is not None else range(0)
        node = head
        for step in range(4):
            if step == 1 and self._subject_event(head):
                return False
            for child in node.children:
                if child.i in inside:
                    continue  # "will not hesitate to act": the negation is part of the trigger
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

    def _hypothetical(self, head: Token, span=None) -> bool:
        inside = range(span.start, span.end) if span is not None else range(0)
        if any(c.lemma_.lower() in self.hypothetical_modifiers for c in head.children if c.dep_ in ("amod", "advmod", "det")):
            return True
        for node in self._path(head):
            if node != head and node.lemma_.lower() in self.hypothetical_heads:
                return True
            for child in node.children:
                if child.i in inside:
                    continue  # "would respond": the modal is part of the threat's trigger
                if child.dep_ in ("aux", "auxpass") and child.lower_ in self.modals:
                    return True
                if child.dep_ == "mark" and child.lower_ in self.condition_marks:
                    return True
                if child.dep_ == "advcl" and any(
                    m.dep_ == "mark" and m.lower_ in self.condition_marks for m in child.children
                ):
                    return True
        return False

    def _modal(self, head: Token, span) -> bool:
        """A modal ("would", "could") on the event's clause, outside its trigger, in a clause that is
        not a condition or a question ("asked whether Washington would back an attack")."""
        inside = range(span.start, span.end)
        path = self._path(head)
        if any(c.dep_ == "mark" and c.lower_ in self.condition_marks for node in path for c in node.children):
            return False
        return any(c.dep_ in ("aux", "auxpass") and c.lower_ in self.modals and c.i not in inside
                   for node in path for c in node.children)

    def _hypothetical_threat(self, head: Token, span) -> bool:
        inside = range(span.start, span.end)
        if head.lemma_.lower() in self.target_subject or head.lower_ in self.modals:
            return False  # "would pay a heavy price": the modal is the threat's own wording
        if any(node != head and node.lemma_.lower() in self.hypothetical_heads for node in self._path(head)):
            return True
        return any(c.dep_ in ("aux", "auxpass") and c.lower_ in self.modals and c.i not in inside
                   and head.pos_ in VERBAL and head.lemma_.lower() in self.threat_verbs for c in head.children)

    def _status(self, head: Token) -> str:
        path = self._path(head, through_subject=True)
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

    def _named_date(self, head: Token, doc: Doc) -> dt.date | None:
        """The date an event noun names itself by ("the Oct. 7 attack", "Tuesday's strike"), if any."""
        if not any(c.ent_type_ == "DATE" for c in head.children) or doc._.doc_date is None:
            return None
        return self._event_date(head, doc._.doc_date)

    def _failed(self, head: Token) -> bool:
        """The de-escalation word sits in the subject of a verb of failure: what it names failed."""
        node = head
        while node.head != node:
            if node.dep_ in ("nsubj", "nsubjpass") and node.head.lemma_.lower() in self.failures \
                    and node.head.pos_ in VERBAL and not any(c.dep_ == "dobj" for c in node.head.children):
                return True  # (but "the ceasefire ended a year of hostilities": it ended something else)
            if node.dep_ in CLAUSE_BOUNDARIES or (node.pos_ in VERBAL and node.dep_ not in ("acl", "relcl", "amod")):
                return False
            node = node.head
        return False

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
