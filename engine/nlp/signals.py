"""spaCy component ``escalation_signals``: find signals and read their roles and flags from the parse.

For each trigger match (patterns from ``rules/signals.yaml``) the syntactic head of the match is
the event word. From the dependency parse around it we read:

- source: the event's subject (or passive agent, possessor, demonym modifier); if it has none,
  the nearest governing clause's object ("prevent Iranian forces from launching attacks") or
  subject ("Iran is preparing an assault");
- target: its object, passive subject, or a prepositional object ("on/against/to X");
- location: "from X" / "from Iraqi soil" (the launch point);
- reported_by (the subject of the nearest verb of saying, "according to", "reportedly");
- negated, hypothetical, status and the event date: ``engine/nlp/flags.py``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Token

from engine.nlp.actors import TERRITORY_PREPOSITIONS, is_territory_object, mention_at
from engine.nlp.flags import CLAUSE_BOUNDARIES, NOMINAL, VERBAL, SignalFlags
from engine.nlp.lexicon import ActorDictionary, SignalLexicon, load_actors, load_signals

if not Doc.has_extension("signals"):
    Doc.set_extension("signals", default=None)
if not Doc.has_extension("doc_date"):
    Doc.set_extension("doc_date", default=None)
if not Doc.has_extension("trigger_sentences"):  # sentence indices where a trigger matched, kept or not
    Doc.set_extension("trigger_sentences", default=None)

SUBORDINATE = ("xcomp", "ccomp", "advcl", "acl", "relcl", "pcomp")
PLURAL_PRONOUNS = {"they", "them", "their", "theirs"}
FIRST_PERSON = {"we", "us", "our", "i", "me", "my"}
# pronouns that, as subject or possessor inside reported speech, stand for the speaker
SPEAKER_PRONOUNS = frozenset({"it", "its", "we", "our", "us", "he", "his", "she", "her", "i", "my"})
MAX_PAIRS_PER_EVENT = 4
# how many sentences back "the attack" may refer to an attack named with its actors
EVENT_MEMORY = 8
# a noun event under one of these is the act of the clause's subject ("preparing for a joint attack");
# under any other preposition it is a circumstance or a target ("despite warnings", "at any attack")
INTENT_PREPOSITIONS = frozenset({"for", "to", "into", "with"})


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
    source_basis: str
    target_basis: str
    antecedent_sent: int
    negated: bool
    hypothetical: bool
    status: str
    reported_by: str
    location: str
    date: dt.date | None
    event_lemma: str = ""  # the event word's lemma, to tell which earlier event "the strike" refers to


@dataclass
class _Actors:
    codes: list[str]
    text: str = ""
    anaphora: bool = False
    unnamed: bool = False  # the parse names who it is ("the militias") but no actor matches: do not guess
    first_person: bool = False  # "we will strike": the speaker's own plan
    place: bool = False  # a city or region: a target or a launch point, never a source
    basis: str = "parse"  # how it was found: parse | reference | speaker | launch-point | nearest | counterpart | document-pair | earlier-event
    antecedent: int = -1  # sentence index the actor was taken from, when another sentence
    headline: bool = False  # a speaker named before a headline's colon ("Zelensky: ..."): "it" is not theirs

    @property
    def guessed(self) -> bool:
        """Not read from the text: the nearest actor of the sentence, the side faced before, or the pair
        the document is about."""
        return self.basis in ("nearest", "counterpart", "document-pair", "launch-point")

    def found_by(self) -> str:
        if not self.codes:
            return ""
        return "reference" if self.anaphora and self.basis == "parse" else self.basis

    def __bool__(self) -> bool:
        return bool(self.codes)


NONE = _Actors([])


class SignalDetector(SignalFlags):
    def __init__(self, nlp: Language, lexicon: SignalLexicon, actors: ActorDictionary):
        self.lexicon = lexicon
        self.actors = actors
        # Without a tagger and parser (--degraded: spacy.blank) there are no lemmas, parts of speech or
        # dependencies: patterns match word forms, and actors come from the nearest-actor fallback only.
        self.degraded = not any(name in nlp.pipe_names for name in ("tagger", "parser", "morphologizer"))
        corrections = lexicon.context.get("lemma_corrections") or {}
        if corrections and "attribute_ruler" in nlp.pipe_names:
            nlp.get_pipe("attribute_ruler").add_patterns(
                [{"patterns": [[{"LOWER": form.lower()}]], "attrs": {"LEMMA": lemma.lower()}}
                 for form, lemma in corrections.items()])
        self.matcher = Matcher(nlp.vocab)
        # one-word triggers are looked up by lemma or word instead of going through the Matcher, which tries
        # every pattern at every token (the CAMEO lexicon alone has dozens): same matches, a fraction of the time
        self.single_word: dict[tuple[str, str], list[tuple[str, dict]]] = {}
        self.triggers = {t.id: t for t in lexicon.triggers}
        self.order = {t.id: i for i, t in enumerate(lexicon.triggers)}
        # a multi-word trigger is matched only in documents that hold a word its pattern requires (the
        # Matcher tries every pattern at every token, and most patterns cannot match most texts)
        self.anchored: dict[tuple[str, str], list[Matcher]] = {}
        for trigger in lexicon.triggers:
            pattern = _word_form_pattern(trigger.pattern) if self.degraded else trigger.pattern
            lookup = _single_word_lookup(pattern)
            if lookup is None:
                anchor = _required_words(pattern)
                if anchor is None:
                    self.matcher.add(trigger.id, [pattern])
                    continue
                own = Matcher(nlp.vocab)
                own.add(trigger.id, [pattern])
                attr, anchor_words = anchor
                for word in anchor_words:
                    self.anchored.setdefault((attr, word), []).append(own)
                continue
            attr, words, conditions = lookup
            for word in words:
                self.single_word.setdefault((attr, word), []).append((trigger.id, conditions))
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
        self.carriers = w("event_carrier_verbs")
        self.responses = w("response_verbs")
        self.failures = w("failure_verbs")
        self.violations = w("violation_verbs")
        self.target_subject = w("target_subject_lemmas")
        self.needs_party = w("needs_party_lemmas")
        self.reciprocal = w("reciprocal_lemmas")
        self.figurative = w("figurative_modifiers")
        self.threat_verbs = w("threat_verbs")
        self.agreement_nouns = w("agreement_nouns")
        self.thing_nouns = w("event_named_things")
        self.descriptive = w("descriptive_verbs")
        self.endangered = w("endangered_things")
        self.interception = w("interception_verbs")
        self.intercepted = w("intercepted_weapons")
        self.prevention = frozenset({"prevent", "stop", "deter", "halt", "block", "avert"})
        # military role nouns ("soldiers", "jets") that, bare, are the speaking state's own
        self.own_forces = frozenset(w.lower() for w in actors.roles.get("MIL", []) if " " not in w) - {"military", "army"}
        preps = lexicon.context.get("target_prepositions", {})
        self.target_preps = {k: frozenset(v) for k, v in preps.items()}
        self.conf = {"no_source": 0.6, "no_target": 0.8, "reported": 0.9, "via_anaphora": 0.85,
                     "nearest_actor": 0.7}
        self.conf.update(lexicon.confidence)

    # ------------------------------------------------------------------ matching
    def _single_word_matches(self, doc: Doc) -> list[tuple[str, int, int]]:
        found = []
        for tok in doc:
            for key in (("LEMMA", tok.lemma_), ("LOWER", tok.lower_)):
                for trigger_id, conditions in self.single_word.get(key, ()):
                    if all(_holds(tok, attr, cond) for attr, cond in conditions):
                        found.append((trigger_id, tok.i, tok.i + 1))
        return found

    def _pattern_matches(self, doc: Doc) -> list[tuple[str, int, int]]:
        present = {key for tok in doc for key in (("LEMMA", tok.lemma_), ("LOWER", tok.lower_), ("ORTH", tok.text))}
        matchers = {id(m): m for key in present for m in self.anchored.get(key, ())}
        found = list(self.matcher(doc)) if len(self.matcher) else []
        for matcher in matchers.values():
            found.extend(matcher(doc))
        return [(doc.vocab.strings[k], s, e) for k, s, e in found]

    def __call__(self, doc: Doc) -> Doc:
        matches = self._pattern_matches(doc) + self._single_word_matches(doc)
        # analysts' triggers before generated ones, then longer and more confident matches first;
        # a token belongs to at most one trigger
        def rank(m):
            trigger = self.triggers[m[0]]
            return (trigger.origin != "analyst", -(m[2] - m[1]), -trigger.confidence, self.order[trigger.id], m[1])

        matches.sort(key=rank)
        consumed: set[int] = set()
        chosen = []
        for trigger_id, start, end in matches:
            if any(i in consumed for i in range(start, end)):
                continue
            span = doc[start:end]
            if any(doc[i].is_sent_start for i in range(start + 1, end)):
                continue  # a pattern's "any words" stretch does not run into the next sentence
            if mention_at(span.root) is not None:
                continue  # "Popular Mobilization Forces" is an actor, not a mobilisation
            consumed.update(range(start, end))
            chosen.append((self.triggers[trigger_id], span))
        chosen.sort(key=lambda c: c[1].start)
        sent_index = {s.start: i for i, s in enumerate(doc.sents)}
        doc._.trigger_sentences = {sent_index[span.sent.start] for _, span in chosen}
        signals: list[Signal] = []
        by_sentence: dict[int, list] = {}
        for m in doc._.actor_mentions or []:
            by_sentence.setdefault(doc[m.head].sent.start, []).append(m)
        # words of the threats and demands found: what they govern is their content, not a further event
        said = {kind: {i for trigger, span in chosen if trigger.signal == kind for i in range(span.start, span.end)}
                for kind in ("THREATEN", "DEMAND")}
        for trigger, span in chosen:
            signals.extend(self._signals_for(doc, trigger, span, sent_index, signals, by_sentence, said))
        doc._.signals = one_per_event(signals)
        return doc

    def _signals_for(self, doc: Doc, trigger, span, sent_index, previous: list[Signal],
                     mentions_by_sentence: dict[int, list], said: dict[str, set[int]]) -> list[Signal]:
        head = span.root
        sent = span.sent
        speaker = self._reported_by(head, sent)
        signal, cameo, pattern_id = trigger.signal, trigger.cameo, trigger.id
        if any(c.dep_ in ("compound", "amod", "nmod") and c.lower_ in self.figurative for c in head.children):
            return []  # "a price war", "a charm offensive"
        governor = head.head if head.dep_ in ("nsubj", "nsubjpass", "dobj") else None
        if signal == "DEESCALATE" and head.dep_ == "pobj" and head.head.head.lemma_.lower() in self.failures:
            return []  # "violations of the truce", "the collapse of the ceasefire"
        if signal == "DEESCALATE" and head.pos_ in NOMINAL and governor is not None:
            if governor.lemma_.lower() in self.failures:
                return []  # "the truce collapsed": a failed de-escalation is no de-escalation
            if governor.lemma_.lower() in self.violations and head.dep_ == "dobj":
                # "Hezbollah violated the ceasefire": an attack on the other party (CAMEO 196)
                source = self._source(governor, speaker, "ATTACK")
                parties = self._parties(head, speaker)
                target = _Actors([c for c in parties.codes if c not in source.codes], parties.text)
                if source and not target:  # "Hamas accused Israel of violating the ceasefire": Hamas
                    accuser = next((a for a in governor.ancestors if a.lemma_.lower() in self.object_control), None)
                    target = next((self._actors_of(c, speaker) for c in accuser.children if c.dep_ == "nsubj"),
                                  NONE) if accuser is not None else NONE
                if source and not target:
                    source, target = self._counterpart(previous, source, target, sent_index.get(sent.start, 0))
                signal, cameo, pattern_id = "ATTACK", "196", f"{trigger.id}+violated"
                return self._emit(doc, trigger, span, sent, sent_index, governor, speaker, source, target,
                                  signal, cameo, pattern_id)
        if signal == "THREATEN" and head.pos_ in NOMINAL and head.dep_ in ("dobj", "attr", "oprd") \
                and head.head.lemma_.lower() in self.descriptive:
            return []  # "suspects who posed a threat to them", "called the drills a threat": a description
        if signal == "DEESCALATE" and any(a.i in said["DEMAND"] and a.pos_ in VERBAL
                                          for a in self._content_governors(head)):
            return []  # "urged all parties to show restraint": the demand's content, not a de-escalation
        if signal == "DEESCALATE" and any(
                c.dep_ == "prep" and c.lower_ in ("from", "out") and any(
                    g.lemma_.lower() in self.agreement_nouns for g in c.subtree if g.dep_ == "pobj")
                for c in head.children):
            return []  # "withdrew from the nuclear deal": leaving an agreement de-escalates nothing
        if self._thing_name(head):
            return []  # "prisoners of war", "war crimes": a thing named after an event, not the event
        if head.pos_ in NOMINAL and head.dep_ == "pobj" and head.head.lower_ in ("like", "as") \
                and head.head.head.pos_ in VERBAL and head.head.head.lemma_.lower() not in self.descriptive:
            return []  # "we executed it like a military operation": a simile, not an event
        if signal == "DEMAND" and head.pos_ in VERBAL and any(
                c.dep_ in ("dobj", "dative") and c.lemma_.lower() in OWN_PEOPLE for c in head.children):
            return []  # "urged British nationals to leave Lebanon": advice to one's own people, no one is pressed
        if signal == "DEESCALATE" and head.lemma_.lower() == "meet" and any(c.dep_ == "auxpass" for c in head.children):
            return []  # "would be met with a firm response": the threat idiom, not a meeting
        if signal == "DEESCALATE" and self._failed(head):
            return []  # "talks brokered by the United States broke down", "a ceasefire agreed in May collapsed"
        verdict = self._verdict_on(head) if signal == "DEMAND" else None
        if verdict is not None:
            # "the raid amounted to a declaration of war", "the strike was a violation of our sovereignty", the
            # ambassador said: the speaker condemns the one whose act the subject is
            target = self._actors_of(verdict, speaker)
            source = speaker if speaker.codes else self._quote_speaker(head)
            if target and not self._same_side(target, source):
                return self._emit(doc, trigger, span, sent, sent_index, head, speaker, source, target, signal,
                                  cameo, pattern_id)
        subject_word = next((t for t in span if t.lemma_.lower() in self.target_subject), None)
        if signal in ("THREATEN", "DEMAND") and subject_word is not None:
            # "Beirut will pay a heavy price," Gallant said / Russia said Sudan must return it: the speaker
            # threatens or presses the subject
            clause = subject_word.head if subject_word.pos_ == "AUX" else subject_word
            subject = next((c for c in clause.children if c.dep_ in ("nsubj", "nsubjpass")), None)
            target = self._actors_of(subject, speaker) if subject is not None else NONE
            source = speaker if speaker.codes else self._quote_speaker(head)
            if not self._same_side(target, source):  # ("the group's patience has limits": read as usual)
                return self._emit(doc, trigger, span, sent, sent_index, head, speaker, source, target, signal,
                                  cameo, pattern_id)
        if signal == "MOBILIZE" and head.pos_ in VERBAL and any(t.lemma_.lower() in FIRED_WEAPONS for t in span) \
                and any(c.dep_ == "prep" and c.lower_ in ("at", "against") for c in head.children):
            # "sent a squadron of explosive drones at an army post": what is sent at someone is fired at them
            signal, cameo, pattern_id = "ATTACK", "190", f"{trigger.id}+aimed"
        source = self._source(head, speaker, trigger.signal)
        parties = self._parties(head, speaker) if signal == "DEESCALATE" and head.pos_ in NOMINAL else NONE
        if len(parties.codes) >= 2 and any(c.dep_ == "prep" and c.lower_ == "between" for c in head.children):
            # "Oman hosted talks between Iran and the U.S.": the talks are between those two, both ways,
            # and the host takes part as a third party
            host = _Actors([c for c in source.codes if c not in parties.codes], source.text, source.anaphora,
                           basis=source.basis, antecedent=source.antecedent)
            hosted = self._emit(doc, trigger, span, sent, sent_index, head, speaker, host, parties, signal, cameo,
                                pattern_id) if host.codes else []
            hosted = [h for h in hosted if h.source in host.codes]  # the host acts; the parties do not host
            return self._emit(doc, trigger, span, sent, sent_index, head, speaker, parties, NONE, signal, cameo,
                              pattern_id) + hosted
        if signal == "ATTACK" and self._threat_content(head, source, speaker, said["THREATEN"]):
            return []  # "Hezbollah threatened to strike Tel Aviv": one THREATEN, not a second event
        target = self._target(head, trigger.signal, speaker)
        downed = self._intercepted(head) if signal == "ATTACK" else None
        if downed is not None:
            # "Poland downs Russian drones": Russia attacked, Poland was attacked
            source, target = self._actors_of(downed, speaker), source
        for tok in span:
            if not target and tok != head:
                target = self._target(tok, trigger.signal, speaker)  # "vowed to retaliate against Israel"
        if not target and signal in ("DEMAND", "THREATEN"):
            target = self._summarised_act(head, speaker)
        if not target and signal in ("THREATEN", "DEMAND"):
            for child in head.children:  # "threatened to strike Tel Aviv": the target of the threatened act
                if child.dep_ in ("xcomp", "ccomp") and child.pos_ in VERBAL and not target:
                    target = self._target(child, "ATTACK" if signal == "THREATEN" else signal, speaker)
        if signal == "THREATEN" and head.pos_ in VERBAL and head.lemma_.lower() in self.threat_verbs and not target \
                and any(c.dep_ == "dobj" and c.lemma_.lower() in self.endangered for c in head.children):
            return []  # "threatens peace on the peninsula", "the ability to threaten shipping": no one is threatened
        here = sent_index.get(sent.start, 0)
        if source and not target and signal in ("ATTACK", "MOBILIZE", "THREATEN") and head.pos_ in VERBAL \
                and not (len(source.codes) >= 2 and self._mutual(head, signal)):  # "X and Y fought a war": each other
            # "Israeli troops massed on the Lebanese border. They are expected to invade."
            units = {self.actors.unit_of(c) for c in source.codes}
            earlier = next((p for p in reversed(previous) if p.target and here - p.sent_index <= 1
                            and self.actors.unit_of(p.source) in units), None)
            if earlier is not None:
                target = _Actors([earlier.target], earlier.target_text, True, basis="earlier-event",
                                 antecedent=earlier.sent_index)
        if not source and not target and head.pos_ in NOMINAL and self._definite(head):
            # "Monday's attack", "the strike": the last event of this type the document named
            told = [p for p in reversed(previous) if p.signal == signal and p.source and p.target
                    and here - p.sent_index <= EVENT_MEMORY]
            dated = self._named_date(head, doc)
            if dated is not None:  # "the Oct. 7 attack" is the attack of that day, not the last one told
                told = [p for p in told if p.date == dated]
            # "the strike" is the last strike told, else the last event of its type
            earlier = next((p for p in told if p.event_lemma == head.lemma_.lower()), told[0] if told else None)
            if earlier is not None:
                source = _Actors([earlier.source], earlier.source_text, True, basis="earlier-event",
                                 antecedent=earlier.sent_index)
                target = _Actors([earlier.target], earlier.target_text, True, basis="earlier-event",
                                 antecedent=earlier.sent_index)
        if not source and not target and head.pos_ in NOMINAL and head.lemma_.lower() in self.reciprocal:
            # "A ceasefire reached after four days of fighting has largely held": the pair the document
            # is about, both ways
            source = self._document_pair(previous, here)
        if signal == "DEESCALATE" and head.lemma_.lower() in self.needs_party and head.pos_ in VERBAL and not target \
                and len(source.codes) < 2 and not any(c.dep_ == "prep" and c.lower_ in ("with", "between")
                                                      for c in head.children):
            return []  # "the security cabinet met", "not authorised to speak to the press"
        if signal == "THREATEN" and not source and head.lemma_.lower() not in self.threat_verbs:
            # "Tehran said the attack would not go unanswered": the one who says it threatens; in a quote
            # that names no one ("Any misadventure will be met with a decisive response"), its speaker
            said_by = speaker if speaker.codes else (self._quote_speaker(head) if _in_quote(sent) else NONE)
            if said_by.codes:
                source = _Actors(said_by.codes, said_by.text, basis="speaker")
        if signal == "ATTACK" and not source and not source.unnamed:
            source = self._from_launch_point(head, previous)  # "six soldiers died in attacks from Lebanon"
        if not source or not target:
            source, target = self._nearest_actors(span, mentions_by_sentence.get(sent.start, []), speaker,
                                                  source, target, signal)
        if trigger.origin != "analyst" and not source and not target:
            return []  # a bare CAMEO verb with no actor at all ("did not surrender", "settled the match")
        if signal == "THREATEN" and head.pos_ in NOMINAL and not source and not target:
            return []  # "the sharpest threat yet", "a warning shot across the bows": a threat by no one to no one
        if bool(source) != bool(target) and not (source.unnamed or target.unnamed) and len(source.codes) < 2 \
                and not self._retold(head, signal, source, previous):
            source, target = self._counterpart(previous, source, target, here)
        return self._emit(doc, trigger, span, sent, sent_index, head, speaker, source, target, signal, cameo,
                          pattern_id)

    def _nearest_actors(self, span, sentence_mentions: list, speaker: _Actors, source: _Actors, target: _Actors,
                        signal: str):
        """When the parse gives no source or no target, take the nearest actor named before the trigger
        as source and the nearest after it as target, never the speaker of reported speech nor a launch
        point ("from Iraqi soil"). Marked ``nearest`` (lower confidence) so evidence says so."""
        # who speaks about the event or reacts to it ("Iran condemned the strike", "South Korea's Joint
        # Chiefs of Staff said") did not act in it
        bystanders = {t.i for a in span.root.ancestors if a.lemma_.lower() in self.responses | self.reporting
                      for c in a.children if c.dep_ in ("nsubj", "nsubjpass") for t in c.subtree}
        bystanders |= {t.i for verb in span.sent if verb.lemma_ in self.reporting and verb.pos_ in VERBAL
                       and not any(a == verb for a in span.root.ancestors) and verb != span.root
                       for c in verb.children if c.dep_ in ("nsubj", "nsubjpass") for t in c.subtree}
        mentions = []
        for m in sentence_mentions:
            if span.start <= m.head < span.end:
                continue
            tok = span.doc[m.head]
            if m.code in speaker.codes or (tok.dep_ == "pobj" and tok.head.lower_ in self.location_preps):
                continue
            if tok.i in bystanders or (tok.dep_ in ("nsubj", "nsubjpass") and tok.head.lemma_ in self.reporting):
                continue  # the subject of a verb of saying speaks; it does not act
            mentions.append(m)
        head = span.root
        if head.pos_ in NOMINAL and head.dep_ in ("nsubj", "nsubjpass"):
            # "the strike has led Iran to ...": the predicate's actors are not the strike's
            own = {t.i for t in head.subtree}
            mentions = [m for m in mentions if m.head in own]

        def units(codes):
            return {self.actors.unit_of(c) for c in codes}

        passive = head.pos_ in VERBAL and any(c.dep_ in ("nsubjpass", "auxpass") for c in head.children)
        if not source and not source.unnamed and not passive:  # before a passive verb stands what was hit
            before = [m for m in mentions if m.end <= span.start and m.via != "place"
                      and not _where(span.doc[m.head])
                      and self.actors.unit_of(m.code) not in units(target.codes)]
            if before:
                source = _Actors([before[-1].code], before[-1].text, True, basis="nearest")
        if not target and not target.unnamed and len(source.codes) < 2:  # two sources: a reciprocal event
            after = [m for m in mentions if m.start >= span.end and self.actors.unit_of(m.code) not in units(source.codes)
                     and (signal in ("ATTACK", "MOBILIZE") or not self._venue(span.doc[m.head]))]
            if after:
                target = _Actors([after[0].code], after[0].text, True, basis="nearest")
        return source, target

    def _document_pair(self, previous: list[Signal], here: int) -> _Actors:
        """The two units the document has told most events between so far (both named), as one
        reciprocal party; nothing when no pair stands out."""
        count: dict[frozenset, int] = {}
        latest: dict[frozenset, tuple[str, str, int]] = {}
        for p in previous:
            if p.source and p.target and p.sent_index < here:
                pair = frozenset((self.actors.unit_of(p.source), self.actors.unit_of(p.target)))
                if len(pair) == 2:
                    count[pair] = count.get(pair, 0) + 1
                    latest[pair] = (p.source, p.target, p.sent_index)
        if not count:
            return NONE
        ranked = sorted(count.values(), reverse=True)
        best = max(count, key=lambda k: (count[k], latest[k][2]))
        if len(ranked) > 1 and ranked[0] == ranked[1]:
            return NONE  # two pairs told as often: no telling which one is meant
        source, target, where = latest[best]
        return _Actors([source, target], "", True, basis="document-pair", antecedent=where)

    @staticmethod
    def _clause_of(tok: Token) -> int:
        """The index of the verb heading the clause a word belongs to (the sentence root at the latest)."""
        node = tok
        while node.head != node:
            if node.dep_ in SUBORDINATE or node.dep_ in CLAUSE_BOUNDARIES or node.dep_ == "conj" and node.pos_ in VERBAL:
                return node.i
            node = node.head
        return node.i

    def _counterpart(self, previous: list[Signal], source: _Actors, target: _Actors,
                     here: int) -> tuple[_Actors, _Actors]:
        """One side known, the other not named in the sentence ("Pakistan remained committed to the
        ceasefire"): the side the known actor has most often faced in this document so far."""
        known = source or target
        unit = self.actors.unit_of(known.codes[0])
        faced: dict[str, int] = {}
        latest: dict[str, str] = {}
        where: dict[str, int] = {}
        for p in previous:
            if not (p.source and p.target) or p.sent_index == here:
                continue  # what this sentence already says is no earlier context ("Iran condemned the strike")
            for mine, other in ((p.source, p.target), (p.target, p.source)):
                if self.actors.unit_of(mine) == unit:
                    other_unit = self.actors.unit_of(other)
                    faced[other_unit] = faced.get(other_unit, 0) + 1
                    latest[other_unit] = other
                    where[other_unit] = p.sent_index
        if not faced:
            return source, target
        best = max(faced, key=lambda u: (faced[u], list(latest).index(u)))
        other = _Actors([latest[best]], "", True, basis="counterpart", antecedent=where[best])
        return (source, other) if source else (other, target)

    def _from_launch_point(self, head: Token, previous: list[Signal]) -> _Actors:
        """An attack with no attacker named but launched "from" a country: the armed group of that
        country the document has told of most recently, else the country itself."""
        country = self._location(head)
        if not country:
            return NONE
        for p in reversed(previous):
            for code in (p.source, p.target):
                if code and code != country and self.actors.country_of(code) == country \
                        and not self.actors.is_state(code) and self.actors.unit_of(code) == code:
                    return _Actors([code], "", True, basis="launch-point", antecedent=p.sent_index)
        return _Actors([country], "", True, basis="launch-point")

    def _intercepted(self, head: Token) -> Token | None:
        """The weapon a verb of interception downs ("shot down three drones", "intercepted missiles")."""
        if head.pos_ not in VERBAL or head.lemma_.lower() not in self.interception:
            return None
        if head.lemma_.lower() == "shoot" and not any(c.lower_ == "down" for c in head.children):
            return None
        return next((c for c in head.children if c.dep_ in ("dobj", "nsubjpass")
                     and c.lemma_.lower() in self.intercepted), None)

    @staticmethod
    def _content_governors(head: Token) -> list[Token]:
        """The words whose content the event is: up through complements and objects, not out of a
        relative clause or a subject ("Oman, which has mediated ..., called for restraint")."""
        out, node = [], head
        while node.head != node and node.dep_ not in ("relcl", "nsubj", "nsubjpass", "appos", "csubj"):
            if node.dep_ == "advcl" and not any(c.dep_ == "aux" and c.lower_ == "to" for c in node.children):
                break  # "called on Washington to lift ..." is the call's content; "..., as X agreed" is not
            node = node.head
            out.append(node)
        return out

    def _thing_name(self, head: Token) -> bool:
        if head.dep_ == "compound" and head.head.lemma_.lower() in self.thing_nouns:
            return True  # "war crimes", "war cabinet"
        return head.dep_ == "pobj" and head.head.lower_ == "of" and head.head.head.lemma_.lower() in self.thing_nouns

    def _threat_content(self, head: Token, source: _Actors, speaker: _Actors, threat_words: set[int]) -> bool:
        """Is the event what a threat announces ("threatened to strike", "warned it would attack",
        "threatened a ground operation") by the one who threatens? "Iran warned that Israel would
        attack" is not: another actor would act; nor is "Qatar pledged to expel ...", which no threat
        trigger reads as a threat."""
        node = head
        for _ in range(4):
            if node.dep_ not in ("xcomp", "ccomp", "dobj", "conj", "aux") or node.head == node:
                return False
            parent = node.head
            if node.dep_ != "conj" and parent.pos_ in VERBAL and parent.lemma_.lower() in self.threat_verbs \
                    and parent.i in threat_words:
                if not source or source.first_person:
                    return True
                threatener = next((self._actors_of(c, speaker) for c in parent.children if c.dep_ == "nsubj"), NONE)
                return self._same_side(threatener, source)
            node = parent
        return False

    @staticmethod
    def _venue(tok: Token) -> bool:
        """'talks in Baghdad', 'met at Doha': where something happens, not a party to it."""
        return tok.dep_ == "pobj" and tok.head.lower_ in ("in", "at", "near", "inside")

    def _retold(self, head: Token, signal: str, source: _Actors, previous: list[Signal]) -> bool:
        """'the Israeli strike on Oct. 25' after 'Israel struck Iran': an event told before, by the same
        side; its other side is not guessed a second time."""
        if not (head.pos_ in NOMINAL and self._definite(head) and source):
            return False
        units = {self.actors.unit_of(c) for c in source.codes}
        return any(p.signal == signal and self.actors.unit_of(p.source) in units for p in previous)

    def _parties(self, head: Token, speaker: _Actors) -> _Actors:
        """The sides of a ceasefire or agreement: "between X and Y", "with X"."""
        for child in head.children:
            if child.dep_ == "prep" and child.lower_ in ("between", "with"):
                for pobj in child.children:
                    if pobj.dep_ == "pobj":
                        return self._actors_of(pobj, speaker)
        return NONE

    def _emit(self, doc, trigger, span, sent, sent_index, head, speaker, source, target, signal, cameo,
              pattern_id) -> list[Signal]:
        """Flags, confidence and one Signal per (source, target); ``head`` is the word flags are read from."""
        status = self._status(head)
        # A planned attack announced by the attacker itself is a threat (CAMEO 138): "we will strike",
        # "Israel said it would launch an assault" (reported speech shifts "will" to "would"), and
        # "Gallant said Hezbollah would be hit hard" (the speaker is the unnamed attacker).
        speaker_units = {self.actors.unit_of(c) for c in speaker.codes}
        announced = status == "planned" or (speaker.codes and self._modal(head, span))
        if signal == "ATTACK" and announced and not source and target and speaker.codes \
                and any(c.dep_ == "nsubjpass" for c in head.children) and not speaker_units & {
                    self.actors.unit_of(c) for c in target.codes}:
            source = _Actors(speaker.codes, speaker.text, basis="speaker")
            signal, cameo, pattern_id = "THREATEN", "138", f"{trigger.id}+stated-intent"
        elif signal == "ATTACK" and announced and (
                source.first_person or speaker_units & {self.actors.unit_of(c) for c in source.codes}):
            signal, cameo, pattern_id = "THREATEN", "138", f"{trigger.id}+stated-intent"
        if signal == "THREATEN" and head.lemma_.lower() in ("retaliate", "avenge") and status == "past":
            signal, cameo, pattern_id = "ATTACK", "190", f"{trigger.id}+carried-out"  # "Pakistan retaliated with strikes"
        negated = self._negated(head, span)
        # a threat that is made is not hypothetical, whatever its content's conditions ("would pay a
        # heavy price if ..."), nor a pledge of restraint ("Armenia would not respond to provocations", the
        # minister said: the "would" is reported speech); only one that might be made is ("Iran could threaten")
        pledge = signal == "DEESCALATE" and any(t.lower_ in ("not", "n't", "never", "no") for t in span)
        hypothetical = self._hypothetical_threat(head, span) if signal == "THREATEN" or pledge \
            else self._hypothetical(head, span)
        location = self._location(head)
        date = self._event_date(head, doc._.doc_date)
        confidence = trigger.confidence
        confidence *= 1.0 if source else self.conf["no_source"]
        confidence *= 1.0 if target else self.conf["no_target"]
        confidence *= self.conf["reported"] if speaker.text else 1.0
        confidence *= self.conf["via_anaphora"] if (source.anaphora or target.anaphora) else 1.0
        confidence *= self.conf["nearest_actor"] if (source.guessed or target.guessed) else 1.0
        reported_by = ";".join(speaker.codes) if speaker.codes else speaker.text

        if not source and len(target.codes) >= 2 and any(
                c.dep_ == "prep" and c.lower_ == "between" for c in head.children):
            source = target  # "talks between Baghdad and Washington": both sides act
            target = NONE
        if not target and len(source.codes) >= 2 and self._mutual(head, signal):
            # "Iraq and the United States held talks": a reciprocal event, coded in both directions
            # (but "South Korea and the United States staged drills": allies acting together, no target)
            pairs = [(a, b) for a in source.codes for b in source.codes if a != b]
            return [self._signal(trigger, span, sent, sent_index, a, b, source, source, signal, cameo, pattern_id,
                                 negated, hypothetical, status, reported_by, location, date, confidence)
                    for a, b in pairs[:MAX_PAIRS_PER_EVENT]]
        out = []
        for src in (source.codes or [""])[:MAX_PAIRS_PER_EVENT]:
            for tgt in (target.codes or [""])[:MAX_PAIRS_PER_EVENT]:
                home = self.actors.country_of(src) == tgt and (
                    target.place or target.guessed or target.basis == "earlier-event")
                if tgt and (tgt == src or home or self.actors.unit_of(src) == self.actors.unit_of(tgt)):
                    tgt = ""  # a state acting on its own country or its own organs is not a dyad, nor an armed
                    # group on its home ground ("a Houthi missile struck a ship off the Yemeni port"); an armed
                    # group acting on its own state named as such is ("M23 accused Kinshasa")
                out.append(self._signal(trigger, span, sent, sent_index, src, tgt, source, target, signal, cameo,
                                        pattern_id, negated, hypothetical, status, reported_by, location, date,
                                        confidence))
        if head.lemma_.lower() in self.reciprocal and "counterpart" not in (source.basis, target.basis) \
                and signal in ("DEESCALATE", "ATTACK"):  # ("would meet the same fate": a threat goes one way)
            # (but "Pakistan remained committed to the ceasefire", the other side guessed: Pakistan's act only)
            # "held talks with Iran", "clashes with Hezbollah": both sides act, one signal each way
            out += [self._signal(trigger, span, sent, sent_index, s.target, s.source, target, source, signal, cameo,
                                 pattern_id, negated, hypothetical, status, reported_by, location, date, confidence)
                    for s in list(out) if s.source and s.target]
        unique = {(s.source, s.target): s for s in out}
        return list(unique.values())

    def _same_side(self, a: _Actors, b: _Actors) -> bool:
        """Do the two share a unit (a state with its organs, or the same armed group)?"""
        return bool({self.actors.unit_of(c) for c in a.codes} & {self.actors.unit_of(c) for c in b.codes})

    def _mutual(self, head: Token, signal: str) -> bool:
        """An event two subjects do to each other: talks, truces, clashes, "fought each other"."""
        return signal in ("DEESCALATE", "DEMAND") or head.lemma_.lower() in self.reciprocal or (
            head.dep_ == "dobj" and head.head.lemma_.lower() in self.reciprocal) or (  # "traded fire"
            head.lemma_.lower() in ("fight", "battle")) or any(
            t.lower_ in ("each", "one") and t.nbor(1).lower_ in ("other", "another")
            for t in head.sent if t.i + 1 < len(t.doc))

    @staticmethod
    def _signal(trigger, span, sent, sent_index, src, tgt, source, target, signal, cameo, pattern_id, negated,
                hypothetical, status, reported_by, location, date, confidence) -> Signal:
        return Signal(
            signal=signal, cameo=cameo, intensity=trigger.intensity, confidence=round(confidence, 4),
            pattern_id=pattern_id, trigger=span.text, start_char=span.start_char, end_char=span.end_char,
            sent_index=sent_index.get(sent.start, 0), sent_start=sent.start_char, sent_end=sent.end_char,
            sentence=sent.text, source=src, target=tgt, source_text=source.text if src else "",
            target_text=target.text if tgt else "", source_basis=source.found_by() if src else "",
            target_basis=target.found_by() if tgt else "",
            antecedent_sent=max(source.antecedent if src else -1, target.antecedent if tgt else -1),
            negated=negated, hypothetical=hypothetical, status=status, reported_by=reported_by,
            location=location, date=date, event_lemma=span.root.lemma_.lower(),
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
        if (tok.lower_ in SPEAKER_PRONOUNS and tok.dep_ in ("nsubj", "nsubjpass", "poss") and speaker
                and speaker.codes and not speaker.headline):
            # "The army said its jets had struck ...": the speaker's own pronoun
            return _Actors(speaker.codes, tok.text, True)
        if tok.lower_ in PLURAL_PRONOUNS:
            found = self._plural_antecedent(tok, speaker, depth)  # "factions that say they will attack"
            if found:
                return found
        codes = tok._.actor_codes
        m = mention_at(tok) if codes else None
        if speaker and speaker.codes and (m is None or m.via in ("anaphora", "reference")) and any(
                c.dep_ == "poss" and c.lower_ in SPEAKER_PRONOUNS for c in tok.children):
            return _Actors(speaker.codes, tok.text, True)  # "the army said its jets struck"
        if codes:
            referred = bool(m and m.via in ("anaphora", "reference"))
            return _Actors(codes, m.text if m else tok.text, referred, basis="reference" if referred else "parse",
                           antecedent=m.antecedent_sent if referred else -1, place=bool(m and m.via == "place"))
        own = self._speakers_own_forces(tok, speaker)
        if own:
            return own
        if depth > 2:
            return NONE
        lower = tok.lower_
        if lower in FIRST_PERSON:
            if speaker and speaker.codes:
                return _Actors(speaker.codes, tok.text, True, first_person=True)
            quoted = self._quote_speaker(tok)
            if quoted:
                return _Actors(quoted.codes, quoted.text, True, first_person=True)
        if tok.tag_ in ("WDT", "WP") and tok.head.dep_ == "relcl":
            antecedent = tok.head.head
            found = self._actors_of(antecedent, speaker, depth + 1)
            if not found and antecedent.dep_ == "dobj" and tok.dep_ == "dobj":
                # "staged a joint drill, which the North condemned": the drill is of those who staged it
                subject = next((c for c in antecedent.head.children if c.dep_ == "nsubj"), None)
                found = self._actors_of(subject, speaker, depth + 1) if subject is not None else NONE
            return found
        for child in tok.children:
            if child.dep_ in ("amod", "compound") and child.lower_ in ("flagged", "-flagged"):
                # "the Malta-flagged bulk carrier": a ship is its flag state's
                for flag in child.children:
                    if flag._.actor_codes:
                        return self._actors_of(flag, speaker, depth + 1)
        # "an official from an Iraqi militia", "Iraqi soil", "Israel's leaders"
        for child in tok.children:
            if child.dep_ in ("compound", "amod", "nmod", "poss"):
                found = self._actors_of(child, speaker, depth + 1)
                if found:
                    return _Actors(found.codes, found.text, found.anaphora, place=found.place)
        for child in tok.children:
            if child.dep_ == "acl":  # "a drone launched by Iran-backed militants"
                for agent in child.children:
                    if agent.dep_ == "agent":
                        for pobj in agent.children:
                            found = self._actors_of(pobj, speaker, depth + 1)
                            if found:
                                return found
        for child in tok.children:
            # "officials from Iraq", "towns in Israel's Upper Galilee"
            if child.dep_ == "prep" and child.lower_ in ("of", "from", "in"):
                for pobj in child.children:
                    if pobj.dep_ == "pobj":
                        found = self._actors_of(pobj, speaker, depth + 1)
                        if found:
                            return found
        return NONE

    def _speakers_own_forces(self, tok: Token, speaker: _Actors | None) -> _Actors:
        """'Fighter jets struck the launch site, the Israeli military says', 'the army said soldiers killed two
        gunmen': a bare military noun in the statement of a state's organ is that state's military."""
        if not (speaker and speaker.codes) or tok.dep_ not in ("nsubj", "nsubjpass") or tok.lower_ not in self.own_forces \
                or any(c.dep_ in ("det", "poss") or c._.actor_codes for c in tok.children):
            return NONE
        state = self.actors.country_of(speaker.codes[0])
        if not state or not self.actors.is_state(state) or self.actors.unit_of(speaker.codes[0]) != state:
            return NONE  # an armed group's statement: its fighters are not a state's army
        code = self.actors.role_code(state, "MIL")
        return _Actors([code], tok.text, True, basis="speaker") if self.actors.get(code) else NONE

    def _quote_speaker(self, tok: Token) -> _Actors:
        """'"... we will strike Tel Aviv." Qassem said.': a quote's speaker is the subject of the nearest
        verb of saying in the same or a neighbouring sentence, the following one first."""
        sents = list(tok.doc.sents)
        here = next(k for k, s in enumerate(sents) if s.start <= tok.i < s.end)
        for k in (here, here + 1, here - 1, here + 2):
            if not 0 <= k < len(sents):
                continue
            for verb in sents[k]:
                if verb.lemma_ not in self.reporting or verb.pos_ not in VERBAL:
                    continue
                for subj in verb.children:
                    if subj.dep_ == "nsubj" and subj.lower_ not in FIRST_PERSON:
                        found = self._actors_of(subj, None, 2)
                        if found:
                            return _Actors(found.codes, found.text, True)
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
        found = self._source_actors(head, speaker, signal)
        return NONE if found.place else found  # "Basra was hit": a place is hit, it does not act

    def _source_actors(self, head: Token, speaker: _Actors, signal: str = "") -> _Actors:
        found = self._own_source(head, speaker, signal)
        if found or head.pos_ not in NOMINAL:
            return found
        quantity = _quantity_head(head)
        if quantity is not None:
            return self._source(quantity, speaker, signal)  # "carried out hundreds of strikes"
        verb = head.head
        if head.dep_ in ("dobj", "nsubjpass") and verb.pos_ in VERBAL and verb.lemma_.lower() not in self.carriers:
            return NONE  # "Iran condemned the strike": the subject did not strike
        if head.dep_ == "pobj" and verb.dep_ == "prep" and verb.lower_ in ("to", "for") \
                and verb.head.lemma_.lower() in self.responses:
            return NONE  # "Washington responded to the attack"
        if head.dep_ == "pobj" and verb.dep_ == "prep" and verb.lower_ in ("to", "on") \
                and verb.head.pos_ in VERBAL and verb.head.lemma_.lower() in self.carriers:
            return self._source(verb.head, speaker, signal)  # "X and Y agreed to a truce", "agreed on a deal"
        return self._governing_source(head, speaker)

    def _own_source(self, head: Token, speaker: _Actors, signal: str) -> _Actors:
        """The event word's own subject, agent, possessor or modifier."""
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
                if child.dep_ == "poss" and child.ent_type_ not in ("DATE", "TIME"):
                    return self._actors_of(child, speaker)  # ("Tuesday's barrage by Iran": read on)
            for child in head.children:
                if child.dep_ in ("compound", "amod", "nmod"):
                    found = self._actors_of(child, speaker)
                    if found:
                        return found
            for child in head.children:
                if child.dep_ == "prep" and child.lower_ == "by":
                    for pobj in child.children:
                        return self._actors_of(pobj, speaker)
            for child in head.children:
                # "a strike on its embassy, widely attributed to Israel", "an attack blamed on the militia"
                if child.dep_ == "acl" and child.lemma_.lower() in ("attribute", "blame", "claim", "credit"):
                    for prep in child.children:
                        if prep.dep_ in ("prep", "agent") and prep.lower_ in ("to", "on", "by"):
                            found = next((self._actors_of(p, speaker) for p in prep.children if p.dep_ == "pobj"), NONE)
                            if found:
                                return found
        if head.dep_ == "conj" and head.head.pos_ in NOMINAL and head.pos_ in NOMINAL:
            return self._source(head.head, speaker)  # "U.S. warnings and calls": calls share the source
        if head.pos_ in NOMINAL:
            return NONE
        if head.dep_ == "acl" and head.tag_ == "VBN":
            # "Iran responded with hundreds of missiles fired at Israeli cities": who fired them is who
            # used them
            weapon = head.head
            while weapon.dep_ == "pobj" and weapon.head.lower_ == "of" and weapon.head.head.pos_ in NOMINAL:
                weapon = weapon.head.head
            user = weapon.head.head if weapon.dep_ == "pobj" and weapon.head.lower_ == "with" else (
                weapon.head if weapon.dep_ == "dobj" else None)
            if user is not None and user.pos_ in VERBAL:
                subject = next((c for c in user.children if c.dep_ == "nsubj"), None)
                if subject is not None:
                    return self._actors_of(subject, speaker)
        return self._governing_source(head, speaker)

    def _governing_source(self, head: Token, speaker: _Actors) -> _Actors:
        """The actor of the clause that governs the event word ("Iran is preparing an assault")."""
        child, node = head, head.head
        clausal = head.pos_ in VERBAL or head.pos_ == "ADJ"
        for _ in range(6):
            if node == child:
                return NONE
            if child.dep_ == "conj" and node.pos_ in VERBAL:
                for subj in node.children:  # "Tehran said ... and vowed to respond": shared subject
                    if subj.dep_ in ("nsubj", "csubj"):
                        return self._actors_of(subj, speaker)
            if child.dep_ in CLAUSE_BOUNDARIES or (node.lemma_ in self.reporting and not (
                    child.dep_ == "dobj" and node.lemma_.lower() in self.carriers)):
                return NONE  # (but "China announced drills": the drills are China's)
            if node.dep_ == "prep" and child.dep_ == "pobj" and (
                node.head.pos_ in NOMINAL or node.lower_ not in INTENT_PREPOSITIONS
            ):
                # "a launch point for strikes", "despite warnings", "hit back at any attack":
                # the noun is a circumstance or a target, not the act of the clause's subject; under a
                # noun ("a launch point for strikes") its actor is that noun's business: no guessing
                return _Actors([], "", unnamed=node.head.pos_ in NOMINAL)
            if child.dep_ in ("amod", "acl", "appos") and node.pos_ in NOMINAL:
                found = self._actors_of(node, speaker)
                if found:
                    return found
                if child.dep_ == "acl":
                    return _Actors([], node.text, unnamed=True)  # "groups involved in assaults": the groups
            if child.dep_ in ("xcomp", "pcomp", "advcl", "ccomp"):
                clausal = True
            if clausal and child.dep_ in ("xcomp", "prep", "advcl", "ccomp") and node.pos_ in VERBAL:
                for obj in node.children:
                    if obj.dep_ in ("dobj", "dative") and obj != child:
                        found = self._actors_of(obj, speaker)
                        if found:
                            return found
                        if node.lemma_.lower() in self.object_control:
                            # "stop X from attacking": X acts, even when we cannot name X
                            return _Actors([], obj.text, unnamed=True)
            for subj in node.children:
                if subj.dep_ in ("nsubj", "csubj") or (subj.dep_ == "nsubjpass" and child.dep_ == "xcomp"):
                    # "They are expected to invade": the raised subject acts
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
                if signal == "MOBILIZE" and child.dep_ in ("dobj", "nsubjpass") and not (
                        child.dep_ == "dobj" and any(c.dep_ == "prep" and c.lower_ == "with" for c in head.children)):
                    continue  # what is deployed is the source's own, not the target ("supplied the RSF with
                    # weapons": there the object is who receives)
                if signal == "DEMAND" and child.dep_ == "ccomp":
                    for subj in child.children:  # "demanded that Israel halt its offensive"
                        if subj.dep_ == "nsubj" and self._actors_of(subj, speaker):
                            return self._actors_of(subj, speaker)
                if child.dep_ in ("dobj", "nsubjpass", "dative"):
                    found = self._actors_of(child, speaker)
                    if found and not self._owned_by_subject(child, found, head, speaker):
                        return found
                    objects.append(child)
                    objects.extend(child.conjuncts)
        nodes = [head, *objects]
        if head.pos_ in NOMINAL and head.dep_ == "dobj" and head.head.pos_ in VERBAL \
                and head.head.lemma_.lower() in self.carriers:
            nodes.append(head.head)  # "issued a warning to Iraq", "launched strikes on Gaza"
        for node in nodes:
            for child in node.children:
                if child.dep_ == "prep" and child.lower_ in preps:
                    for pobj in child.children:
                        if pobj.dep_ == "pobj":
                            found = self._across_border(pobj, speaker) or self._actors_of(pobj, speaker)
                            if found:
                                return found
        return self._target_by_surface(head, preps, speaker)

    def _summarised_act(self, head: Token, speaker: _Actors) -> _Actors:
        """'The United States stationed missiles in Luzon, a move Beijing condemned': the one whose act the
        appended noun sums up (the subject of the clause before the comma) is the target."""
        if head.dep_ != "relcl" or any(c.dep_ in ("dobj", "nsubjpass") for c in head.children):
            return NONE
        summary = head.head
        before = summary.left_edge.i - 1
        if summary.dep_ not in ("npadvmod", "appos", "dobj") or before < 0 or summary.doc[before].text != "," \
                or summary._.actor_codes or summary.head.pos_ not in VERBAL:
            return NONE
        subject = next((c for c in summary.head.children if c.dep_ in ("nsubj", "nsubjpass")), None)
        return self._actors_of(subject, speaker) if subject is not None else NONE

    @staticmethod
    def _verdict_on(head: Token) -> Token | None:
        """The subject judged by a verdict noun ("[the raid] amounted to a declaration of war", "[the
        strike] was a violation"), when the noun is the complement of a copular verb."""
        if head.pos_ not in NOMINAL:
            return None
        verb = head.head.head if head.dep_ == "pobj" else head.head if head.dep_ in ("attr", "dobj") else None
        if verb is None or verb.lemma_.lower() not in VERDICT_VERBS:
            return None
        return next((c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")), None)

    def _across_border(self, tok: Token, speaker: _Actors) -> _Actors:
        """'to its southern border with Ukraine': the country on the other side of a border."""
        if tok.lemma_.lower() not in self.territory and tok.lemma_.lower() not in ("frontier", "boundary"):
            return NONE
        for child in tok.children:
            if child.dep_ == "prep" and child.lower_ == "with":
                for pobj in child.children:
                    if pobj.dep_ == "pobj":
                        return self._actors_of(pobj, speaker)
        return NONE

    def _owned_by_subject(self, obj: Token, found: _Actors, verb: Token, speaker: _Actors) -> bool:
        """'Japan conveyed its concern to China': the object is the subject's own thing (named only by
        a possessive), so the target is further on."""
        if obj._.actor_codes or not any(c.dep_ == "poss" for c in obj.children):
            return False
        subject = next((c for c in verb.children if c.dep_ == "nsubj"), None)
        owner = self._actors_of(subject, speaker) if subject is not None else NONE
        return self._same_side(found, owner)

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
        colon = next((t for t in sent[:HEADLINE_SPEAKER_TOKENS] if t.text == ":"), None)
        if colon is not None and colon.i < head.i:
            # a headline's "Zelensky: Russia will get an answer": the name before the colon speaks
            named = [t for t in sent.doc[sent.start:colon.i] if t._.actor_codes]
            # ("DR Congo: M23 accuses ...": a country before the colon says where, not who speaks)
            if named and not all(self.actors.is_state(c) for c in named[-1]._.actor_codes):
                found = self._actors_of(named[-1])
                # its "it" is not the speaker's own ("Zelensky: Russia will get an answer every time it hits")
                return _Actors(found.codes, found.text, headline=True)
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


PARSE_ATTRS = ("POS", "TAG", "DEP", "MORPH", "ENT_TYPE")
TOKEN_ATTRS = {"POS": "pos_", "TAG": "tag_", "DEP": "dep_", "LEMMA": "lemma_", "LOWER": "lower_"}


QUOTES = ('"', "“", "”")
# "[the raid] amounted to / was / constituted a declaration of war": the verdict's subject is judged
VERDICT_VERBS = frozenset({"be", "amount", "constitute", "represent"})
# weapons that are fired: sent "at" someone they are an attack, not a deployment
FIRED_WEAPONS = frozenset({"drone", "missile", "rocket", "shell", "projectile", "munition", "bomb", "mortar"})
# "urged its nationals / citizens to leave": a travel advisory, not a demand on another actor
OWN_PEOPLE = frozenset({"national", "citizen", "expatriate", "traveller", "traveler"})
# "Zelensky: ...", "Iran's foreign minister: ...": a speaker named before a colon this close to the start
HEADLINE_SPEAKER_TOKENS = 6


# a name after one of these says where something happened, not who took part ("a news conference in
# Kyiv", "carrying crude to Singapore", "the Bahrain-based 5th Fleet")
WHERE_PREPOSITIONS = TERRITORY_PREPOSITIONS | {"at", "off", "outside", "via", "through"}


def _where(tok: Token) -> bool:
    """The name (or the demonym of a noun) stands for a place: the object of a preposition of place,
    or the first part of "Bahrain-based"."""
    if tok.i + 2 < len(tok.doc) and tok.nbor(1).text == "-" and tok.nbor(2).lower_ == "based":
        return True
    return is_territory_object(tok, WHERE_PREPOSITIONS)


def _in_quote(sent) -> bool:
    """Inside quotation marks: the sentence holds one, or its paragraph has an open one before it."""
    if any(q in sent.text for q in QUOTES):
        return True
    text = sent.doc.text
    before = text[text.rfind("\n", 0, sent.start_char) + 1:sent.start_char]
    return sum(before.count(q) for q in QUOTES) % 2 == 1


def _required_words(pattern: list) -> tuple[str, frozenset[str]] | None:
    """The words of the first token a pattern cannot do without that is given by its words
    (LEMMA, LOWER or ORTH), if any: the pattern can only match a text holding one of them."""
    for token in pattern:
        if token.get("OP") not in (None, "+", "1"):
            continue
        for attr in ("LEMMA", "LOWER", "ORTH"):
            value = token.get(attr)
            if isinstance(value, str):
                return attr, frozenset({value})
            if isinstance(value, dict) and isinstance(value.get("IN"), list) and len(value) == 1:
                return attr, frozenset(str(v) for v in value["IN"])
    return None


def _single_word_lookup(pattern: list) -> tuple[str, list[str], list[tuple[str, object]]] | None:
    """(attribute, words, other conditions) for a one-token pattern of the form {LEMMA or LOWER: word or
    {IN: [...]}, POS/TAG/DEP: value, {IN: [...]} or {NOT_IN: [...]}}; None for any other pattern."""
    if len(pattern) != 1 or not isinstance(pattern[0], dict):
        return None
    token = dict(pattern[0])
    keys = [k for k in ("LEMMA", "LOWER") if k in token]
    if len(keys) != 1 or set(token) - {"LEMMA", "LOWER", "POS", "TAG", "DEP"}:
        return None
    value = token.pop(keys[0])
    if isinstance(value, str):
        words = [value]
    elif isinstance(value, dict) and set(value) == {"IN"}:
        words = [str(w) for w in value["IN"]]
    else:
        return None
    for cond in token.values():
        if isinstance(cond, dict) and (len(cond) != 1 or next(iter(cond)) not in ("IN", "NOT_IN")):
            return None
    words = [w.lower() for w in words] if keys[0] == "LOWER" else words
    return keys[0], words, list(token.items())


def _holds(tok: Token, attr: str, cond) -> bool:
    value = getattr(tok, TOKEN_ATTRS[attr])
    if isinstance(cond, dict):
        return value in cond["IN"] if "IN" in cond else value not in cond["NOT_IN"]
    return value == cond


def _word_forms(lemma: str) -> list[str]:
    """A lemma and its regular inflections (attack -> attacks, attacked, attacking; strike -> strikes,
    striked, striking): enough for the degraded mode, which has no lemmatizer."""
    lemma = lemma.lower()
    stem = lemma[:-1] if lemma.endswith("e") else lemma
    return sorted({lemma, lemma + "s", lemma + "es", stem + "ed", stem + "ing", lemma + "d"})


def _word_form_pattern(pattern: list) -> list:
    """A Matcher pattern for a pipeline without tagger, parser or lemmatizer: LEMMA becomes LOWER over
    the lemma's word forms, part-of-speech and parse conditions are dropped, and a gap that had only
    such conditions matches at most three words."""
    out = []
    for token in pattern:
        token = {k: v for k, v in token.items() if k not in PARSE_ATTRS}
        lemma = token.pop("LEMMA", None)
        if isinstance(lemma, dict) and "IN" in lemma:
            token["LOWER"] = {"IN": sorted({f for w in lemma["IN"] for f in _word_forms(str(w))})}
        elif isinstance(lemma, str):
            token["LOWER"] = {"IN": _word_forms(lemma)}
        if set(token) == {"OP"} and token["OP"] in ("*", "+"):
            token["OP"] = "{0,3}" if token["OP"] == "*" else "{1,3}"
        out.append(token)
    return out


QUANTITY_NOUNS = frozenset({"hundreds", "dozens", "thousands", "scores", "series", "wave", "waves", "string",
                            "round", "rounds", "spate", "number", "volley", "salvo", "barrage", "campaign",
                            "flurry", "couple", "pair"})


def _quantity_head(head: Token) -> Token | None:
    """'hundreds of strikes', 'a wave of attacks': the quantity noun stands in the event's place."""
    prep = head.head
    if head.dep_ == "pobj" and prep.lower_ == "of" and prep.head.lower_ in QUANTITY_NOUNS and prep.head != head:
        return prep.head
    return None


def one_per_event(signals: list[Signal]) -> list[Signal]:
    """One signal per event in a sentence: "fired rockets at Israel, the third such attack" names one
    attack twice. A signal is dropped when another of the same sentence, type and polarity names the
    same actors or more (an empty source or target is compatible with any)."""
    by_sentence: dict[int, list[Signal]] = {}
    for s in signals:
        by_sentence.setdefault(s.sent_index, []).append(s)
    kept: list[Signal] = []
    for s in signals:
        same = [o for o in by_sentence[s.sent_index] if o is not s and o.signal == s.signal
                and o.negated == s.negated and s.source in ("", o.source) and s.target in ("", o.target)]
        richer = [o for o in same if (bool(o.source) + bool(o.target)) > (bool(s.source) + bool(s.target))]
        if richer or any(o.start_char < s.start_char and (o.source, o.target) == (s.source, s.target) for o in same):
            continue
        kept.append(s)
    return kept


@Language.factory("escalation_signals", default_config={"signals_path": "", "actors_path": ""},
                  assigns=["doc._.signals"],
                  requires=["doc._.actor_mentions", "token.lemma", "token.tag", "token.dep", "doc.sents"])
def make_signal_detector(nlp: Language, name: str, signals_path: str, actors_path: str) -> SignalDetector:
    from engine.paths import ACTORS_FILE, SIGNALS_FILE

    return SignalDetector(nlp, load_signals(signals_path or str(SIGNALS_FILE)),
                          load_actors(actors_path or str(ACTORS_FILE)))
