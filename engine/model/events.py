"""The dyad-event table: our extracted signals and external CAMEO-coded events in one shape.

Everything downstream (windows, features, the classifier) reads only this table, so a model trained
on ICEWS applies unchanged to text we extract. ICEWS actors are countries, so our finer codes are
rolled up to their country (``rules/actors.yaml``: IRQUAF -> IRQ, IRNMIL -> IRN); the finer pair is
kept in ``source_fine``/``target_fine``. Pairs inside one country after the roll-up (a government
and its own militias) and actors with no country (UN, NATO) are not dyads for the model.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
from pandera.typing.pandas import Series

from engine.nlp.lexicon import ActorDictionary
from engine.schemas import SIGNAL_TYPES, DirectedPairTable, validate


class DyadEventsTable(DirectedPairTable):
    """One row per event between two countries (rolled-up codes in source/target)."""

    date: Series[pd.Timestamp]
    source_fine: Series[str]
    target_fine: Series[str]
    signal: Series[str] = pa.Field(isin=SIGNAL_TYPES)
    cameo: Series[str]
    intensity: Series[float] = pa.Field(ge=0, le=1)
    confidence: Series[float] = pa.Field(ge=0, le=1)
    negated: Series[bool]
    hypothetical: Series[bool]
    proxy: Series[bool]
    origin: Series[str]


COLUMNS = ["date", "source", "target", "source_fine", "target_fine", "signal", "cameo", "intensity",
           "confidence", "negated", "hypothetical", "proxy", "origin"]


def load_cameo_mapping(path: str | Path) -> dict[str, str]:
    """CAMEO root ("18") -> signal type, from rules/cameo_mapping.yaml (validated: engine/config.py)."""
    from engine.config import load_cameo_mapping as load

    return load(path)


def from_signals(signals: pd.DataFrame, actors: ActorDictionary, reference_date: str) -> pd.DataFrame:
    """Our signals table -> dyad events (country level; undated rows take ``reference_date``)."""
    df = signals[(signals["source"] != "") & (signals["target"] != "")]
    countries = {c: actors.country_of(c) for c in set(df["source"]) | set(df["target"])}
    out = pd.DataFrame({
        "date": pd.to_datetime(df["date"].replace("", reference_date)),
        "source": df["source"].map(countries), "target": df["target"].map(countries),
        "source_fine": df["source"], "target_fine": df["target"], "signal": df["signal"], "cameo": df["cameo"],
        "intensity": df["intensity"], "confidence": df["confidence"], "negated": df["negated"],
        "hypothetical": df["hypothetical"] | (df["status"] == "planned"),
        "proxy": df["source"].map(lambda c: bool(actors.patron_of(c))), "origin": df["signal_id"],
    })
    out = out[(out["source"] != "") & (out["target"] != "") & (out["source"] != out["target"])]
    return validate(DyadEventsTable, out[COLUMNS].reset_index(drop=True), "dyad_events")


def from_icews(path: str | Path, mapping: dict[str, str], actors: ActorDictionary | None = None) -> pd.DataFrame:
    """An ICEWS file of ../shared/data/events -> dyad events. Intensity is |Goldstein| / 10."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        raw = pd.read_csv(fh, dtype=str, keep_default_na=False)
    raw = raw[(raw["source_actor"] != "") & (raw["target_actor"] != "")
              & (raw["source_actor"] != raw["target_actor"]) & raw["cameo_root"].isin(mapping)]
    patrons = {}
    if actors is not None:
        patrons = {c: bool(actors.patron_of(c)) for c in set(raw["source_actor"])}
    out = pd.DataFrame({
        "date": pd.to_datetime(raw["date"]), "source": raw["source_actor"], "target": raw["target_actor"],
        "source_fine": raw["source_actor"], "target_fine": raw["target_actor"],
        "signal": raw["cameo_root"].map(mapping), "cameo": raw["cameo_code"],
        "intensity": (raw["goldstein"].astype(float).abs() / 10).clip(0, 1), "confidence": 1.0,
        "negated": False, "hypothetical": False, "proxy": raw["source_actor"].map(patrons).fillna(False).astype(bool),
        "origin": Path(path).name + ":" + (raw.index + 2).astype(str),
    })
    return validate(DyadEventsTable, out[COLUMNS].reset_index(drop=True), "dyad_events")
