"""Scoring run: ingest -> extract -> rules -> per-pair rules scores, with everything traceable.

`Scorer.score(...)` returns a `ScoreResult` holding the validated signals, rule-hits and
pair-scores tables. A pair's ``rules_score`` for a window is exactly the sum of its rule hits.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from engine.ingest import IngestResult
from engine.nlp.extract import Extraction, as_documents, get_extractor
from engine.nlp.lexicon import load_actors
from engine.paths import ACTORS_FILE, RULES_DIR, SIGNALS_FILE
from engine.rules.engine import hits_table, run_rules, signal_groups, window_of
from engine.rules.models import load_rules
from engine.schemas import RulePairScoresTable, validate

PAIR_SCORE_COLUMNS = ["run_id", "window_start", "window_end", "source", "target", "rules_score", "n_signals",
                      "n_rule_hits"]


@dataclass
class ScoreResult:
    run_id: str
    signals: pd.DataFrame
    rule_hits: pd.DataFrame
    pair_scores: pd.DataFrame
    extraction: Extraction
    ingest: IngestResult | None = None
    granularity: str = "week"
    started: str = ""
    seconds: float = 0.0

    def explain(self, source: str, target: str) -> pd.DataFrame:
        """Rule hits of one pair with the sentences behind them."""
        hits = self.rule_hits[(self.rule_hits["source"] == source) & (self.rule_hits["target"] == target)]
        return hits[["window_start", "rule_id", "contribution", "explanation", "signal_ids"]]

    def ranked(self) -> pd.DataFrame:
        """Each pair's latest window, highest rules score first."""
        if self.pair_scores.empty:
            return self.pair_scores
        latest = self.pair_scores.sort_values("window_start").groupby(["source", "target"]).tail(1)
        return latest.sort_values(["rules_score", "n_signals"], ascending=False).reset_index(drop=True)


class Scorer:
    """Extract signals and apply the analysts' rules.

    >>> result = Scorer().score(["Iran fired missiles at Israel."], date="2024-11-04")
    >>> result.ranked()[["source", "target"]].values.tolist()[0]
    ['IRN', 'ISR']
    """

    def __init__(self, rules: str | Path = RULES_DIR, actors: str | Path = ACTORS_FILE,
                 signals: str | Path = SIGNALS_FILE, granularity: str = "week", degraded: bool = False):
        self.rules = load_rules(rules)
        self.actors = load_actors(actors)
        self.extractor = get_extractor(actors, signals, degraded)
        self.granularity = granularity

    def score(self, texts, *, date: dt.date | str | None = None, ingest: IngestResult | None = None,
              progress=None) -> ScoreResult:
        import time

        started = time.time()
        documents = ingest.documents if ingest is not None else as_documents(texts, date=date)
        extraction = self.extractor.extract(documents, progress=progress)
        dated = [d.date for d in documents if d.date]
        reference = max(dated) if dated else dt.date.today()
        run_id = f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
        facts = signal_groups(extraction.signals, self.actors, self.granularity, reference)
        hits = run_rules(self.rules, facts)
        rule_hits = hits_table(hits, run_id)
        pair_scores = self._pair_scores(run_id, extraction.signals, rule_hits, reference)
        return ScoreResult(run_id, extraction.signals, rule_hits, pair_scores, extraction, ingest, self.granularity,
                           dt.datetime.fromtimestamp(started, dt.UTC).isoformat(timespec="seconds"),
                           round(time.time() - started, 2))

    def _pair_scores(self, run_id: str, signals: pd.DataFrame, rule_hits: pd.DataFrame,
                     reference: dt.date) -> pd.DataFrame:
        dyadic = signals[(signals["source"] != "") & (signals["target"] != "")].copy()
        dates = dyadic["date"].replace("", reference.isoformat())
        dyadic["window_start"] = [window_of(dt.date.fromisoformat(d), self.granularity)[0].isoformat() for d in dates]
        counts = dyadic.groupby(["source", "target", "window_start"]).size()
        rows = []
        grouped = rule_hits.groupby(["source", "target", "window_start", "window_end"]) if len(rule_hits) else []
        for (src, tgt, wstart, wend), g in grouped:
            rows.append({"run_id": run_id, "window_start": wstart, "window_end": wend, "source": src, "target": tgt,
                         "rules_score": round(float(g["contribution"].sum()), 4),
                         "n_signals": int(counts.get((src, tgt, wstart), 0)), "n_rule_hits": len(g)})
        df = pd.DataFrame(rows, columns=PAIR_SCORE_COLUMNS)
        return validate(RulePairScoresTable, df, "pair_scores")
