"""A cheap gate before the parser: which sentences of a document can hold a signal at all.

Most sentences of a general news feed carry no signal (sport, markets, weather), yet the tagger, parser
and NER are the expensive part of extraction. The gate decides from the tokenizer and lookup tables only:
a sentence goes on to the statistical components when it holds a word form of a trigger word (any word
of any trigger pattern of ``rules/signals.yaml`` and the generated lexicon, with its inflections) or an
actor name of the dictionary (so that "the group" or "it" later on can still refer back to it). The kept
sentences are parsed together, in order, as one text; every offset, sentence index and evidence sentence
is mapped back to the original document, so evidence points into the text as the user gave it.

Sentences here are the gate's own rule-based split (punctuation, plus every line break: headlines and
datelines stand alone), also used as the sentence units of ``sent_index`` and of the evaluation.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.pipeline import Sentencizer
from spacy.tokens import Doc

from engine.nlp.actors import mark_paragraphs

# words too common to tell a sentence apart ("on alert", "speak to", "the right to respond"): other words
# of the same pattern decide
FUNCTION_WORDS = frozenset(
    "a an the to of on in at by for with from and or but not no n't never will would shall 'll can could "
    "may might must be is are was were been being have has had do does did it its their his her this that "
    "these those as than then so such up down out off over into onto upon about against between all there "
    "both each any".split())
SEPARATOR = "\n\n"
REFERENCE_WORDS = frozenset("it its they them their he him his she her we us our i group groups movement "
                            "faction factions militants rebels country kingdom island republic both sides".split())
CONTEXT_SENTENCES = 2  # sentences before a kept one that are kept too when they name an actor


@dataclass(frozen=True)
class Segment:
    """One kept sentence: where it sits in the parsed text and in the original."""

    sub_start: int
    orig_start: int
    length: int
    sentence: int  # index of the sentence in the original document


class GatedText:
    """The kept sentences of one document joined into one text, and the way back to the original."""

    def __init__(self, original: str, sentences: list[tuple[int, int]], kept: list[int], figurative: str = ""):
        self.original = original
        self.sentences = sentences
        self.figurative = figurative  # why the document was read as sport/business copy (then nothing is kept)
        parts, segments, position = [], [], 0
        for k in kept:
            start, end = sentences[k]
            if parts:
                parts.append(SEPARATOR)
                position += len(SEPARATOR)
            parts.append(original[start:end])
            segments.append(Segment(position, start, end - start, k))
            position += end - start
        self.all_kept = len(kept) == len(sentences)
        self.text = original if self.all_kept else "".join(parts)
        self.segments = segments
        self._starts = [s.sub_start for s in segments]

    def segment_at(self, sub_char: int) -> Segment:
        return self.segments[max(bisect.bisect_right(self._starts, sub_char) - 1, 0)]

    def to_original(self, sub_char: int) -> int:
        seg = self.segment_at(sub_char)
        return seg.orig_start + min(max(sub_char - seg.sub_start, 0), seg.length)

    def sentence_of(self, sub_char: int) -> int:
        return self.segment_at(sub_char).sentence


class SentenceGate:
    """Built from the pipeline's own trigger lexicon and actor dictionary (the same files the run uses)."""

    def __init__(self, nlp: Language):
        detector = nlp.get_pipe("escalation_signals")
        resolver = nlp.get_pipe("escalation_actors")
        self.words = trigger_word_forms(nlp, detector.lexicon.triggers)
        self.names: PhraseMatcher = resolver.names
        self.exact: PhraseMatcher = resolver.exact
        self.places: PhraseMatcher = resolver.places
        self.sentencizer = Sentencizer()
        # words that can stand for an actor named elsewhere: pronouns, and the dictionary's role nouns
        self.references = REFERENCE_WORDS | {w.lower() for nouns in resolver.dictionary.roles.values()
                                             for n in nouns for w in n.split()}
        self.tokenizer = nlp.tokenizer
        figurative = detector.lexicon.figurative
        self.copy_words = frozenset(str(w).lower() for w in figurative.get("words", []))
        self.conflict_words = frozenset(str(w).lower() for w in figurative.get("conflict_words", []))
        self.min_copy_words = int(figurative.get("min_words", 150))
        self.min_copy_share = float(figurative.get("min_share", 1.0))
        self.max_conflict_ratio = float(figurative.get("max_conflict_ratio", 0.0))

    def figurative(self, doc: Doc) -> str:
        """Why the document reads as sport, business or culture copy that borrows war words ("bombarding
        the Persepolis goal", "a price war"), or "" when it does not (``figurative_copy`` in
        rules/signals.yaml)."""
        if len(doc) < self.min_copy_words or not self.copy_words:
            return ""  # (a short text has fewer words than tokens: no need to count them)
        words = [t.lower_ for t in doc if t.is_alpha]
        if len(words) < self.min_copy_words:
            return ""
        copy = sum(w in self.copy_words for w in words) / len(words)
        conflict = sum(w in self.conflict_words for w in words) / len(words)
        if copy >= self.min_copy_share and conflict < self.max_conflict_ratio * copy:
            return (f"read as sport/business copy: {copy:.1%} of its words are such copy's "
                    f"(figurative_copy.min_share {self.min_copy_share:.1%}) against {conflict:.1%} conflict words "
                    f"(fewer than max_conflict_ratio {self.max_conflict_ratio:g} times as many)")
        return ""

    def _split(self, doc: Doc) -> Doc:
        doc = self.sentencizer(doc)
        return mark_paragraphs(doc)

    def select(self, text: str) -> GatedText:
        """The kept sentences (``all_kept``: every sentence, and the text is parsed as it is)."""
        doc = self._split(self.tokenizer(text))
        sents = [sent for sent in doc.sents if sent.text.strip()]
        spans = [(sent.start_char, sent.end_char) for sent in sents]
        figurative = self.figurative(doc)
        if figurative:
            return GatedText(text, spans, [], figurative)
        named = ({start for _, start, _ in self.names(doc)} | {start for _, start, _ in self.exact(doc)}
                 | {start for _, start, _ in self.places(doc)})
        has_trigger = [any(t.lower_ in self.words for t in sent) for sent in sents]
        has_actor = [any(t.i in named for t in sent) for sent in sents]
        has_reference = [any(t.lower_ in self.references for t in sent) for sent in sents]
        kept = set()
        for k in range(len(spans)):
            # a quoted threat often names no one ("Any misadventure will be met with a decisive response,"
            # the army said): the sentence next to it names the speaker
            beside = any(has_actor[j] for j in (k - 1, k + 1) if 0 <= j < len(spans))
            if has_trigger[k] and (has_actor[k] or has_reference[k] or beside):
                kept.add(k)
                # the sentence before names who "it", "the group" or "the army" may be
                for j in range(max(k - CONTEXT_SENTENCES, 0), k):
                    if has_actor[j]:
                        kept.add(j)
        if spans:
            kept.add(0)  # the headline sets the scene
        return GatedText(text, spans, sorted(kept))


def trigger_word_forms(nlp: Language, triggers) -> frozenset[str]:
    """Lower-case word forms of every content word of every trigger pattern: regular inflections and the
    English model's own irregular forms (struck, fought, sent)."""
    lemmas: set[str] = set()
    forms: set[str] = set()
    for trigger in triggers:
        for token in trigger.pattern:
            for key, target in (("LEMMA", lemmas), ("LOWER", forms), ("ORTH", forms), ("TEXT", forms)):
                value = token.get(key) if isinstance(token, dict) else None
                if isinstance(value, str):
                    target.add(value.lower())
                elif isinstance(value, dict) and "IN" in value:
                    target.update(str(v).lower() for v in value["IN"])
    irregular: dict[str, set[str]] = {}
    if "lemmatizer" in nlp.pipe_names:
        lookups = nlp.get_pipe("lemmatizer").lookups
        if lookups.has_table("lemma_exc"):
            exceptions = lookups.get_table("lemma_exc")
            for pos in ("verb", "noun", "adj"):
                for form, form_lemmas in (exceptions.get(pos) or {}).items():
                    for lemma in form_lemmas:
                        irregular.setdefault(lemma, set()).add(form)
    for lemma in lemmas:
        stem = lemma[:-1] if lemma.endswith("e") else lemma
        forms.update({lemma, lemma + "s", lemma + "es", lemma + "d", stem + "ed", stem + "ing",
                      lemma + lemma[-1:] + "ed", lemma + lemma[-1:] + "ing", lemma[:-1] + "ies"})
        forms.update(irregular.get(lemma, ()))
        for part in lemma.replace("-", " ").split():  # "air strike", "cease-fire"
            forms.add(part)
    return frozenset(f for f in forms if f and f not in FUNCTION_WORDS)
