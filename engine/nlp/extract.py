"""Extraction stage: documents in, validated signals table and unknown-actor list out.

Documents stream through: ``Extractor.extract`` takes any iterable of documents (a list, or an
``engine.ingest.InputStream`` reading a feed record by record) and keeps nothing of a document once its
signals are out. The signal rows go to Parquet parts every ``part_documents`` documents (``SignalParts``:
``parts_dir/part-00000.parquet``, ... or tables in memory without a folder), joined into the signals
table at the end. Memory holds the model, one batch of documents and the signals: it grows with the
signals found, not with the texts read.

``n_process > 1`` runs the whole per-document extraction in that many worker processes (each builds its
own Extractor once and sends back plain rows): spaCy's own ``nlp.pipe(n_process=...)`` cannot be used, as
the objects our components store on each Doc do not pickle (spaCy error E871). The result is the same
table as one process gives: documents are handed out in chunks and their rows taken back in input order.
"""

from __future__ import annotations

import bisect
import collections
import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from spacy.language import Language
from spacy.tokens import Doc

import engine.nlp.actors  # noqa: F401 - registers the spaCy factories
import engine.nlp.roles  # noqa: F401
import engine.nlp.sentence_types  # noqa: F401
import engine.nlp.signals  # noqa: F401
from engine.ingest import Document, chunked, documents_from_texts
from engine.nlp.gate import GatedText, SentenceGate
from engine.nlp.lexicon import load_actors
from engine.nlp.model import ModelInfo, load_statistical_model
from engine.paths import ACTORS_FILE, ROLE_RANKER_FILE, SENTENCE_TYPES_FILE, SIGNALS_FILE
from engine.schemas import SignalsTable, empty_frame, validate

SIGNAL_COLUMNS = list(SignalsTable.to_schema().columns)
PART_DOCUMENTS = 1000  # documents per Parquet part of the signals
# nlp.pipe's batch: a batch of long articles sets a run's peak memory (news mix: 631 MB at 32, 503 at 16,
# 430 at 8, 7 % slower) and the signals do not depend on it
DEFAULT_BATCH_SIZE = 16


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
    figurative: str = ""  # why it yields no signal as sport/business copy, else ""


@dataclass
class DocumentRecords:
    """One document's extraction as plain values (what a worker process sends back)."""

    doc_id: str
    rows: list[dict]  # signals table rows
    unknown_actors: list[tuple[str, str]]
    n_sentences: int
    n_words: int


class Extractor:
    """The spaCy pipeline plus our components. Build once, use for many documents.

    ``gate=True`` (the default) parses only the sentences that can hold a signal (``engine/nlp/gate.py``);
    ``gate=False`` parses every sentence. Offsets and sentence indices refer to the original text either way.
    """

    def __init__(self, actors_path: str | Path = ACTORS_FILE, signals_path: str | Path = SIGNALS_FILE,
                 degraded: bool = False, gate: bool = True, role_ranker: str | Path | None = ROLE_RANKER_FILE,
                 sentence_types: str | Path | None = SENTENCE_TYPES_FILE):
        self.nlp, self.model = load_statistical_model(degraded=degraded)
        if "parser" in self.nlp.pipe_names:
            self.nlp.add_pipe("escalation_paragraphs", before="parser")
        self.nlp.add_pipe("escalation_actors", config={"actors_path": str(actors_path)})
        self.nlp.add_pipe("escalation_signals",
                          config={"signals_path": str(signals_path), "actors_path": str(actors_path)})
        learned = []  # the trained components after the rules (none in degraded mode: they read the parse)
        if sentence_types is not None and not degraded:
            backstop = self.nlp.add_pipe("escalation_sentence_types", config={"model_path": str(sentence_types)})
            learned.append(f"sentence types {backstop.classifier.describe()}")
        if role_ranker is not None and not degraded:
            ranker = self.nlp.add_pipe("escalation_roles", config={"model_path": str(role_ranker)})
            learned.append(f"role ranker {ranker.ranker.describe()}")
        self.model = dataclasses.replace(self.model, learned=", ".join(learned))
        self.actors = load_actors(str(actors_path))
        self.gate = SentenceGate(self.nlp)
        self.gating = gate and not degraded
        # to build it again elsewhere
        self.arguments = (str(actors_path), str(signals_path), degraded, gate,
                          None if role_ranker is None else str(role_ranker),
                          None if sentence_types is None else str(sentence_types))

    @property
    def language(self) -> Language:
        return self.nlp

    def iter_signals(self, documents: Iterable[Document], *,
                     batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[DocumentSignals]:
        """Each document's signals, in input order, as the documents stream through ``nlp.pipe``."""

        def prepared():
            for document in documents:
                gated = self.gate.select(document.text)
                if not self.gating:
                    gated = GatedText(document.text, gated.sentences,
                                      [] if gated.figurative else list(range(len(gated.sentences))),
                                      gated.figurative)
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
            yield DocumentSignals(document, signals, sentences, share, list(doc._.unknown_actors), gated.figurative)

    def records(self, documents: Iterable[Document], *, batch_size: int = DEFAULT_BATCH_SIZE,
                n_process: int = 1) -> Iterator[DocumentRecords]:
        """Each document's signal rows and counts, in input order (``n_process`` worker processes, or here)."""
        if n_process > 1:
            yield from _records_in_processes(self.arguments, documents, batch_size, n_process)
            return
        for result in self.iter_signals(documents, batch_size=batch_size):
            document = result.document
            yield DocumentRecords(document.id, [_row(document, k, s) for k, s in enumerate(result.signals)],
                                  result.unknown_actors, len(result.sentences), len(document.text.split()))

    def extract(self, documents: Iterable[Document], *, batch_size: int = DEFAULT_BATCH_SIZE,
                progress: Callable[[int], None] | None = None, n_process: int = 1,
                parts_dir: str | Path | None = None, part_documents: int = PART_DOCUMENTS) -> Extraction:
        """The signals table of the documents, read as they come (see the module docstring); ``progress(1)``
        after each document; ``parts_dir``: where the Parquet parts go (kept in memory without it)."""
        parts = SignalParts(parts_dir, part_documents)
        for records in self.records(documents, batch_size=batch_size, n_process=n_process):
            parts.add(records)
            if progress:
                progress(1)
        return parts.extraction(self.model)


class SignalParts:
    """An extraction's output as it grows: the signal rows of every ``part_documents`` documents become one
    validated table, written to ``folder/part-NNNNN.parquet`` (or kept in memory without a folder); unknown
    actors and counts are summed. ``extraction`` joins the parts into the signals table."""

    def __init__(self, folder: str | Path | None = None, part_documents: int = PART_DOCUMENTS):
        self.folder = Path(folder) if folder is not None else None
        self.part_documents = max(1, part_documents)
        self.rows: list[dict] = []
        self.buffered = 0  # documents whose rows are in self.rows
        self.parts: list[Path | pd.DataFrame] = []
        self.written = 0  # parts so far (their file numbers)
        # (text, label) -> [count, example document, when first seen]: most frequent first, then first seen
        self.unknown: dict[tuple[str, str], list] = {}
        self.seen = 0
        self.n_documents = self.n_sentences = self.n_words = 0

    def add(self, records: DocumentRecords) -> None:
        self.rows.extend(records.rows)
        for key in records.unknown_actors:
            self._unknown(key, 1, records.doc_id, self.n_documents)
        self.n_documents += 1
        self.n_sentences += records.n_sentences
        self.n_words += records.n_words
        self.buffered += 1
        if self.buffered >= self.part_documents:
            self.flush()

    def add_table(self, signals: pd.DataFrame, unknown: list[dict], doc_ids: Sequence[str], n_sentences: int,
                  n_words: int) -> None:
        """A partition's result in one piece (the Dask executor): its validated signals table and its unknown
        actors (text, label, count, example_doc), for the documents ``doc_ids`` in order."""
        self.flush()
        position = {doc_id: i for i, doc_id in enumerate(doc_ids)}
        for row in unknown:
            self._unknown((row["text"], row["label"]), int(row["count"]), row["example_doc"],
                          self.n_documents + position.get(row["example_doc"], 0))
        self.n_documents += len(doc_ids)
        self.n_sentences += n_sentences
        self.n_words += n_words
        if len(signals):
            self._write(signals)

    def _unknown(self, key: tuple[str, str], count: int, example: str, document_index: int) -> None:
        if key in self.unknown:
            self.unknown[key][0] += count
        else:
            self.unknown[key] = [count, example, (document_index, self.seen)]
            self.seen += 1

    def flush(self, last: bool = False) -> None:
        """Write the buffered rows as a part (nothing when they hold no signal); the ``last`` rows of an
        extraction that wrote no part stay in memory (a small run touches no disk)."""
        if self.rows:
            table = _to_table(self.rows)
            if last and not self.parts:
                self.parts.append(table)
            else:
                self._write(table)
        self.rows, self.buffered = [], 0

    def _write(self, table: pd.DataFrame) -> None:
        if self.folder is None:
            self.parts.append(table)
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"part-{self.written:05d}.parquet"
        table.to_parquet(path, index=False)
        self.parts.append(path)
        self.written += 1

    def signals(self) -> pd.DataFrame:
        """Every part joined, in order, and validated as one table (signal ids unique across parts)."""
        self.flush(last=True)
        if not self.parts:
            return empty_frame(SignalsTable)
        if len(self.parts) == 1 and isinstance(self.parts[0], pd.DataFrame):
            return self.parts[0]  # validated when it was made
        frames = [pd.read_parquet(part) if isinstance(part, Path) else part for part in self.parts]
        return validate(SignalsTable, pd.concat(frames, ignore_index=True), "signals")

    def unknown_actors(self) -> pd.DataFrame:
        ranked = sorted(self.unknown.items(), key=lambda item: (-item[1][0], item[1][2]))
        return pd.DataFrame([{"text": t, "label": lab, "count": c, "example_doc": example}
                             for (t, lab), (c, example, _) in ranked],
                            columns=["text", "label", "count", "example_doc"])

    def extraction(self, model: ModelInfo) -> Extraction:
        return Extraction(self.signals(), self.unknown_actors(), model, self.n_documents, self.n_sentences,
                          self.n_words)


_WORKER: list = []  # the extractor of a worker process, built once


def _start_worker(arguments: tuple) -> None:
    _WORKER.append(Extractor(*arguments))


def _worker_records(documents: list[Document], batch_size: int) -> list[DocumentRecords]:
    return list(_WORKER[0].records(documents, batch_size=batch_size))


def _records_in_processes(arguments: tuple, documents: Iterable[Document], batch_size: int,
                          n_process: int) -> Iterator[DocumentRecords]:
    """``Extractor.records`` in ``n_process`` worker processes: chunks of ``batch_size`` documents handed out
    in order, at most two per worker waiting (memory stays bounded), results yielded in input order.
    Workers are started fresh ("spawn"): a forked copy of a process that has loaded the model and started
    threads is not safe."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from engine.errors import EngineError

    pool = ProcessPoolExecutor(n_process, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start_worker, initargs=(arguments,))
    pending: collections.deque = collections.deque()
    try:
        for chunk in chunked(documents, batch_size):
            pending.append(pool.submit(_worker_records, chunk, batch_size))
            while len(pending) >= 2 * n_process:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()
    except BrokenProcessPool:
        raise EngineError(f"an extraction worker process stopped (killed, or out of memory?); try fewer "
                          f"--n-process than {n_process} or a smaller --batch-size") from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


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
