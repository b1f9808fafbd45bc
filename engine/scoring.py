"""Scoring run: ingest -> extract -> rules -> features -> classifier -> 0-100 pair scores with bands.

A pair's ``rules_score`` for a window is exactly the sum of its rule hits; its ``score`` is the
formula of ``rules/bands.yaml`` applied to that and the classifier's probability (which is computed
for the pair's countries: IRQUAF->USA reads the IRQ->USA probability). Pairs are units by default
(``level="unit"``: a state's organs roll into the state, armed groups and proxies stay themselves;
``level="organ"`` keeps the actors as extracted), and ``ScoreResult.ranked()`` ranks them as of the
run's latest window, pairs not seen since decayed (``engine.formula.as_of_table``).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from engine.config import RunConfig
from engine.formula import (
    PAIR_SCORE_COLUMNS,
    RANKED_COLUMNS,
    ScoreFormula,
    as_of_table,
    load_formula,
    pair_scores_table,
    unit_hits,
    validate_pair_scores,
)
from engine.ingest import IngestResult
from engine.model.events import from_signals
from engine.model.features import FEATURES, build_features
from engine.model.train import feature_contributions, predict
from engine.nlp.extract import Extraction, as_documents, get_extractor
from engine.output import new_run_id
from engine.paths import BANDS_FILE, MODEL_FILE
from engine.rules.engine import hits_table, run_rules, signal_groups

__all__ = ["BANDS_FILE", "MODEL_FILE", "PAIR_SCORE_COLUMNS", "RANKED_COLUMNS", "RunConfig", "ScoreFormula", "ScoreResult", "Scorer",
           "load_formula", "validate_pair_scores"]


@dataclass
class ScoreResult:
    """The tables of one run and the configuration that made them (the report reads both)."""

    run_id: str
    signals: pd.DataFrame
    rule_hits: pd.DataFrame
    pair_scores: pd.DataFrame
    extraction: Extraction
    config: RunConfig
    ingest: IngestResult | None = None
    started: str = ""
    seconds: float = 0.0
    # with a run history (engine/history.py): the alerts (alerts.jsonl) and what the history gained (run.json)
    alerts: list[dict] | None = None
    history: dict | None = None

    @property
    def granularity(self) -> str:
        return self.config.granularity

    @property
    def formula(self) -> ScoreFormula:
        return self.config.formula

    @property
    def level(self) -> str:
        return self.config.level

    def explain(self, source: str, target: str) -> pd.DataFrame:
        """Rule hits of one pair with the signal ids behind them (the sentences are in ``signals``)."""
        hits = self.rule_hits[(self.rule_hits["source"] == source) & (self.rule_hits["target"] == target)]
        return hits[["window_start", "rule_id", "contribution", "explanation", "signal_ids"]]

    def to_report(self, out_dir: str | Path, inputs: list[Path] | None = None) -> Path:
        """Write the HTML report, its tables and run.json into ``out_dir``; return index.html's path."""
        from engine.report.builder import build_report

        return build_report(self, Path(out_dir), inputs)

    def ranked(self) -> pd.DataFrame:
        """The ranking as of the run's latest window (``as_of``), highest score first: each pair's
        latest window (``window_start``); ``score`` and ``band`` are the figures as of ``as_of``: a
        pair last seen ``windows_since`` > 0 windows earlier is ``stale`` and its score decayed
        (``stale_half_life`` in rules/bands.yaml); ``window_score`` / ``window_band`` are its figures
        in its own window. Columns: ``RANKED_COLUMNS``."""
        return as_of_table(self.pair_scores, self.formula, self.granularity)


class Scorer:
    """Extract signals, apply the analysts' rules and the classifier, and score every pair.

    Every part comes from one ``RunConfig``: pass one (``config=``), or a rules folder and any part
    to replace (a path or a built object); parts not given come from the folder, and only a file
    the folder lacks from the shipped rules.

    >>> result = Scorer().score(["Iran fired missiles at Israel."], date="2024-11-04")
    >>> result.ranked()[["source", "target"]].values.tolist()[0]
    ['IRN', 'ISR']
    """

    def __init__(self, rules=None, model=None, actors=None, signals=None, bands=None,
                 granularity: str = "week", degraded: bool = False, *, cameo_mapping=None,
                 config: RunConfig | None = None, level: str = "unit"):
        if config is None:
            config = RunConfig.build(rules, actors=actors, signals=signals, bands=bands, cameo_mapping=cameo_mapping,
                                     model=model, granularity=granularity, level=level)
        elif any(part is not None for part in (rules, model, actors, signals, bands, cameo_mapping)):
            raise TypeError("give either config= or the parts (rules, model, actors, signals, bands), not both")
        self.config = config
        self.config.model  # noqa: B018 - load (and check) the classifier before any work
        self.extractor = get_extractor(config.actors_path, config.signals_path, degraded)

    # the parts, as attributes (read-only views of the configuration)
    rules = property(lambda self: self.config.rules)
    actors = property(lambda self: self.config.actors)
    formula = property(lambda self: self.config.formula)
    model = property(lambda self: self.config.model)
    granularity = property(lambda self: self.config.granularity)
    level = property(lambda self: self.config.level)

    def leveled(self, rule_hits: pd.DataFrame) -> pd.DataFrame:
        """The rule hits at the run's level: rolled up to units (default), or as the rules gave them
        (``organ``). Idempotent: ``_pair_scores`` applies it too."""
        return unit_hits(rule_hits, self.actors.unit_of) if self.level == "unit" else rule_hits

    def score(self, texts=(), *, date: dt.date | str | None = None, ingest: IngestResult | None = None,
              documents: Iterable | None = None, progress=None, extract=None,
              stage: Callable[[str], None] | None = None) -> ScoreResult:
        """Score texts, or ``documents`` (any iterable of Documents, read once as extraction goes, e.g. an
        ``engine.ingest.InputStream``), or else ``ingest``'s documents; ``ingest`` is kept with the result
        (run.json and the report read its rejects and document metadata). ``extract(documents,
        progress=...)`` -> Extraction replaces this process's extractor (e.g. an ``engine.executor``
        executor's ``extract``); ``stage(name)`` is told when the rules and the pair scores start."""
        started = time.time()
        if documents is None:
            documents = ingest.documents if ingest is not None else as_documents(texts, date=date)
        latest = LatestDate()
        extraction = (extract or self.extractor.extract)(latest.through(documents), progress=progress)
        reference = latest.date or dt.date.today()
        run_id = new_run_id()
        rule_hits, pair_scores = self.score_signals(extraction.signals, reference, run_id, stage=stage)
        return ScoreResult(run_id, extraction.signals, rule_hits, pair_scores, extraction, self.config, ingest,
                           dt.datetime.fromtimestamp(started, dt.UTC).isoformat(timespec="seconds"),
                           round(time.time() - started, 2))

    def score_signals(self, signals: pd.DataFrame, reference: dt.date, run_id: str = "",
                      stage: Callable[[str], None] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Rule hits (at the run's level) and pair scores of a signals table: ``score`` after extraction."""
        if stage:
            stage(f"rules on {len(signals):,} signals")
        hits = run_rules(self.rules, signal_groups(signals, self.actors, self.granularity, reference))
        rule_hits = self.leveled(hits_table(hits, run_id))
        if stage:
            stage(f"pair scores of {len(rule_hits):,} rule hits")
        return rule_hits, self._pair_scores(run_id, signals, rule_hits, reference)

    def _probabilities(self, signals: pd.DataFrame, reference: dt.date):
        """Model probability and largest terms per (country pair, window), and for an empty history
        (every feature 0). The classifier reads the signals only, never the rules score."""
        events = from_signals(signals, self.actors, reference.isoformat())
        rows = build_features(events, self.granularity)
        empty = pd.Series(0.0, index=FEATURES)
        base = (float(predict(self.model, empty.to_frame().T)[0]), [])
        columns = ["source", "target", "window_start", "model_probability", "model_terms"]
        if rows.empty:
            return pd.DataFrame(columns=columns), base
        table = pd.DataFrame({"source": rows["source"], "target": rows["target"],
                              "window_start": rows["window_start"].dt.strftime("%Y-%m-%d"),
                              "model_probability": predict(self.model, rows),
                              "model_terms": feature_contributions(self.model, rows)})
        return table[columns], base

    def _pair_scores(self, run_id: str, signals: pd.DataFrame, rule_hits: pd.DataFrame,
                     reference: dt.date) -> pd.DataFrame:
        rule_hits = self.leveled(rule_hits)
        if rule_hits.empty:
            return validate_pair_scores(pd.DataFrame(columns=PAIR_SCORE_COLUMNS), self.formula)
        probabilities, (base_p, base_terms) = self._probabilities(signals, reference)
        codes = set(rule_hits["source"]) | set(rule_hits["target"])
        table = pair_scores_table(rule_hits, probabilities, self.formula, run_id=run_id,
                                  countries={c: self.actors.country_of(c) for c in codes},
                                  base_probability=base_p, base_terms=base_terms)
        return validate_pair_scores(table, self.formula)


class LatestDate:
    """The latest document date among the documents passed ``through`` it, as they stream by (undated
    documents take it for their windows)."""

    def __init__(self) -> None:
        self.date: dt.date | None = None

    def through(self, documents: Iterable) -> Iterator:
        for document in documents:
            if document.date and (self.date is None or document.date > self.date):
                self.date = document.date
            yield document
