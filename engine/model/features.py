"""Windows and features per directed pair, from the dyad-event table only; none of them reads corpus size.

One function, ``build_features``, makes both training rows (ICEWS) and scoring rows (our text), so
the model sees the same thing in both. Our extraction's volumes differ from ICEWS's by orders of
magnitude (a 5 MB feed gives one dyad 1,600 signals a week, the seed a handful), so every feature
is a **share** or a **ratio of counts**: repeating every event 10 times leaves each feature exactly
unchanged, thinning the events keeps each one's expected value (``tests/test_volume_invariance.py``).
No feature is a raw count, a log count, a presence flag or "windows since" (all of which grow with
the corpus). For a pair A->B and window t, with k previous windows (default 4):

The pair itself (A->B) and the reverse direction (B->A); "conflict" is a material-conflict event
(CAMEO 18-20), "hostile" a THREATEN/MOBILIZE/ATTACK signal, n(t) the pair's signals in t
- ``share_<TYPE>``          share of A->B signals in t of each type (0 when A->B is silent in t)
- ``rev_share_<TYPE>``      the same for B->A
- ``conflict_share``        share of A->B signals in t that are conflict
- ``conflict_share_k``      the same over t-k+1 .. t (sum of conflict / sum of signals)
- ``conflict_share_long``   the same over the last LONG windows (the pair's own long-run history)
- ``rev_conflict_k``        ``conflict_share_k`` of B->A
- ``rev_conflict_share``    ``conflict_share`` of B->A
- ``hostile_trend``         hostile share in t minus the hostile share over t-k .. t-1
- ``w_hostile``             mean intensity x confidence of A->B hostile signals in t (0 when none)
- ``reciprocity``           min(hostile A->B, hostile B->A) / max(...) in t (0 when one side is silent)
- ``hypo_share``            share of A->B signals in t that are hypothetical or planned
- ``proxy_share``           share of A->B signals in t raised by a proxy of A (e.g. IRQUAF for IRN)
- ``rel_volume``            n(t) / (n(t) + mean n over t-k .. t-1): 0.5 steady, -> 1 a surge, -> 0 a lull
- ``rev_rel_volume``        the same for B->A
Against the window's whole volume (m = signals per active directed pair in the window, its mean
over t-k+1 .. t; c = conflict events per active pair, likewise): x / (x + m) is 0.5 for a typical pair
- ``pair_weight``           n(t) against m;  ``pair_weight_k``: mean n over t-k+1 .. t against m
- ``rev_pair_weight``       B->A signals in t against m
- ``conflict_weight``       mean A->B conflict over t-k+1 .. t against c
- ``rev_conflict_weight``   the same for B->A
- ``conflict_weight_long``  mean A->B conflict over the last LONG windows against c over them
Context: third parties and the neighbourhood (over t-k+1 .. t)
- ``others_on_target``      conflict share of signals by anyone but A against B
- ``others_on_source``      conflict share of signals by anyone but B against A
- ``source_on_others``      conflict share of A's signals against anyone but B
- ``target_conflict_weight`` conflict by anyone but A against B, against c
- ``source_conflict_weight`` conflict by anyone but B against A, against c
- ``region_rel``            signals involving A or B with anyone else in t, relative to their mean
                            over t-k .. t-1 (as ``rel_volume``): the neighbourhood heating up or cooling
- ``region_weight``         those signals' share of the window's whole volume, relative to the same
                            share over t-k .. t-1 (as ``rel_volume``)

Also returned, not features: ``attack_rate`` (share of t-k+1 .. t with an A->B material-conflict
event) and ``since_attack`` (windows since the last one, capped at 12) for the baselines, ``n`` (A->B
signals in t) and the label (training only): an A->B material-conflict event in window t+1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.schemas import SIGNAL_TYPES
from engine.windows import window_frequency, window_starts

HOSTILE = ["THREATEN", "MOBILIZE", "ATTACK"]
MATERIAL_CONFLICT_ROOTS = ("18", "19", "20")
SINCE_CAP = 12
LONG = 52  # windows of the long-run features (no feature reads further back: ``history.lookback_days``)
FEATURES = (
    [f"share_{t}" for t in SIGNAL_TYPES] + [f"rev_share_{t}" for t in SIGNAL_TYPES]
    + ["conflict_share", "conflict_share_k", "conflict_share_long", "rev_conflict_k", "hostile_trend", "w_hostile",
       "reciprocity", "hypo_share", "proxy_share", "rel_volume", "rev_rel_volume", "pair_weight", "pair_weight_k",
       "rev_pair_weight", "conflict_weight", "rev_conflict_share", "rev_conflict_weight",
       "target_conflict_weight", "source_conflict_weight", "conflict_weight_long",
       "others_on_target", "others_on_source", "source_on_others", "region_rel", "region_weight"]
)
EXTRA = ["attack_rate", "since_attack", "n"]  # baselines and bookkeeping, not model inputs


def _ratio(num, den) -> np.ndarray:
    """num / den, 0 where den is 0."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def _relative(now, past) -> np.ndarray:
    """now / (now + past): 0.5 when now equals the past mean, 0 when now is 0 (scale-free)."""
    return _ratio(now, np.asarray(now, dtype=float) + np.asarray(past, dtype=float))


def build_features(events: pd.DataFrame, granularity: str = "week", k: int = 4,
                   pairs: list[tuple[str, str]] | None = None) -> pd.DataFrame:
    """Feature rows for every pair (or the given ``pairs``) and every window of the events' span.

    Every event of ``events`` counts for the window totals and the third-party context, also those
    of pairs not asked for. Returns columns source, target, window_start, *FEATURES, *EXTRA, label
    (NaN for the last window).
    """
    ev = events[~events["negated"]].copy()
    if ev.empty:
        return pd.DataFrame(columns=["source", "target", "window_start", *FEATURES, *EXTRA, "label"])
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
    table = counts.join(agg)
    base = table.reindex(grid, fill_value=0)
    reverse = table.copy()
    reverse.index = reverse.index.set_names(["target", "source", "window_start"])
    reverse = reverse.reorder_levels(keys).reindex(grid, fill_value=0)

    # the grid is pair after pair, each with every window in order: a pair's rows are one block
    pair = np.repeat(np.arange(len(pairs)), len(windows))
    src = grid.get_level_values("source")
    tgt = grid.get_level_values("target")
    win = grid.get_level_values("window_start")

    def rolling(values, past_only=False) -> np.ndarray:
        return _rolling_mean(pd.Series(np.asarray(values, dtype=float)), pair, k, past_only)

    n, rn = base["total"].to_numpy(float), reverse["total"].to_numpy(float)
    conflict, rconflict = base["conflict"].to_numpy(float), reverse["conflict"].to_numpy(float)
    hostile, rhostile = base["hostile"].to_numpy(float), reverse["hostile"].to_numpy(float)

    out = pd.DataFrame(index=grid)
    for t in SIGNAL_TYPES:
        out[f"share_{t}"] = _ratio(base[t], n)
    for t in SIGNAL_TYPES:
        out[f"rev_share_{t}"] = _ratio(reverse[t], rn)
    out["conflict_share"] = _ratio(conflict, n)
    out["conflict_share_k"] = _ratio(rolling(conflict), rolling(n))
    long = lambda v: _rolling_mean(pd.Series(np.asarray(v, dtype=float)), pair, LONG, False)  # noqa: E731
    out["conflict_share_long"] = _ratio(long(conflict), long(n))
    out["rev_conflict_k"] = _ratio(rolling(rconflict), rolling(rn))
    hostile_share = _ratio(hostile, n)
    past_hostile = _ratio(rolling(hostile, past_only=True), rolling(n, past_only=True))
    out["hostile_trend"] = hostile_share - past_hostile
    out["w_hostile"] = _ratio(base["w"], hostile)
    out["reciprocity"] = _ratio(np.minimum(hostile, rhostile), np.maximum(hostile, rhostile))
    out["hypo_share"] = _ratio(base["hypo"], n)
    out["proxy_share"] = _ratio(base["proxy"], n)
    out["rel_volume"] = _relative(n, rolling(n, past_only=True))
    out["rev_rel_volume"] = _relative(rn, rolling(rn, past_only=True))

    # the window's whole volume: signals per active directed pair (scale-free against n)
    per_window = ev.groupby("window_start").agg(total=("signal", "size"))
    per_window["pairs"] = ev.drop_duplicates(keys).groupby("window_start").size()
    per_window = per_window.reindex(windows, fill_value=0)
    per_pair = pd.Series(_ratio(per_window["total"], per_window["pairs"]), index=windows)
    typical = per_pair.rolling(k, min_periods=1).mean().reindex(win).to_numpy()
    out["pair_weight"] = _relative(n, typical)
    out["pair_weight_k"] = _relative(rolling(n), typical)
    out["rev_pair_weight"] = _relative(rn, typical)
    per_window["conflict"] = ev.groupby("window_start")["conflict"].sum().reindex(windows, fill_value=0)
    typical_conflict = pd.Series(_ratio(per_window["conflict"], per_window["pairs"]), index=windows)
    typical_conflict = typical_conflict.rolling(k, min_periods=1).mean().reindex(win).to_numpy()
    out["conflict_weight"] = _relative(rolling(conflict), typical_conflict)
    out["rev_conflict_share"] = _ratio(rconflict, rn)
    out["conflict_weight_long"] = _relative(long(conflict), long(typical_conflict))
    out["rev_conflict_weight"] = _relative(rolling(rconflict), typical_conflict)

    # third parties: by actor and window, signals sent and received, and their conflict events
    sent = ev.groupby(["source", "window_start"]).agg(n=("signal", "size"), c=("conflict", "sum"))
    received = ev.groupby(["target", "window_start"]).agg(n=("signal", "size"), c=("conflict", "sum"))

    def lookup(frame, actors, column) -> np.ndarray:
        index = pd.MultiIndex.from_arrays([actors, win])
        return frame[column].reindex(index, fill_value=0).to_numpy(float)

    on_target_n = lookup(received, tgt, "n") - n  # anyone but A -> B
    on_target_c = lookup(received, tgt, "c") - conflict
    on_source_n = lookup(received, src, "n") - rn  # anyone but B -> A
    on_source_c = lookup(received, src, "c") - rconflict
    by_source_n = lookup(sent, src, "n") - n  # A -> anyone but B
    by_source_c = lookup(sent, src, "c") - conflict
    out["others_on_target"] = _ratio(rolling(on_target_c), rolling(on_target_n))
    out["others_on_source"] = _ratio(rolling(on_source_c), rolling(on_source_n))
    out["source_on_others"] = _ratio(rolling(by_source_c), rolling(by_source_n))
    out["target_conflict_weight"] = _relative(rolling(on_target_c), typical_conflict)
    out["source_conflict_weight"] = _relative(rolling(on_source_c), typical_conflict)
    # the neighbourhood: every signal with A or B at either end, the pair's own excluded
    region = (lookup(sent, src, "n") + lookup(received, src, "n") + lookup(sent, tgt, "n")
              + lookup(received, tgt, "n") - 2 * (n + rn))
    out["region_rel"] = _relative(region, rolling(region, past_only=True))
    window_total = per_window["total"].reindex(win).to_numpy(float)
    region_share = _ratio(region, window_total)
    out["region_weight"] = _relative(region_share, rolling(region_share, past_only=True))

    flags = (conflict > 0).astype(float)
    out["attack_rate"] = rolling(flags)
    out["since_attack"] = _windows_since(flags, len(windows))
    out["n"] = n
    out["label"] = pd.Series(flags, index=grid).groupby(level=["source", "target"], sort=False).shift(-1)
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
