"""Extraction stage: documents in, validated signals table and unknown-actor list out."""

from __future__ import annotations

import bisect
import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from spacy.language import Language
from spacy.tokens import Doc

import engine.nlp.actors  # noqa: F401 - registers the spaCy factories
import engine.nlp.signals  # noqa: F401
from engine.ingest import Document, documents_from_texts
from engine.nlp.gate import GatedText, SentenceGate
from engine.nlp.lexicon import load_actors
from engine.nlp.model import ModelInfo, load_statistical_model
from engine.paths import ACTORS_FILE, SIGNALS_FILE
from engine.schemas import SignalsTable, empty_frame, validate

SIGNAL_COLUMNS = list(SignalsTable.to_schema().columns)


@dataclass
class Extraction:
    signals: pd.DataFrame
    unknown_actors: pd.DataFrame  # text, label, count, example_doc
    model: ModelInfo
    n_documents: int
    n_sentences: int
    n_words: int


@dataclass
class DocumentSignals:
    """One document's signals, with offsets and sentence indices in the original text."""

    document: Document
    signals: list  # engine.nlp.signals.Signal
    sentences: list[tuple[int, int]]  # the gate's sentence split of the original text (sent_index units)
    parsed_share: float  # share of the sentences that went through the parser
    unknown_actors: list[tuple[str, str]]


class Extractor:
    """The spaCy pipeline plus our components. Build once, use for many documents.

    ``gate=True`` (the default) parses only the sentences that can hold a signal (``engine/nlp/gate.py``);
    ``gate=False`` parses every sentence. Offsets and sentence indices refer to the original text either way.
    """

    def __init__(self, actors_path: str | Path = ACTORS_FILE, signals_path: str | Path = SIGNALS_FILE,
                 degraded: bool = False, gate: bool = True):
        self.nlp, self.model = load_statistical_model(degraded=degraded)
        if "parser" in self.nlp.pipe_names:
            self.nlp.add_pipe("escalation_paragraphs", before="parser")
        self.nlp.add_pipe("escalation_actors", config={"actors_path": str(actors_path)})
        self.nlp.add_pipe("escalation_signals",
                          config={"signals_path": str(signals_path), "actors_path": str(actors_path)})
        self.actors = load_actors(str(actors_path))
        self.gate = SentenceGate(self.nlp)
        self.gating = gate and not degraded

    @property
    def language(self) -> Language:
        return self.nlp

    def iter_signals(self, documents: Iterable[Document], *, batch_size: int = 32) -> Iterator[DocumentSignals]:
        """Each document's signals, in input order, as the documents stream through ``nlp.pipe``."""

        def prepared():
            for document in documents:
                gated = self.gate.select(document.text)
                if not self.gating:
                    gated = GatedText(document.text, gated.sentences, list(range(len(gated.sentences))))
                doc = self.nlp.make_doc(gated.text)
                doc._.doc_date = document.date  # for relative dates ("on Tuesday")
                yield doc, (document, gated)

        for doc, (document, gated) in self.nlp.pipe(prepared(), batch_size=batch_size, as_tuples=True):
            sentences = gated.sentences
            signals = doc._.signals
            if gated.all_kept:
                _to_gate_sentences(signals, doc, sentences)
            else:
                _to_original(signals, doc, gated)
            share = len(gated.segments) / max(len(sentences), 1)
            yield DocumentSignals(document, signals, sentences, share, list(doc._.unknown_actors))

    def extract(self, documents: Iterable[Document], *, batch_size: int = 32,
                progress: Callable[[int], None] | None = None) -> Extraction:
        rows: list[dict] = []
        unknown: Counter = Counter()
        unknown_example: dict[tuple[str, str], str] = {}
        n_docs = n_sent = n_words = 0
        for result in self.iter_signals(documents, batch_size=batch_size):
            document = result.document
            n_docs += 1
            n_sent += len(result.sentences)
            n_words += len(document.text.split())
            for text, label in result.unknown_actors:
                unknown[(text, label)] += 1
                unknown_example.setdefault((text, label), document.id)
            for k, s in enumerate(result.signals):
                rows.append(_row(document, k, s))
            if progress:
                progress(1)
        signals = _to_table(rows)
        unknown_df = pd.DataFrame(
            [{"text": t, "label": lab, "count": c, "example_doc": unknown_example[(t, lab)]}
             for (t, lab), c in unknown.most_common()],
            columns=["text", "label", "count", "example_doc"],
        )
        return Extraction(signals, unknown_df, self.model, n_docs, n_sent, n_words)


def _to_original(signals: list, doc: Doc, gated: GatedText) -> None:
    """Offsets and sentence indices of signals found in the gated text, moved to the original text."""
    sub_sentences = [s.start_char for s in doc.sents]
    for s in signals:
        s.start_char, s.end_char = gated.to_original(s.start_char), gated.to_original(s.end_char)
        s.sent_start, s.sent_end = gated.to_original(s.sent_start), gated.to_original(s.sent_end)
        s.sentence = gated.original[s.sent_start:s.sent_end]
        s.sent_index = gated.sentence_of(sub_sentences[s.sent_index])
        if s.antecedent_sent >= 0:
            s.antecedent_sent = gated.sentence_of(sub_sentences[s.antecedent_sent])


def _to_gate_sentences(signals: list, doc: Doc, sentences: list[tuple[int, int]]) -> None:
    """Sentence indices in the gate's split (the same units whether or not a document was gated)."""
    starts = [start for start, _ in sentences]
    sub_sentences = [s.start_char for s in doc.sents]

    def index_at(char: int) -> int:
        return max(bisect.bisect_right(starts, char) - 1, 0)

    for s in signals:
        s.sent_index = index_at(s.start_char)
        if s.antecedent_sent >= 0:
            s.antecedent_sent = index_at(sub_sentences[s.antecedent_sent])


def _row(document: Document, k: int, s) -> dict:
    date = s.date or document.date
    return {
        "signal_id": f"{document.id}:{s.sent_index}:{s.start_char}:{k}",
        "doc_id": document.id,
        "date": date.isoformat() if date else "",
        "sent_index": s.sent_index,
        "start_char": s.start_char,
        "end_char": s.end_char,
        "sent_start": s.sent_start,
        "sent_end": s.sent_end,
        "source": s.source,
        "target": s.target,
        "signal": s.signal,
        "cameo": s.cameo,
        "intensity": s.intensity,
        "negated": s.negated,
        "hypothetical": s.hypothetical,
        "status": s.status,
        "reported_by": s.reported_by,
        "location": s.location,
        "confidence": s.confidence,
        "pattern_id": s.pattern_id,
        "trigger": s.trigger,
        "source_text": s.source_text,
        "target_text": s.target_text,
        "source_basis": s.source_basis,
        "target_basis": s.target_basis,
        "antecedent_sent": s.antecedent_sent,
        "sentence": s.sentence,
    }


def _to_table(rows: list[dict]) -> pd.DataFrame:
    if not rows:
        return empty_frame(SignalsTable)
    df = pd.DataFrame(rows, columns=SIGNAL_COLUMNS)
    return validate(SignalsTable, df, "signals")


_DEFAULT: dict[tuple, Extractor] = {}


def get_extractor(actors_path: str | Path = ACTORS_FILE, signals_path: str | Path = SIGNALS_FILE,
                  degraded: bool = False) -> Extractor:
    """A cached extractor per dictionary pair (loading spaCy takes about a second)."""
    key = (str(actors_path), str(signals_path), degraded)
    if key not in _DEFAULT:
        _DEFAULT[key] = Extractor(actors_path, signals_path, degraded)
    return _DEFAULT[key]


def extract_signals(texts: Sequence[str] | pd.DataFrame | Sequence[Document], *,
                    date: dt.date | str | None = None, actors_path: str | Path = ACTORS_FILE,
                    signals_path: str | Path = SIGNALS_FILE) -> pd.DataFrame:
    """Return the validated signals table for texts, Documents, or a DataFrame with ``id``/``text``
    (and optional ``date``) columns.

    >>> table = extract_signals(["Iran warned Israel on Monday."], date="2024-11-04")
    >>> table[["source", "signal", "target"]].values.tolist()
    [['IRN', 'THREATEN', 'ISR']]
    """
    documents = as_documents(texts, date=date)
    return get_extractor(actors_path, signals_path).extract(documents).signals


def as_documents(texts, *, date: dt.date | str | None = None) -> list[Document]:
    """Documents from texts (a single string is one text), Documents, or a DataFrame with id/text columns;
    a text over spaCy's limit is refused here rather than deep inside the parser."""
    from engine.errors import InputError
    from engine.ingest import MAX_CHARS_LIMIT, parse_date

    default = parse_date(date) if date else None
    if isinstance(texts, str):
        texts = [texts]  # not its characters
    documents = _as_documents(texts, default)
    too_long = next((d for d in documents if len(d.text) > MAX_CHARS_LIMIT), None)
    if too_long is not None:
        raise InputError(f"document {too_long.id!r} has {len(too_long.text):,} characters; the limit is "
                         f"{MAX_CHARS_LIMIT:,} (spaCy's): split it first")
    return documents


def _as_documents(texts, default: dt.date | None) -> list[Document]:
    from engine.ingest import parse_date

    if isinstance(texts, pd.DataFrame):
        return [
            Document(id=str(r["id"]), text=str(r["text"]),
                     date=parse_date(r["date"]) if "date" in r and pd.notna(r["date"]) and r["date"] else default,
                     source=str(r.get("source", "") or ""), url=str(r.get("url", "") or ""),
                     title=str(r.get("title", "") or ""), origin="<dataframe>")
            for _, r in texts.iterrows()
        ]
    texts = list(texts)
    if texts and isinstance(texts[0], Document):
        return texts
    return documents_from_texts(texts, date=default)
