"""`make eval`: signal extraction scored on a labelled set, next to a keyword baseline in the same run.

Scoring is per sentence and signal type. For records marked ``exhaustive`` every predicted type the
coders did not list is a false positive; for the others (codebook examples list one event only)
extra predictions are not counted against us. Source/target accuracy compares country codes
(the first three letters) on actor-coded gold events whose signal type we found.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rich.table import Table

from engine.schemas import SIGNAL_TYPES


@dataclass
class Scores:
    tp: Counter = field(default_factory=Counter)
    fp: Counter = field(default_factory=Counter)
    fn: Counter = field(default_factory=Counter)
    actor_checked: int = 0
    source_right: int = 0
    target_right: int = 0

    def prf(self, sig: str | None = None) -> tuple[float, float, float]:
        tp = self.tp[sig] if sig else sum(self.tp.values())
        fp = self.fp[sig] if sig else sum(self.fp.values())
        fn = self.fn[sig] if sig else sum(self.fn.values())
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return p, r, f


@dataclass
class Evaluation:
    engine: Scores
    baseline: Scores
    n_sentences: int


def _score(scores: Scores, record: dict, predicted: dict[str, list[tuple[str, str]]]) -> None:
    gold = {e["signal"] for e in record["events"] if e["signal"] in SIGNAL_TYPES}
    for sig in SIGNAL_TYPES:
        if sig in gold and sig in predicted:
            scores.tp[sig] += 1
        elif sig in gold:
            scores.fn[sig] += 1
        elif sig in predicted and record.get("exhaustive"):
            scores.fp[sig] += 1
    for event in record["events"]:
        if not record.get("actors_coded") or event["signal"] not in predicted or not event.get("source"):
            continue
        scores.actor_checked += 1
        pairs = predicted[event["signal"]]
        scores.source_right += any(s[:3] == event["source"][:3] for s, _ in pairs if s)
        scores.target_right += any(t[:3] == (event.get("target") or "")[:3] for _, t in pairs if t)


def keyword_lemmas() -> dict[str, set[str]]:
    """The baseline's vocabulary: every single-word trigger lemma of rules/signals.yaml, per type."""
    from engine.nlp.lexicon import load_signals
    from engine.paths import SIGNALS_FILE

    words: dict[str, set[str]] = {s: set() for s in SIGNAL_TYPES}
    for trigger in load_signals(SIGNALS_FILE).triggers:
        for token in trigger.pattern:
            lemma = token.get("LEMMA") if isinstance(token, dict) else None
            if isinstance(lemma, dict):
                words[trigger.signal].update(str(w) for w in lemma.get("IN", []))
            elif isinstance(lemma, str):
                words[trigger.signal].add(lemma)
            break  # the first token of a pattern is its trigger word
    return words


def evaluate_gold(path: str | Path) -> Evaluation:
    from engine.nlp.extract import get_extractor

    records = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    extractor = get_extractor()
    vocab = keyword_lemmas()
    engine, baseline = Scores(), Scores()
    # one parse per sentence serves both the engine's signals and the baseline's lemmas
    for record, doc in zip(records, extractor.nlp.pipe([r["text"] for r in records]), strict=True):
        predicted: dict[str, list[tuple[str, str]]] = {}
        for sig in doc._.signals:
            if not sig.negated:
                predicted.setdefault(sig.signal, []).append((sig.source, sig.target))
        _score(engine, record, predicted)
        lemmas = {t.lemma_.lower() for t in doc}
        _score(baseline, record, {sig: [] for sig, words in vocab.items() if lemmas & words})
    return Evaluation(engine, baseline, len(records))


def render_evaluation(ev: Evaluation) -> Table:
    table = Table(title=f"Signal extraction on {ev.n_sentences} labelled sentences (engine | keyword baseline)")
    for col in ("signal", "P", "R", "F1", "baseline P", "baseline R", "baseline F1", "gold"):
        table.add_column(col, justify="right")
    for sig in [*SIGNAL_TYPES, None]:
        p, r, f = ev.engine.prf(sig)
        bp, br, bf = ev.baseline.prf(sig)
        gold = (ev.engine.tp[sig] + ev.engine.fn[sig]) if sig else sum(ev.engine.tp.values()) + sum(ev.engine.fn.values())
        table.add_row(sig or "all (micro)", f"{p:.2f}", f"{r:.2f}", f"{f:.2f}", f"{bp:.2f}", f"{br:.2f}", f"{bf:.2f}", str(gold))
    n = ev.engine.actor_checked
    table.caption = (
        f"Actor accuracy on {n} actor-coded gold events whose type was found: "
        f"source {ev.engine.source_right / n if n else 0:.2f}, target {ev.engine.target_right / n if n else 0:.2f} "
        "(country level; the keyword baseline finds no actors)"
    )
    return table
