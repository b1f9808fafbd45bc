"""`make eval`: signal extraction scored on labelled text, next to a keyword baseline in the same run.

Two labelled sets:

- the shared CAMEO set (``../shared/eval/cameo_gold.jsonl``): one sentence a record. For records marked
  ``exhaustive`` every predicted type the coders did not list is a false positive; for the others
  (codebook examples list one event only) extra predictions are not counted against us.
- our dev articles (``tests/data/articles/{dev,frozen}``, format in their README): whole articles,
  every event labelled per sentence. Sentences are the extractor's rule-based split of the original text
  (``engine/nlp/gate.py``, the same whether or not the gate skips sentences); a gold event belongs to the
  sentence its quoted text starts in, a predicted signal to the sentence of its trigger.

Scoring is per sentence and signal type (a sentence either has a type or not). Actor checks compare
countries (an actor's ``country`` roll-up in ``rules/actors.yaml``: LBNHEZ -> LBN). Dyad accuracy is
the share of gold events with both actors, whose type the engine found in that sentence, for which
one of the found signals names both countries right. The keyword baseline marks a type whenever a
trigger lemma of the analysts' own ``rules/signals.yaml`` appears, and takes the sentence's first
actor mention as source and the next one of another country as target.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from rich.table import Table

from engine.schemas import SIGNAL_TYPES

STATUSES = ("past", "ongoing", "planned", "unknown")
EVENT_FIELDS = {"sentence", "signal", "source", "target", "negated", "hypothetical", "status", "location", "note"}
ARTICLE_FIELDS = {"id", "date", "kind", "title", "key_pairs", "events"}


@dataclass
class Scores:
    tp: Counter = field(default_factory=Counter)
    fp: Counter = field(default_factory=Counter)
    fn: Counter = field(default_factory=Counter)
    dyads_checked: int = 0  # gold events with both actors whose type was found in their sentence
    dyads_right: int = 0
    dyads_gold: int = 0  # gold events with both actors
    source_right: int = 0
    target_right: int = 0
    signals: int = 0  # predicted signals (rows)
    signals_both: int = 0  # ... naming both source and target
    flags_checked: int = 0
    negated_right: int = 0
    hypothetical_right: int = 0
    key_pairs: int = 0
    key_pairs_found: int = 0
    negative_docs: int = 0
    negative_docs_clean: int = 0  # no ATTACK or THREATEN between two actors

    def prf(self, sig: str | None = None) -> tuple[float, float, float]:
        tp = self.tp[sig] if sig else sum(self.tp.values())
        fp = self.fp[sig] if sig else sum(self.fp.values())
        fn = self.fn[sig] if sig else sum(self.fn.values())
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return p, r, f

    def macro_f1(self) -> float:
        return sum(self.prf(s)[2] for s in SIGNAL_TYPES) / len(SIGNAL_TYPES)

    def summary(self) -> dict:
        def share(a: int, b: int) -> float | None:
            return round(a / b, 4) if b else None

        per_type = {}
        for sig in SIGNAL_TYPES:
            p, r, f = self.prf(sig)
            per_type[sig] = {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4),
                             "gold": self.tp[sig] + self.fn[sig]}
        p, r, f = self.prf()
        return {
            "per_type": per_type,
            "micro": {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)},
            "macro_f1": round(self.macro_f1(), 4),
            "signals_with_both_actors": share(self.signals_both, self.signals),
            "dyad_accuracy": share(self.dyads_right, self.dyads_checked),
            "dyad_recall": share(self.dyads_right, self.dyads_gold),
            "source_accuracy": share(self.source_right, self.dyads_checked),
            "target_accuracy": share(self.target_right, self.dyads_checked),
            "negated_accuracy": share(self.negated_right, self.flags_checked),
            "hypothetical_accuracy": share(self.hypothetical_right, self.flags_checked),
            "key_pairs_found": share(self.key_pairs_found, self.key_pairs),
            "negative_articles_clean": f"{self.negative_docs_clean}/{self.negative_docs}" if self.negative_docs else None,
        }


@dataclass
class Evaluation:
    name: str
    engine: Scores
    baseline: Scores
    n_sentences: int
    n_documents: int = 0


@dataclass(frozen=True)
class Predicted:
    """One predicted signal, reduced to what the evaluation compares."""

    signal: str
    source: str
    target: str
    negated: bool = False
    hypothetical: bool = False


# ---------------------------------------------------------------------------------- helpers
def _country(code: str, actors) -> str:
    return actors.side_of(code)


def _score_sentence(scores: Scores, gold_events: list[dict], predicted: list[Predicted], actors, *,
                    exhaustive: bool = True, actors_coded: bool = True) -> None:
    """Add one sentence: type hits per signal, then dyad and flag checks of each gold event."""
    gold_types = {e["signal"] for e in gold_events if e["signal"] in SIGNAL_TYPES}
    predicted_types = {p.signal for p in predicted}
    for sig in SIGNAL_TYPES:
        if sig in gold_types and sig in predicted_types:
            scores.tp[sig] += 1
        elif sig in gold_types:
            scores.fn[sig] += 1
        elif sig in predicted_types and exhaustive:
            scores.fp[sig] += 1
    if not actors_coded:
        return
    for event in gold_events:
        src, tgt = _country(event.get("source") or "", actors), _country(event.get("target") or "", actors)
        if not (src and tgt) or event["signal"] not in SIGNAL_TYPES:
            continue
        scores.dyads_gold += 1
        same_type = [p for p in predicted if p.signal == event["signal"]]
        if not same_type:
            continue
        scores.dyads_checked += 1
        scores.source_right += any(_country(p.source, actors) == src for p in same_type)
        scores.target_right += any(_country(p.target, actors) == tgt for p in same_type)
        right = [p for p in same_type if _country(p.source, actors) == src and _country(p.target, actors) == tgt]
        if right:
            scores.dyads_right += 1
            if "negated" in event:
                scores.flags_checked += 1
                scores.negated_right += any(p.negated == bool(event["negated"]) for p in right)
                scores.hypothetical_right += any(p.hypothetical == bool(event.get("hypothetical")) for p in right)


def _count_signals(scores: Scores, predicted: list[Predicted]) -> None:
    scores.signals += len(predicted)
    scores.signals_both += sum(1 for p in predicted if p.source and p.target)


def keyword_lemmas() -> dict[str, set[str]]:
    """The baseline's vocabulary: every single-word trigger lemma of the analysts' ``rules/signals.yaml``
    (not the generated CAMEO lexicon), per type."""
    from engine.nlp.lexicon import load_signals
    from engine.paths import SIGNALS_FILE

    words: dict[str, set[str]] = {s: set() for s in SIGNAL_TYPES}
    for trigger in load_signals(SIGNALS_FILE).triggers:
        if getattr(trigger, "origin", "analyst") != "analyst":
            continue
        for token in trigger.pattern:
            lemma = token.get("LEMMA") if isinstance(token, dict) else None
            if isinstance(lemma, dict):
                words[trigger.signal].update(str(w) for w in lemma.get("IN", []))
            elif isinstance(lemma, str):
                words[trigger.signal].add(lemma)
            break  # the first token of a pattern is its trigger word
    return words


def _baseline(span, vocab: dict[str, set[str]], with_actors: bool) -> list[Predicted]:
    lemmas = {t.lemma_.lower() for t in span}
    source = target = ""
    if with_actors:
        mentions = [m for m in span.doc._.actor_mentions or [] if span.start <= m.head < span.end]
        if mentions:
            source = mentions[0].code
            target = next((m.code for m in mentions[1:] if m.code[:3] != source[:3]), "")
    return [Predicted(sig, source, target) for sig, words in vocab.items() if lemmas & words]


def _predicted(signals) -> list[Predicted]:
    return [Predicted(s.signal, s.source, s.target, s.negated, s.hypothetical) for s in signals]


# ---------------------------------------------------------------------------------- CAMEO set
def evaluate_gold(path: str | Path, extractor=None) -> Evaluation:
    from engine.nlp.extract import get_extractor

    records = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    extractor = extractor or get_extractor()
    actors = extractor.actors
    vocab = keyword_lemmas()
    engine, baseline = Scores(), Scores()
    # one parse per sentence serves both the engine's signals and the baseline's lemmas
    for record, doc in zip(records, extractor.nlp.pipe([r["text"] for r in records]), strict=True):
        predicted = [p for p in _predicted(doc._.signals) if not p.negated]  # CAMEO codes no negated events
        _count_signals(engine, predicted)
        options = {"exhaustive": bool(record.get("exhaustive")), "actors_coded": bool(record.get("actors_coded"))}
        _score_sentence(engine, record["events"], predicted, actors, **options)
        base = _baseline(doc[:], vocab, with_actors=True)
        _count_signals(baseline, base)
        _score_sentence(baseline, record["events"], base, actors, **options)
    return Evaluation(Path(path).name, engine, baseline, len(records), len(records))


# ---------------------------------------------------------------------------------- dev articles
@dataclass
class Article:
    id: str
    date: dt.date
    kind: str
    title: str
    text: str
    key_pairs: list[tuple[str, str]]
    events: list[dict]  # each with "start": the char offset of its quoted sentence text


def load_articles(folder: str | Path) -> tuple[list[Article], list[str]]:
    """Read every ``*.yaml`` + ``*.txt`` pair of a folder; return the articles and the problems found."""
    folder = Path(folder)
    articles, problems = [], []
    for meta_path in sorted(folder.glob("*.yaml")):
        text_path = meta_path.with_suffix(".txt")
        where = str(meta_path)
        if not text_path.exists():
            problems.append(f"{where}: no {text_path.name} beside it")
            continue
        text = text_path.read_text(encoding="utf-8")
        try:
            meta = yaml.safe_load(meta_path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            problems.append(f"{where}: YAML error: {exc}")
            continue
        found = _check_article(meta, meta_path, text)
        if found:
            problems.extend(f"{where}: {p}" for p in found)
            continue
        events = []
        for event in meta.get("events") or []:
            events.append({**event, "start": text.index(event["sentence"])})
        date = meta["date"] if isinstance(meta["date"], dt.date) else dt.date.fromisoformat(str(meta["date"]))
        articles.append(Article(str(meta["id"]), date, meta["kind"], str(meta["title"]), text,
                                [tuple(p) for p in meta.get("key_pairs") or []], events))
    return articles, problems


def _check_article(meta: dict, meta_path: Path, text: str) -> list[str]:
    problems = []
    if not isinstance(meta, dict):
        return ["expected a mapping"]
    for key in meta:
        if key not in ARTICLE_FIELDS:
            problems.append(f"unknown field {key!r}")
    if str(meta.get("id")) != meta_path.stem:
        problems.append(f"id {meta.get('id')!r} is not the file stem {meta_path.stem!r}")
    if meta.get("kind") not in ("conflict", "negative"):
        problems.append("kind must be conflict or negative")
    if str(meta.get("title", "")).strip() != text.splitlines()[0].strip():
        problems.append("title is not the first line of the .txt")
    try:
        dt.date.fromisoformat(str(meta.get("date")))
    except ValueError:
        problems.append(f"bad date {meta.get('date')!r}")
    for pair in meta.get("key_pairs") or []:
        if not (isinstance(pair, list) and len(pair) == 2):
            problems.append(f"key pair {pair!r} is not [SOURCE, TARGET]")
    for i, event in enumerate(meta.get("events") or []):
        where = f"event {i + 1}"
        if not isinstance(event, dict):
            problems.append(f"{where}: expected a mapping")
            continue
        for key in event:
            if key not in EVENT_FIELDS:
                problems.append(f"{where}: unknown field {key!r}")
        quoted = str(event.get("sentence", ""))
        if text.count(quoted) != 1 or not quoted:
            problems.append(f"{where}: sentence text found {text.count(quoted)} times in the .txt: {quoted[:60]!r}")
        if event.get("signal") not in SIGNAL_TYPES:
            problems.append(f"{where}: unknown signal {event.get('signal')!r}")
        if event.get("status", "unknown") not in STATUSES:
            problems.append(f"{where}: unknown status {event.get('status')!r}")
        for flag in ("negated", "hypothetical"):
            if not isinstance(event.get(flag, False), bool):
                problems.append(f"{where}: {flag} must be true or false")
    return problems


def load_labelled(folder: str | Path) -> list[Article]:
    """The labelled articles of a folder; ValueError listing every problem when any file has one."""
    articles, problems = load_articles(folder)
    if problems:
        raise ValueError(f"invalid labelled articles in {folder}:\n" + "\n".join(problems))
    return articles


def sentence_of(starts: list[int], char: int) -> int:
    """The index of the sentence, given a document's sentence start offsets (ascending), that holds the
    character offset ``char``; 0 before the first."""
    return max(bisect.bisect_right(starts, char) - 1, 0)


def labelled_extractions(folders: Iterable[str | Path], extractor) -> Iterator[tuple[Article, object, Callable]]:
    """Each labelled article of ``folders`` with the extractor's ``DocumentSignals`` for it and the function
    from a character offset to its sentence unit (the extractor's own split of the original text)."""
    from engine.ingest import Document

    for folder in folders:
        articles = load_labelled(folder)
        documents = [Document(a.id, a.text, a.date, title=a.title) for a in articles]
        for article, result in zip(articles, extractor.iter_signals(documents), strict=True):
            starts = [start for start, _ in result.sentences]
            yield article, result, lambda char, starts=starts: sentence_of(starts, char)


def evaluate_articles(folder: str | Path, extractor=None, name: str | None = None) -> Evaluation:
    from engine.ingest import Document
    from engine.nlp.extract import get_extractor

    articles = load_labelled(folder)
    extractor = extractor or get_extractor()
    actors = extractor.actors
    vocab = keyword_lemmas()
    engine, baseline = Scores(), Scores()
    n_sentences = 0
    documents = [Document(art.id, art.text, art.date, title=art.title) for art in articles]
    # the baseline reads every sentence's lemmas and actor names from a full parse (no gate)
    with extractor.nlp.select_pipes(disable=[p for p in extractor.nlp.pipe_names if p in (
            "escalation_signals", "escalation_sentence_types", "escalation_roles")]):
        parsed = list(extractor.nlp.pipe(extractor.nlp.make_doc(d.text) for d in documents))
    for art, result, doc in zip(articles, extractor.iter_signals(documents), parsed, strict=True):
        # sentence units: the extractor's own split of the original text (the same with or without the gate)
        starts = [start for start, _ in result.sentences]
        n_sentences += len(starts)

        def unit(char: int, starts=starts) -> int:
            return sentence_of(starts, char)

        gold_by_sent: dict[int, list[dict]] = {}
        for event in art.events:
            gold_by_sent.setdefault(unit(event["start"]), []).append(event)
        predicted_by_sent: dict[int, list[Predicted]] = {}
        for sig in result.signals:
            predicted_by_sent.setdefault(unit(sig.start_char), []).append(
                Predicted(sig.signal, sig.source, sig.target, sig.negated, sig.hypothetical))
        spans = [doc.char_span(start, end, alignment_mode="expand") for start, end in result.sentences]
        article_pairs: dict[str, set[tuple[str, str]]] = {"engine": set(), "baseline": set()}
        hostile: dict[str, bool] = {"engine": False, "baseline": False}
        for i, span in enumerate(spans):
            gold = gold_by_sent.get(i, [])
            for label, scores, predicted in (
                ("engine", engine, predicted_by_sent.get(i, [])),
                ("baseline", baseline, _baseline(span, vocab, with_actors=True) if span is not None else []),
            ):
                _count_signals(scores, predicted)
                _score_sentence(scores, gold, predicted, actors)
                for p in predicted:
                    if p.source and p.target and not p.negated:
                        pair = (_country(p.source, actors), _country(p.target, actors))
                        article_pairs[label].add(pair)
                        hostile[label] |= p.signal in ("ATTACK", "THREATEN")
        for label, scores in (("engine", engine), ("baseline", baseline)):
            if art.kind == "negative":
                scores.negative_docs += 1
                scores.negative_docs_clean += not hostile[label]
            for src, tgt in art.key_pairs:
                scores.key_pairs += 1
                scores.key_pairs_found += (_country(src, actors), _country(tgt, actors)) in article_pairs[label]
    return Evaluation(name or str(folder), engine, baseline, n_sentences, len(articles))


# ---------------------------------------------------------------------------------- output
def render_evaluation(ev: Evaluation) -> Table:
    table = Table(title=f"{ev.name}: {ev.n_documents} documents, {ev.n_sentences} sentences "
                        "(engine | keyword baseline)")
    for col in ("signal", "P", "R", "F1", "baseline P", "baseline R", "baseline F1", "gold"):
        table.add_column(col, justify="right")
    for sig in [*SIGNAL_TYPES, None]:
        p, r, f = ev.engine.prf(sig)
        bp, br, bf = ev.baseline.prf(sig)
        gold = (ev.engine.tp[sig] + ev.engine.fn[sig]) if sig else sum(ev.engine.tp.values()) + sum(ev.engine.fn.values())
        table.add_row(sig or "all (micro)", f"{p:.2f}", f"{r:.2f}", f"{f:.2f}", f"{bp:.2f}", f"{br:.2f}", f"{bf:.2f}", str(gold))
    table.add_row("macro F1", "", "", f"{ev.engine.macro_f1():.2f}", "", "", f"{ev.baseline.macro_f1():.2f}", "")
    e, b = ev.engine.summary(), ev.baseline.summary()

    def fmt(value) -> str:
        return "-" if value is None else (f"{value:.2f}" if isinstance(value, float) else str(value))

    lines = [f"{label}: engine {fmt(e[key])}, baseline {fmt(b[key])}" for label, key in (
        ("signals with both actors", "signals_with_both_actors"),
        ("dyad accuracy (found events)", "dyad_accuracy"),
        ("dyad recall (all gold dyads)", "dyad_recall"),
        ("key pairs found", "key_pairs_found"),
        ("negative articles without an ATTACK/THREATEN pair", "negative_articles_clean"),
    )]
    lines.append(f"source / target accuracy: {fmt(e['source_accuracy'])} / {fmt(e['target_accuracy'])}; "
                 f"negated / hypothetical right on matched dyads: {fmt(e['negated_accuracy'])} / "
                 f"{fmt(e['hypothetical_accuracy'])} (countries; {ev.engine.dyads_checked} dyads checked)")
    table.caption = "\n".join(lines)
    return table


def evaluation_json(evaluations: list[Evaluation]) -> dict:
    return {ev.name: {"documents": ev.n_documents, "sentences": ev.n_sentences,
                      "engine": ev.engine.summary(), "keyword_baseline": ev.baseline.summary()}
            for ev in evaluations}
