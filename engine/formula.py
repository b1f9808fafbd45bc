"""The score formula and band edges (``rules/bands.yaml``), and pair scores as table arithmetic.

``pair_scores_table`` is a pure function of the rule hits, the classifier's probabilities and the
formula: a pair's ``rules_score`` for a window is the sum of its hits, its ``score`` the formula of
that and the probability, its band the score's band lowered to the lowest cap and raised to the
highest floor of its hits (a floor wins). Everything is computed column-wise, no loop over pairs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from engine.errors import ConfigError, TableValidationError, did_you_mean
from engine.problems import Problem, read_yaml, validation_problems
from engine.schemas import BANDS, PairScoresTable, validate
from engine.yamlio import line_of

PAIR_SCORE_COLUMNS = ["run_id", "window_start", "window_end", "source", "target", "rules_score",
                      "model_probability", "score", "band", "band_floor", "band_cap", "change", "n_signals", "top_drivers"]
PAIR_KEYS = ["source", "target", "window_start", "window_end"]
# ScoreResult.ranked(): the pair-score columns (score and band *as of* the run's latest window) and these
RANKED_COLUMNS = PAIR_SCORE_COLUMNS + ["as_of", "windows_since", "stale", "window_score", "window_band"]
LEVELS = ("unit", "organ")  # pairs of units (a state's organs rolled into it) or of the actors as extracted


class ScoreFormula(BaseModel):
    """Parameters of the score formula and the band edges (rules/bands.yaml)."""

    model_config = ConfigDict(extra="forbid")
    rules_weight: float = Field(ge=0, le=1)
    model_weight: float = Field(ge=0, le=1)
    rules_half: float = Field(gt=0)
    bands: dict[str, float]
    # windows after which a pair not seen since counts half in the "as of" ranking
    stale_half_life: float = Field(default=2.0, gt=0)

    @field_validator("bands")
    @classmethod
    def _band_names(cls, value):
        for name in value:
            if name not in BANDS:
                raise ValueError(f"unknown band {name!r}" + (did_you_mean(name, BANDS) or f" (one of {', '.join(BANDS)})"))
        return value

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
        return BANDS[int(self.band_levels(np.array([score]), np.array([floor]), np.array([cap]))[0])]

    # column-wise forms of the same formula
    def scores(self, rules_scores: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
        positive = np.maximum(np.asarray(rules_scores, dtype=float), 0.0)
        part = positive / (positive + self.rules_half)
        return np.round(100 * (self.rules_weight * part + self.model_weight * np.asarray(probabilities, dtype=float)), 2)

    def decayed(self, scores, windows_since) -> np.ndarray:
        """A score ``windows_since`` windows old, as of now: halved every ``stale_half_life`` windows."""
        since = np.asarray(windows_since, dtype=float)
        return np.round(np.asarray(scores, dtype=float) * 0.5 ** (since / self.stale_half_life), 2)

    def band_levels(self, scores, floors, caps) -> np.ndarray:
        """Band index per row: the score's band, then min with the cap, then max with the floor."""
        edges = np.array(list(self.bands.values()), dtype=float)
        level = np.searchsorted(edges, np.asarray(scores, dtype=float), side="right") - 1
        cap = _band_index(caps, default=len(BANDS) - 1)
        floor = _band_index(floors, default=0)
        return np.maximum(np.minimum(level, cap), floor)


def _band_index(names, default: int) -> np.ndarray:
    """Index in BANDS of each band name; ``default`` for ""."""
    lookup = {"": default, **{b: i for i, b in enumerate(BANDS)}}
    return np.array([lookup[n] for n in names], dtype=int)


def check_formula(path: str | Path) -> tuple[ScoreFormula | None, list[Problem]]:
    """Validate a bands.yaml; return the formula (or None) and FILE:LINE problems."""
    raw, problems = read_yaml(path, "bands")
    if problems:
        return None, problems
    if not isinstance(raw, dict):
        return None, [Problem(path, 1, "bands", "expected a mapping with rules_weight, model_weight, rules_half, bands")]
    bands = raw.get("bands")
    if isinstance(bands, dict):  # a misspelt band name, at its own line
        problems = [Problem(path, line_of(bands, name), "bands", f"unknown band {name!r}"
                            + (did_you_mean(name, BANDS) or f" (one of {', '.join(BANDS)})"))
                    for name in bands if name not in BANDS]
        if problems:
            return None, problems
    try:
        return ScoreFormula.model_validate(dict(raw)), []
    except ValidationError as exc:
        return None, validation_problems(exc, raw, path, "bands", lambda loc: list(ScoreFormula.model_fields))


def load_formula(path: str | Path) -> ScoreFormula:
    formula, problems = check_formula(path)
    if problems:
        raise ConfigError("invalid score formula:\n" + "\n".join(problems))
    return formula


# --------------------------------------------------------------------------- pair scores
def pair_scores_table(rule_hits: pd.DataFrame, probabilities: pd.DataFrame, formula: ScoreFormula, *,
                      run_id: str, countries: Mapping[str, str] | None = None, base_probability: float = 0.0,
                      base_terms: Sequence[tuple[str, float]] = ()) -> pd.DataFrame:
    """The pair-scores table (not yet validated) from the rule-hits table and the probabilities.

    ``probabilities``: columns source, target, window_start (ISO string), model_probability and
    model_terms (the model's largest terms as (feature, value) pairs), keyed by the pair's
    *countries*: ``countries`` maps an actor code to its country (a code missing or mapped to ""
    stands for itself). A pair-window with no row there takes ``base_probability``/``base_terms``
    (the classifier on an empty history).
    """
    if rule_hits.empty:
        return pd.DataFrame(columns=PAIR_SCORE_COLUMNS)
    hits = rule_hits.reset_index(drop=True)
    grouped = hits.groupby(PAIR_KEYS, sort=True)
    out = grouped["contribution"].sum().round(4).rename("rules_score").reset_index()

    # band limits: the highest floor and the lowest cap of each pair-window, with the rules behind them
    floor_level = pd.Series(_band_index(hits["band_floor"], -1), index=hits.index)
    cap_level = pd.Series(_band_index(hits["band_cap"], len(BANDS)), index=hits.index)
    floor_max = floor_level.groupby([hits[k] for k in PAIR_KEYS]).transform("max")
    cap_min = cap_level.groupby([hits[k] for k in PAIR_KEYS]).transform("min")
    limits = []
    for word, level, best, column in (("least", floor_level, floor_max, "band_floor"),
                                      ("most", cap_level, cap_min, "band_cap")):
        setting = hits.loc[(hits[column] != "") & (level == best), PAIR_KEYS + [column, "rule_id"]]
        setting = setting.drop_duplicates().sort_values("rule_id", kind="stable")
        text = setting.groupby(PAIR_KEYS + [column], sort=False)["rule_id"].agg(", ".join).reset_index()
        text["_text"] = "band at " + word + " " + text[column] + " (" + text["rule_id"] + ")"
        out = out.merge(text[PAIR_KEYS + [column, "_text"]].rename(columns={"_text": f"_{column}_text"}),
                        on=PAIR_KEYS, how="left")
        out[column] = out[column].fillna("")
        limits.append(out.pop(f"_{column}_text").fillna(""))

    # the three largest rule contributions (a band-limit rule may add no points: named above)
    scored = hits[hits["contribution"] != 0].assign(_abs=lambda d: -d["contribution"].abs())
    scored = scored.sort_values(PAIR_KEYS + ["_abs"], kind="stable")
    top = scored[scored.groupby(PAIR_KEYS, sort=False).cumcount() < 3]
    top = top.assign(_text=[f"{r} {c:+.1f}" for r, c in zip(top["rule_id"], top["contribution"], strict=True)])
    drivers = top.groupby(PAIR_KEYS, sort=False)["_text"].agg("; ".join).rename("_drivers").reset_index()
    out = out.merge(drivers, on=PAIR_KEYS, how="left")

    # signals behind each pair-window's hits (distinct ids)
    ids = hits[PAIR_KEYS].assign(_id=hits["signal_ids"].str.split(";")).explode("_id").drop_duplicates()
    out = out.merge(ids.groupby(PAIR_KEYS).size().rename("n_signals").reset_index(), on=PAIR_KEYS, how="left")

    # the classifier's probability for the pair's countries in the window
    countries = countries or {}
    country_of = lambda codes: codes.map(lambda c: countries.get(c) or c)  # noqa: E731 - one lookup per code
    out["_cs"], out["_ct"] = country_of(out["source"]), country_of(out["target"])
    probs = probabilities.rename(columns={"source": "_cs", "target": "_ct"})
    probs = probs[["_cs", "_ct", "window_start", "model_probability", "model_terms"]]
    out = out.merge(probs, on=["_cs", "_ct", "window_start"], how="left")
    missing = out["model_probability"].isna()
    out["model_probability"] = out["model_probability"].fillna(base_probability)
    base_text = "; ".join(f"model: {n} {v:+.2f}" for n, v in list(base_terms)[:2])
    model_text = [base_text if miss else "; ".join(f"model: {n} {v:+.2f}" for n, v in list(terms)[:2])
                  for miss, terms in zip(missing, out["model_terms"], strict=True)]

    out["score"] = formula.scores(out["rules_score"], out["model_probability"])
    out["band"] = np.array(BANDS, dtype=object)[formula.band_levels(out["score"], out["band_floor"], out["band_cap"])]
    out["top_drivers"] = ["; ".join(part for part in parts if part) for parts in
                          zip(limits[0], limits[1], out["_drivers"].fillna(""), model_text, strict=True)]
    out["model_probability"] = out["model_probability"].round(4)
    out["run_id"] = run_id
    out = out.sort_values(["source", "target", "window_start"], kind="stable")
    out["change"] = out.groupby(["source", "target"])["score"].diff()
    return out[PAIR_SCORE_COLUMNS].reset_index(drop=True)


def unit_hits(rule_hits: pd.DataFrame, unit_of: Callable[[str], str]) -> pd.DataFrame:
    """The rule hits with source and target rolled up to units (``ActorDictionary.unit_of``: IRNMIL ->
    IRN, USAGOV -> USA; an armed group or proxy stays itself). Each hit keeps its points, signals and
    explanation (which names the actors as extracted); a hit inside one unit after the roll-up (a
    state's organ against the state) is not a pair and is dropped. Idempotent."""
    if rule_hits.empty:
        return rule_hits
    codes = set(rule_hits["source"]) | set(rule_hits["target"])
    unit = {c: unit_of(c) or c for c in codes}
    out = rule_hits.assign(source=rule_hits["source"].map(unit), target=rule_hits["target"].map(unit))
    out = out[out["source"] != out["target"]]
    return out.sort_values(["source", "target", "window_start", "rule_id"], kind="stable").reset_index(drop=True)


def windows_between(starts: pd.Series, as_of: str, granularity: str) -> np.ndarray:
    """Whole windows from each window start (ISO date) to the window starting at ``as_of``."""
    start, end = pd.to_datetime(starts), pd.Timestamp(as_of)
    if granularity == "month":
        return ((end.year - start.dt.year) * 12 + end.month - start.dt.month).to_numpy(dtype=int)
    days = (end - start).dt.days.to_numpy(dtype=int)
    return days // 7 if granularity == "week" else days


def as_of_table(pair_scores: pd.DataFrame, formula: ScoreFormula, granularity: str) -> pd.DataFrame:
    """The ranking *as of* the latest window of the table: each pair's latest window; a pair last seen
    ``windows_since`` > 0 windows earlier is ``stale``, its ``score`` decayed by ``formula.decayed``
    (half every ``stale_half_life`` windows) and its ``band`` that of the decayed score (its window's
    cap still holds, its floor no longer: a floor is a current warning). ``window_score`` and
    ``window_band`` keep the pair's figures in its own window (``window_start``). Highest score first."""
    if pair_scores.empty:
        return pd.DataFrame(columns=RANKED_COLUMNS)
    latest = pair_scores.sort_values("window_start", kind="stable").groupby(["source", "target"]).tail(1)
    latest = latest.reset_index(drop=True)
    as_of = str(pair_scores["window_start"].max())
    since = windows_between(latest["window_start"], as_of, granularity)
    stale = since > 0
    out = latest.assign(as_of=as_of, windows_since=since, stale=stale, window_score=latest["score"],
                        window_band=latest["band"])
    decayed = formula.decayed(latest["score"], since)
    floors = np.where(stale, "", latest["band_floor"].to_numpy(dtype=object))
    levels = formula.band_levels(decayed, floors, latest["band_cap"].to_numpy(dtype=object))
    out["score"] = np.where(stale, decayed, latest["score"].to_numpy(dtype=float))
    out["band"] = np.where(stale, np.array(BANDS, dtype=object)[levels], latest["band"].to_numpy(dtype=object))
    out = out.sort_values(["score", "rules_score", "source", "target"], ascending=[False, False, True, True],
                          kind="stable")
    return out[RANKED_COLUMNS].reset_index(drop=True)


def validate_pair_scores(df: pd.DataFrame, formula: ScoreFormula) -> pd.DataFrame:
    """The pandera schema plus the checks that need the formula: band matches score, floor and cap."""
    df = validate(PairScoresTable, df, "pair_scores")
    if df.empty:
        return df
    expected = np.array(BANDS, dtype=object)[formula.band_levels(df["score"], df["band_floor"], df["band_cap"])]
    wrong = np.flatnonzero(expected != df["band"].to_numpy(dtype=object))
    if len(wrong):
        raise TableValidationError("pair_scores", [
            f"row {df.index[i]}: band {df['band'].iat[i]!r} does not match score {df['score'].iat[i]}, floor "
            f"{df['band_floor'].iat[i]!r} and cap {df['band_cap'].iat[i]!r} (expected {expected[i]!r})" for i in wrong])
    return df
