"""Learned sentence types: a recall backstop for events the trigger rules have no pattern for.

The rules find a signal where one of their triggers matches. On text in a voice they were not written
from, many events go unmatched ("Islamabad put its forces on the highest state of readiness" with no
MOBILIZE trigger for it). This component reads each parsed sentence in which no trigger of any type
matched (where one did, the rules have decided, also that nothing is there: "the truce collapsed") with a
small text classifier (TF-IDF of word 1-2-grams, one logistic regression per type, in one scikit-learn
``Pipeline``) and adds a signal of each type whose probability clears its threshold. The thresholds were
chosen by cross-validation grouped by article (``make train-types``) on the sentences where the rules
found no signal, so it adds few signals, and only where the words of the sentence say strongly that
the type is there.

Such a signal carries:
- ``pattern_id`` ``learned-<type>`` and, as its trigger, the sentence's word or word pair that weighs
  most for the type (evidence an analyst can check: "readiness", "warned that");
- the type's CAMEO root and intensity from ``signal_types`` in ``rules/signals.yaml``;
- flags, status and date read from that word as for any trigger, and the speaker of the sentence;
- no source or target: the role ranker (``engine/nlp/roles.py``, after this component) may name them
  from the document, under its own limits (no hostile pair in a story without one);
- confidence: the probability, lowered like any signal without actors.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import minibatch

from engine.errors import ModelFileError
from engine.nlp.signals import Signal
from engine.schemas import SIGNAL_TYPES
from engine.skops_files import load_allowed

ALLOWED_TYPES = frozenset({
    "sklearn.pipeline.Pipeline", "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.feature_extraction.text.TfidfTransformer", "sklearn.multioutput.MultiOutputClassifier",
    "sklearn.linear_model._logistic.LogisticRegression",
})


@dataclass(frozen=True)
class SentenceTypes:
    """The trained classifier (words -> one probability per type) and the thresholds it is used with."""

    model: object  # sklearn Pipeline: TfidfVectorizer -> MultiOutputClassifier(LogisticRegression)
    thresholds: dict[str, float]
    path: str = ""
    sha256: str = ""

    def describe(self) -> str:
        return f"{Path(self.path).name} (sha256 {self.sha256[:12]})"

    @cached_property
    def _weights(self) -> tuple[np.ndarray, np.ndarray]:
        models = self.model.named_steps["types"].estimators_
        return np.vstack([m.coef_[0] for m in models]).T, np.array([m.intercept_[0] for m in models])

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """One row per text, one column per type (``SIGNAL_TYPES`` order): the pipeline's ``predict_proba``,
        with the five logistic functions computed in one product (scikit-learn's per-call checks cost more
        than the arithmetic on a document's few sentences)."""
        if not texts:
            return np.zeros((0, len(SIGNAL_TYPES)))
        weights, intercepts = self._weights
        scores = np.asarray(self.model.named_steps["words"].transform(texts) @ weights) + intercepts
        return 1.0 / (1.0 + np.exp(-scores))

    @cached_property
    def _terms(self) -> np.ndarray:
        return self.model.named_steps["words"].get_feature_names_out()

    def telling_term(self, text: str, signal: str) -> str:
        """The word or word pair of ``text`` that weighs most for ``signal``."""
        row = self.model.named_steps["words"].transform([text])
        if row.nnz == 0:
            return ""
        contributions = row.data * self._weights[0][row.indices, SIGNAL_TYPES.index(signal)]
        return str(self._terms[row.indices[int(np.argmax(contributions))]])


def load_sentence_types(path: str | Path) -> SentenceTypes:
    """Read a sentence-type classifier written by ``engine.nlp.type_training`` (allow-listed types only)."""
    path = Path(path)
    stored = load_allowed(path, ALLOWED_TYPES, "run `make train-types`")
    if not isinstance(stored, dict) or set(stored) != {"model", "thresholds", "types"}:
        raise ModelFileError(f"{path}: not a sentence-type classifier (expected model, thresholds and types)")
    if list(stored["types"]) != SIGNAL_TYPES:
        raise ModelFileError(f"{path}: its types are not the engine's; retrain it with `make train-types`")
    model = stored["model"]
    if list(getattr(model, "named_steps", [])) != ["words", "types"]:
        raise ModelFileError(f"{path}: expected a Pipeline of 'words' (TF-IDF) and 'types' (one model per type)")
    thresholds = {str(k): float(v) for k, v in stored["thresholds"].items()}
    if set(thresholds) != set(SIGNAL_TYPES):
        raise ModelFileError(f"{path}: thresholds must be given for {', '.join(SIGNAL_TYPES)}")
    return SentenceTypes(model, thresholds, str(path), hashlib.sha256(path.read_bytes()).hexdigest())


def term_span(sent: Span, term: str) -> Span:
    """Where a TF-IDF term ("warned", "state readiness") stands in the sentence: from its first word to its
    last (at most three tokens apart, punctuation between), else the sentence's root."""
    words = term.split()
    for tok in sent:
        if tok.lower_ != words[0]:
            continue
        if len(words) == 1:
            return sent.doc[tok.i:tok.i + 1]
        for nxt in sent.doc[tok.i + 1:min(tok.i + 4, sent.end)]:
            if nxt.lower_ == words[-1]:
                return sent.doc[tok.i:nxt.i + 1]
    return sent.doc[sent.root.i:sent.root.i + 1]


class SentenceTypeComponent:
    def __init__(self, classifier: SentenceTypes, detector):
        self.classifier = classifier
        self.detector = detector  # the rules' signal detector: its flags, confidence factors and type table

    def __call__(self, doc: Doc) -> Doc:
        return next(self.pipe([doc]))

    def pipe(self, docs, batch_size: int = 128):
        """One TF-IDF transform for the unread sentences of a batch of documents."""
        for batch in minibatch(docs, size=batch_size):
            unread = [self._unread(doc) for doc in batch]
            probabilities = self.classifier.probabilities([s.text for sentences in unread for _, s in sentences])
            start = 0
            for doc, sentences in zip(batch, unread, strict=True):
                yield self._add(doc, sentences, probabilities[start:start + len(sentences)])
                start += len(sentences)

    @staticmethod
    def _unread(doc: Doc) -> list[tuple[int, Span]]:
        """The sentences (index, span) in which no trigger matched: where one did, the rules have said what
        is there, or decided that nothing is ("the truce collapsed", "a price war")."""
        spoken = doc._.trigger_sentences or set()
        return [(k, sent) for k, sent in enumerate(doc.sents) if k not in spoken]

    def _add(self, doc: Doc, sentences: list[tuple[int, Span]], probabilities: np.ndarray) -> Doc:
        added = []
        for (k, sent), row in zip(sentences, probabilities, strict=True):
            for t, signal in enumerate(SIGNAL_TYPES):
                p = float(row[t])
                if p < self.classifier.thresholds[signal]:
                    continue
                span = term_span(sent, self.classifier.telling_term(sent.text, signal))
                added.append(self._signal(doc, sent, k, span, signal, p))
        if added:
            doc._.signals = sorted(list(doc._.signals or []) + added, key=lambda s: (s.start_char, s.signal))
        return doc

    def _signal(self, doc: Doc, sent: Span, k: int, span: Span, signal: str, p: float) -> Signal:
        detector = self.detector
        head = span.root
        kind = detector.lexicon.types.get(signal, {})
        speaker = detector._reported_by(head, sent)
        conf = detector.conf
        hypothetical = detector._hypothetical_threat(head, span) if signal == "THREATEN" \
            else detector._hypothetical(head, span)
        return Signal(
            signal=signal, cameo=str(kind.get("cameo", "")) or "0", intensity=float(kind.get("intensity", 0.5)),
            confidence=round(p * conf["no_source"] * conf["no_target"], 4), pattern_id=f"learned-{signal.lower()}",
            trigger=span.text, start_char=span.start_char, end_char=span.end_char, sent_index=k,
            sent_start=sent.start_char, sent_end=sent.end_char, sentence=sent.text, source="", target="",
            source_text="", target_text="", source_basis="", target_basis="", antecedent_sent=-1,
            negated=detector._negated(head, span), hypothetical=hypothetical, status=detector._status(head),
            reported_by=";".join(speaker.codes) if speaker.codes else speaker.text,
            location=detector._location(head), date=detector._event_date(head, doc._.doc_date),
            event_lemma=head.lemma_.lower())


@Language.factory("escalation_sentence_types", default_config={"model_path": ""},
                  assigns=["doc._.signals"], requires=["doc._.signals", "doc.sents", "token.dep"])
def make_sentence_types(nlp: Language, name: str, model_path: str) -> SentenceTypeComponent:
    from engine.paths import SENTENCE_TYPES_FILE

    return SentenceTypeComponent(load_sentence_types(model_path or SENTENCE_TYPES_FILE),
                                 nlp.get_pipe("escalation_signals"))
