"""Windows and features per directed pair, from the dyad-event table only.

One function, ``build_features``, makes both training rows (ICEWS) and scoring rows (our text), so
the model sees the same thing in both. For a pair A->B and window t (day / week / month), with k
previous windows (default 4):

- ``n_<TYPE>``      log(1 + count) of A->B signals of each type in t (negated ones excluded)
- ``rev_<TYPE>``    the same for B->A
- ``avg_<TYPE>``    mean over t-k .. t-1 of n_<TYPE> (the pair's recent past)
- ``w_hostile``     log(1 + sum of intensity x confidence of A->B THREATEN/MOBILIZE/ATTACK in t)
- ``reciprocity``   min(hostile A->B, hostile B->A) / max(...) in t (0 when one side is silent)
- ``trend``         hostile count A->B in t minus its mean over t-k .. t-1
- ``hypo_share``    share of A->B signals in t that are hypothetical or planned
- ``proxy_share``   share of A->B signals in t raised by a proxy of A (e.g. IRQUAF for IRN)
- ``attack_rate``   share of t-k+1 .. t with at least one A->B material-conflict event
- ``since_attack``  windows since the last A->B material-conflict event, capped at 12 (12 = none)
- ``rules_score``   the pair's rules score in t (sum of its rule hits; 0 when none)

Label (training only): an A->B material-conflict event (CAMEO 18-20) in window t+1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.schemas import SIGNAL_TYPES
from engine.windows import window_frequency, window_starts

HOSTILE = ["THREATEN", "MOBILIZE", "ATTACK"]
MATERIAL_CONFLICT_ROOTS = ("18", "19", "20")
SINCE_CAP = 12
FEATURES = (
    [f"n_{t}" for t in SIGNAL_TYPES] + [f"rev_{t}" for t in SIGNAL_TYPES] + [f"avg_{t}" for t in SIGNAL_TYPES]
    + ["w_hostile", "reciprocity", "trend", "hypo_share", "proxy_share", "attack_rate", "since_attack", "rules_score"]
)


def build_features(events: pd.DataFrame, granularity: str = "week", k: int = 4,
                   rules_scores: pd.DataFrame | None = None, pairs: list[tuple[str, str]] | None = None,
                   ) -> pd.DataFrame:
    """Feature rows for every pair (or the given ``pairs``) and every window of the events' span.

    ``rules_scores``: optional DataFrame with source, target, window_start (Timestamp), rules_score.
    Returns columns source, target, window_start, *FEATURES, label (NaN for the last window).
    """
    ev = events[~events["negated"]].copy()
    if ev.empty:
        return pd.DataFrame(columns=["source", "target", "window_start", *FEATURES, "label"])
    ev["window_start"] = window_starts(ev["date"], granularity)
    ev["conflict"] = ev["cameo"].str[:2].isin(MATERIAL_CONFLICT_ROOTS) & (ev["signal"] == "ATTACK") & ~ev["hypothetical"]
    ev["hostile"] = ev["signal"].isin(HOSTILE)
    ev["w"] = np.where(ev["hostile"], ev["intensity"] * ev["confidence"], 0.0)

    windows = pd.date_range(ev["window_start"].min(), ev["window_start"].max(), freq=window_frequency(granularity))
    if pairs is None:
        pairs = sorted(set(zip(ev["source"], ev["target"], strict=True)))
    grid = pd.MultiIndex.from_tuples([(s, t, w) for s, t in pairs for w in windows],
                                     names=["source", "target", "window_start"])

    keys = ["source", "target", "window_start"]
    counts = ev.pivot_table(index=keys, columns="signal", values="intensity", aggfunc="size", fill_value=0)
    counts = counts.reindex(columns=SIGNAL_TYPES, fill_value=0)
    agg = ev.groupby(keys).agg(total=("signal", "size"), hostile=("hostile", "sum"), w=("w", "sum"),
                               hypo=("hypothetical", "sum"), proxy=("proxy", "sum"), conflict=("conflict", "sum"))
    base = counts.join(agg).reindex(grid, fill_value=0)
    reverse = counts.join(agg)
    reverse.index = reverse.index.set_names(["target", "source", "window_start"])
    reverse = reverse.reorder_levels(keys).reindex(grid, fill_value=0)

    # the grid is pair after pair, each with every window in order: a pair's rows are one block
    pair = np.repeat(np.arange(len(pairs)), len(windows))
    out = pd.DataFrame(index=grid)
    for t in SIGNAL_TYPES:
        out[f"n_{t}"] = np.log1p(base[t])
        out[f"rev_{t}"] = np.log1p(reverse[t])
    for t in SIGNAL_TYPES:
        out[f"avg_{t}"] = _rolling_mean(out[f"n_{t}"], pair, k, past_only=True)
    out["w_hostile"] = np.log1p(base["w"])
    hi, ho = base["hostile"].astype(float), reverse["hostile"].astype(float)
    out["reciprocity"] = np.where(np.maximum(hi, ho) > 0, np.minimum(hi, ho) / np.maximum(hi, ho).clip(lower=1), 0.0)
    out["trend"] = hi - _rolling_mean(hi, pair, k, past_only=True)
    total = base["total"].astype(float)
    out["hypo_share"] = np.where(total > 0, base["hypo"] / total.clip(lower=1), 0.0)
    out["proxy_share"] = np.where(total > 0, base["proxy"] / total.clip(lower=1), 0.0)
    conflict = (base["conflict"] > 0).astype(float)
    cgroups = conflict.groupby(level=["source", "target"], sort=False)
    out["attack_rate"] = _rolling_mean(conflict, pair, k, past_only=False)
    out["since_attack"] = _windows_since(conflict.to_numpy(), len(windows))
    out["rules_score"] = 0.0
    if rules_scores is not None and len(rules_scores):
        rs = rules_scores.groupby(keys)["rules_score"].sum()
        out["rules_score"] = rs.reindex(grid, fill_value=0.0).values
    out["label"] = cgroups.shift(-1)
    return out.reset_index()


def _rolling_mean(values: pd.Series, pair: np.ndarray, k: int, past_only: bool) -> np.ndarray:
    """Per pair, the mean over the previous ``k`` windows (``past_only``: t-k .. t-1, 0 for the first
    window) or over t-k+1 .. t. One grouped rolling call for all pairs (the same arithmetic as a
    rolling mean per pair, without a Python call per pair)."""
    series = pd.Series(values.to_numpy(dtype=float))
    if past_only:
        series = series.groupby(pair, sort=False).shift(1)
    rolled = series.groupby(pair, sort=False).rolling(k, min_periods=1).mean()
    return rolled.reset_index(level=0, drop=True).sort_index().fillna(0).to_numpy()


def _windows_since(flags: np.ndarray, n_windows: int) -> np.ndarray:
    """Per pair (blocks of ``n_windows`` rows), windows since the last flagged one, capped at
    SINCE_CAP (SINCE_CAP when none yet)."""
    flags = flags.reshape(-1, n_windows).astype(bool)
    index = np.broadcast_to(np.arange(n_windows), flags.shape)
    last = np.maximum.accumulate(np.where(flags, index, -SINCE_CAP - 1), axis=1)
    return np.minimum(index - last, SINCE_CAP).astype(float).ravel()
