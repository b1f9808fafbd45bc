"""Scoring run: ingest -> extract -> rules -> features -> classifier -> 0-100 pair scores with bands.

A pair's ``rules_score`` for a window is exactly the sum of its rule hits; its ``score`` is the
formula of ``rules/bands.yaml`` applied to that and the classifier's probability (which is computed
for the pair's countries: IRQUAF->USAMIL reads the IRQ->USA probability).
"""

from __future__ import annotations

import datetime as dt
import math
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from engine.errors import ConfigError, TableValidationError
from engine.ingest import IngestResult
from engine.model.events import from_signals
from engine.model.features import FEATURES, build_features
from engine.model.train import feature_contributions, load_model, predict
from engine.nlp.extract import Extraction, as_documents, get_extractor
from engine.nlp.lexicon import load_actors
from engine.paths import ACTORS_FILE, REPO_ROOT, RULES_DIR, SIGNALS_FILE
from engine.rules.engine import hits_table, run_rules, signal_groups
from engine.rules.models import load_rules
from engine.schemas import BANDS, PairScoresTable, validate
from engine.yamlio import load_yaml

BANDS_FILE = RULES_DIR / "bands.yaml"
MODEL_FILE = REPO_ROOT / "models" / "escalation-classifier.skops"
PAIR_SCORE_COLUMNS = ["run_id", "window_start", "window_end", "source", "target", "rules_score",
                      "model_probability", "score", "band", "band_floor", "band_cap", "change", "n_signals", "top_drivers"]


class ScoreFormula(BaseModel):
    """Parameters of the score formula and the band edges (rules/bands.yaml)."""

    model_config = ConfigDict(extra="forbid")
    rules_weight: float = Field(ge=0, le=1)
    model_weight: float = Field(ge=0, le=1)
    rules_half: float = Field(gt=0)
    bands: dict[str, float]

    @model_validator(mode="after")
    def _consistent(self):
        if abs(self.rules_weight + self.model_weight - 1) > 1e-9:
            raise ValueError("rules_weight + model_weight must be 1")
        if list(self.bands) != BANDS:
            raise ValueError(f"bands must be {', '.join(BANDS)} in this order")
        edges = list(self.bands.values())
        if edges[0] != 0 or edges != sorted(edges) or edges[-1] > 100:
            raise ValueError("band edges must start at 0 and rise to at most 100")
        return self

    def rules_part(self, rules_score: float) -> float:
        positive = max(rules_score, 0.0)
        return positive / (positive + self.rules_half)

    def score(self, rules_score: float, probability: float) -> float:
        return round(100 * (self.rules_weight * self.rules_part(rules_score) + self.model_weight * probability), 2)

    def band(self, score: float, floor: str = "", cap: str = "") -> str:
        """The highest band whose edge the score reaches, lowered to a rule's cap and raised to a
        rule's floor (a floor wins over a cap: an early warning is not hidden)."""
        level = BANDS.index([name for name, edge in self.bands.items() if score >= edge][-1])
        if cap:
            level = min(level, BANDS.index(cap))
        if floor:
            level = max(level, BANDS.index(floor))
        return BANDS[level]


def load_formula(path: str | Path = BANDS_FILE) -> ScoreFormula:
    try:
        return ScoreFormula.model_validate(dict(load_yaml(path)))
    except Exception as exc:
        raise ConfigError(f"{path}: {exc}") from None


def validate_pair_scores(df: pd.DataFrame, formula: ScoreFormula) -> pd.DataFrame:
    """The pandera schema plus the checks that need the formula: band matches score."""
    df = validate(PairScoresTable, df, "pair_scores")
    wrong = [f"row {i}: band {r.band!r} does not match score {r.score}, floor {r.band_floor!r} and cap "
             f"{r.band_cap!r} (expected {formula.band(r.score, r.band_floor, r.band_cap)!r})"
             for i, r in df.iterrows() if formula.band(r.score, r.band_floor, r.band_cap) != r.band]
    if wrong:
        raise TableValidationError("pair_scores", wrong)
    return df


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
        """Rule hits of one pair with the signal ids behind them (the sentences are in ``signals``)."""
        hits = self.rule_hits[(self.rule_hits["source"] == source) & (self.rule_hits["target"] == target)]
        return hits[["window_start", "rule_id", "contribution", "explanation", "signal_ids"]]

    def to_report(self, out_dir: str | Path, inputs: list[Path] | None = None) -> Path:
        """Write the HTML report, its tables and run.json into ``out_dir``; return index.html's path."""
        from engine.report.builder import build_report

        return build_report(self, Path(out_dir), inputs)

    def ranked(self) -> pd.DataFrame:
        """Each pair's latest window, highest score first."""
        if self.pair_scores.empty:
            return self.pair_scores
        latest = self.pair_scores.sort_values("window_start").groupby(["source", "target"]).tail(1)
        return latest.sort_values(["score", "rules_score"], ascending=False).reset_index(drop=True)


class Scorer:
    """Extract signals, apply the analysts' rules and the classifier, and score every pair.

    >>> result = Scorer().score(["Iran fired missiles at Israel."], date="2024-11-04")
    >>> result.ranked()[["source", "target"]].values.tolist()[0]
    ['IRN', 'ISR']
    """

    def __init__(self, rules: str | Path = RULES_DIR, model: str | Path = MODEL_FILE,
                 actors: str | Path = ACTORS_FILE, signals: str | Path = SIGNALS_FILE,
                 bands: str | Path | None = None, granularity: str = "week", degraded: bool = False):
        rules = Path(rules)
        self.rules = load_rules(rules)
        bands_path = Path(bands) if bands else (rules / "bands.yaml" if (rules / "bands.yaml").exists() else BANDS_FILE)
        self.formula = load_formula(bands_path)
        self.model = load_model(model)
        self.actors = load_actors(actors)
        self.extractor = get_extractor(actors, signals, degraded)
        self.granularity = granularity

    def score(self, texts, *, date: dt.date | str | None = None, ingest: IngestResult | None = None,
              progress=None) -> ScoreResult:
        started = time.time()
        documents = ingest.documents if ingest is not None else as_documents(texts, date=date)
        extraction = self.extractor.extract(documents, progress=progress)
        dated = [d.date for d in documents if d.date]
        reference = max(dated) if dated else dt.date.today()
        run_id = f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
        hits = run_rules(self.rules, signal_groups(extraction.signals, self.actors, self.granularity, reference))
        rule_hits = hits_table(hits, run_id)
        pair_scores = self._pair_scores(run_id, extraction.signals, rule_hits, reference)
        return ScoreResult(run_id, extraction.signals, rule_hits, pair_scores, extraction, ingest, self.granularity,
                           dt.datetime.fromtimestamp(started, dt.UTC).isoformat(timespec="seconds"),
                           round(time.time() - started, 2))

    def _probabilities(self, signals: pd.DataFrame, rule_hits: pd.DataFrame, reference: dt.date):
        """Model probability and top features per (country pair, window), and for an empty history."""
        events = from_signals(signals, self.actors, reference.isoformat())
        country = self.actors.country_of
        rolled = rule_hits.assign(source=rule_hits["source"].map(lambda c: country(c) or c),
                                  target=rule_hits["target"].map(lambda c: country(c) or c),
                                  window_start=pd.to_datetime(rule_hits["window_start"]))
        rolled = rolled[rolled["source"] != rolled["target"]]
        rows = build_features(events, self.granularity, rules_scores=rolled.rename(columns={"contribution": "rules_score"}))
        empty = pd.Series(0.0, index=FEATURES)
        empty["since_attack"] = 12.0
        base = (float(predict(self.model, empty.to_frame().T)[0]), [])
        if rows.empty:
            return {}, base
        probs = predict(self.model, rows)
        terms = feature_contributions(self.model, rows)
        keys = zip(rows["source"], rows["target"], rows["window_start"].dt.strftime("%Y-%m-%d"), strict=True)
        return {key: (float(p), t) for key, p, t in zip(keys, probs, terms, strict=True)}, base

    def _pair_scores(self, run_id: str, signals: pd.DataFrame, rule_hits: pd.DataFrame,
                     reference: dt.date) -> pd.DataFrame:
        if rule_hits.empty:
            return validate_pair_scores(pd.DataFrame(columns=PAIR_SCORE_COLUMNS), self.formula)
        probabilities, base = self._probabilities(signals, rule_hits, reference)
        country = self.actors.country_of
        n_signals = _signals_per_pair_window(signals, rule_hits)
        rows = []
        for (src, tgt, wstart, wend), g in rule_hits.groupby(["source", "target", "window_start", "window_end"]):
            rules_score = round(float(g["contribution"].sum()), 4)
            p, contributions = probabilities.get((country(src) or src, country(tgt) or tgt, wstart), base)
            score = self.formula.score(rules_score, p)
            scored = g[g["contribution"] != 0]  # band-limit rules may add no points: named below instead
            top = scored.reindex(scored["contribution"].abs().sort_values(ascending=False).index).head(3)
            drivers = [f"{r.rule_id} {r.contribution:+.1f}" for r in top.itertuples()]
            drivers += [f"model: {name} {value:+.2f}" for name, value in contributions[:2]]
            floor, cap, limits = _band_limits(g)
            rows.append({"run_id": run_id, "window_start": wstart, "window_end": wend, "source": src, "target": tgt,
                         "rules_score": rules_score, "model_probability": round(p, 4), "score": score,
                         "band": self.formula.band(score, floor, cap), "band_floor": floor, "band_cap": cap,
                         "top_drivers": "; ".join(limits + drivers), "change": math.nan,
                         "n_signals": n_signals.get((src, tgt, wstart), 0)})
        df = pd.DataFrame(rows, columns=PAIR_SCORE_COLUMNS).sort_values(["source", "target", "window_start"])
        df["change"] = df.groupby(["source", "target"])["score"].diff()
        return validate_pair_scores(df.reset_index(drop=True), self.formula)


def _band_limits(hits: pd.DataFrame) -> tuple[str, str, list[str]]:
    """The highest band floor and the lowest band cap set by a pair-window's hits, with the rules."""
    floors = hits[hits["band_floor"] != ""]
    caps = hits[hits["band_cap"] != ""]
    floor = max(floors["band_floor"], key=BANDS.index, default="")
    cap = min(caps["band_cap"], key=BANDS.index, default="")
    limits = []
    if floor:
        limits.append(f"band at least {floor} ({', '.join(sorted(set(floors.loc[floors['band_floor'] == floor, 'rule_id'])))})")
    if cap:
        limits.append(f"band at most {cap} ({', '.join(sorted(set(caps.loc[caps['band_cap'] == cap, 'rule_id'])))})")
    return floor, cap, limits


def _signals_per_pair_window(signals: pd.DataFrame, rule_hits: pd.DataFrame) -> dict[tuple, int]:
    """How many signals each pair's hits in a window rest on."""
    counts: dict[tuple, set] = {}
    for r in rule_hits.itertuples():
        counts.setdefault((r.source, r.target, r.window_start), set()).update(r.signal_ids.split(";"))
    return {k: len(v) for k, v in counts.items()}
