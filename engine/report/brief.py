"""What the report says first: the brief (what changed, who is at risk, why) and the evidence of a
pair, strongest first, with syndicated copies collapsed. Pure functions of the run's tables.

The brief compares each pair's latest window with its previous scored window in the run (the
``change`` column of pair_scores), or, when a ``previous`` table is given (a run history: the
previous run's latest score per pair), with that. A pair first seen after the run's first window
counts as new (a rise from nothing); a pair seen only in the first window has nothing to compare
with. Lists: pairs newly in HIGH or above, the largest rises, new pairs, the largest falls, then the
highest scores not yet named; a pair appears once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from engine.schemas import BANDS

ALERT_BAND = "HIGH"
BRIEF_ITEMS = 5  # per list
TOP_ITEMS = 3  # highest scores not named in another list
DEFAULT_EVIDENCE = 5  # sentences per pair
NEAR_DUPLICATE = 0.85  # word-set Jaccard at or above which two sentences are copies of one another
_WORD = re.compile(r"[^\W_]+")


# --------------------------------------------------------------------------- evidence
@dataclass
class Evidence:
    """One evidence sentence (its strongest signal) and how many copies of it were collapsed."""

    signal: dict  # the row of the signals table (with signal_id)
    copies: int = 0  # other sentences (other documents or places) identical or nearly so
    copy_ids: list[str] = field(default_factory=list)  # their signal ids (the first few)


def sentence_key(sentence: str) -> str:
    """Identical up to case, spacing and punctuation."""
    return " ".join(_WORD.findall(sentence.lower()))


def _jaccard(a: frozenset, b: frozenset) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def strongest_evidence(signals: pd.DataFrame, limit: int = DEFAULT_EVIDENCE,
                       pair: tuple[str, str] | None = None, unit=None) -> tuple[list[Evidence], int]:
    """The ``limit`` strongest sentences of a set of signals (confidence x intensity, actual before
    negated; with ``pair``, that pair's own signals before those of other pairs that a rule drew
    on; ``unit`` maps an actor code to the unit pairs are reported at, e.g. ISRGOV -> ISR),
    identical or near-identical sentences collapsed into one with a count of copies; return them
    and the number of distinct sentences left out."""
    if signals.empty:
        return [], 0
    own = 0.0
    if pair:
        same = (signals["source"] == pair[0]) & (signals["target"] == pair[1])
        if unit is not None:
            same |= (signals["source"].map(unit) == unit(pair[0])) & (signals["target"].map(unit) == unit(pair[1]))
        own = same.astype(float)
    sig = signals.assign(_strength=signals["confidence"].astype(float) * signals["intensity"].astype(float)
                         - signals["negated"].astype(bool).astype(float) + 2 * own)
    sig = sig.sort_values(["_strength", "date", "signal_id"], ascending=[False, False, True], kind="stable")
    groups: dict[str, dict] = {}  # exact key -> group, in strength order
    for row in sig.to_dict("records"):
        key = sentence_key(row["sentence"])
        group = groups.get(key)
        if group is None:
            groups[key] = {"rep": row, "places": {(row["doc_id"], row["sent_index"])}, "ids": [],
                           "words": frozenset(key.split())}
        elif (row["doc_id"], row["sent_index"]) not in group["places"]:
            group["places"].add((row["doc_id"], row["sent_index"]))
            group["ids"].append(row["signal_id"])
    kept: list[dict] = []
    left_out = 0
    for group in groups.values():  # strength order: a near-identical group joins the stronger one it resembles
        home = next((k for k in kept if _jaccard(k["words"], group["words"]) >= NEAR_DUPLICATE), None)
        if home is not None:
            home["places"] |= group["places"]
            home["ids"] += [group["rep"]["signal_id"], *group["ids"]]
        elif len(kept) < limit:
            kept.append(group)
        else:
            left_out += 1
    return [Evidence({k: v for k, v in g["rep"].items() if k != "_strength"}, len(g["places"]) - 1, g["ids"][:20])
            for g in kept], left_out


# --------------------------------------------------------------------------- the brief
@dataclass
class BriefItem:
    kind: str  # "newly-high", "rise", "new", "fall", "top"
    row: dict  # the pair's latest pair_scores row
    previous_score: float | None
    previous_band: str | None
    driver: dict | None = None  # the rule hit that drove it
    evidence: Evidence | None = None


def latest_with_previous(pair_scores: pd.DataFrame, previous: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each pair's latest row with ``prev_score`` / ``prev_band`` (NaN / None when nothing to compare
    with) and ``new`` (first seen after the run's first window, or absent from ``previous``)."""
    if pair_scores.empty:
        return pair_scores.assign(prev_score=[], prev_band=[], new=[])
    ordered = pair_scores.sort_values(["source", "target", "window_start"], kind="stable")
    grouped = ordered.groupby(["source", "target"], sort=False)
    latest = ordered[grouped.cumcount(ascending=False) == 0].copy()
    first_window = pair_scores["window_start"].min()
    if previous is not None:
        prev = previous.sort_values("window_start").groupby(["source", "target"]).tail(1) \
            if "window_start" in previous.columns else previous.drop_duplicates(["source", "target"], keep="last")
        prev = prev[["source", "target", "score", "band"]].rename(columns={"score": "prev_score", "band": "prev_band"})
        latest = latest.merge(prev, on=["source", "target"], how="left")
        latest["new"] = latest["prev_score"].isna()
    else:
        before = ordered[grouped.cumcount(ascending=False) == 1][["source", "target", "score", "band"]]
        before = before.rename(columns={"score": "prev_score", "band": "prev_band"})
        latest = latest.merge(before, on=["source", "target"], how="left")
        first_seen = grouped["window_start"].min().rename("_first").reset_index()
        latest = latest.merge(first_seen, on=["source", "target"], how="left")
        latest["new"] = latest["prev_score"].isna() & (latest.pop("_first") > first_window)
    latest["prev_band"] = latest["prev_band"].where(latest["prev_band"].notna(), None)
    return latest.reset_index(drop=True)


def _band_index(band) -> int:
    return BANDS.index(band) if isinstance(band, str) and band in BANDS else -1


def brief_items(pair_scores: pd.DataFrame, previous: pd.DataFrame | None = None,
                per_list: int = BRIEF_ITEMS) -> dict[str, list[BriefItem]]:
    """The brief's lists (see the module docstring), each pair at most once."""
    lists: dict[str, list[BriefItem]] = {"newly-high": [], "rise": [], "new": [], "fall": [], "top": []}
    latest = latest_with_previous(pair_scores, previous)
    if latest.empty:
        return lists
    alert = BANDS.index(ALERT_BAND)
    latest["_level"] = latest["band"].map(_band_index)
    latest["_prev_level"] = latest["prev_band"].map(_band_index)
    latest["_delta"] = latest["score"] - latest["prev_score"].fillna(0.0)
    has_prev = latest["prev_score"].notna()
    candidates = {
        "newly-high": latest[(latest["_level"] >= alert) & (latest["_prev_level"] < alert)
                             & (has_prev | latest["new"])].sort_values(["score"], ascending=False),
        "rise": latest[has_prev & (latest["_delta"] > 0)].sort_values("_delta", ascending=False),
        "new": latest[latest["new"]].sort_values("score", ascending=False),
        "fall": latest[has_prev & (latest["_delta"] < 0)].sort_values("_delta"),
        "top": latest.sort_values(["score", "rules_score"], ascending=False),
    }
    named: set[tuple[str, str]] = set()
    for kind, frame in candidates.items():
        limit = per_list if kind != "top" else TOP_ITEMS
        for row in frame.to_dict("records"):
            if len(lists[kind]) >= limit:
                break
            key = (row["source"], row["target"])
            if key in named:
                continue
            named.add(key)
            prev = row["prev_score"]
            lists[kind].append(BriefItem(kind, row, None if pd.isna(prev) else float(prev), row["prev_band"]))
    return lists


def driving_hit(hits: pd.DataFrame, band_raised: bool, falling: bool = False) -> dict | None:
    """The rule hit that drove a pair-window: the floor that raised its band, else the largest
    contribution (for a fall, the most negative one if any)."""
    if hits.empty:
        return None
    if band_raised:
        floors = hits[hits["band_floor"] != ""]
        if not floors.empty:
            return floors.iloc[0].to_dict()
    if falling and (hits["contribution"] < 0).any():
        return hits.loc[hits["contribution"].idxmin()].to_dict()
    return hits.loc[hits["contribution"].abs().idxmax()].to_dict()
