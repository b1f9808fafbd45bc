"""Windows and features per directed pair, from the dyad-event table only; none of them reads corpus size.

One function, ``build_features``, makes both training rows (ICEWS) and scoring rows (our text), so
the model sees the same thing in both. Our extraction's volumes differ from ICEWS's by orders of
magnitude (a 5 MB feed gives one dyad 1,600 signals a week, the seed a handful), so no feature is a
raw count, a log count, a presence flag or "windows since" (all of which grow with the corpus).
Every feature is a **weight**, a **share** or a ratio of two weights, so repeating every event 10
times leaves each one exactly unchanged in any input of at least N_MIN events (``tests/test_features.py``),
and thinning the events keeps its expected value as far as a ratio of sums can (``engine/model/volume.py``
measures it).

A weight sets a count against the whole news of the same windows: for a count x (its mean over the
span's windows) and N the mean number of events per window over the same span, all pairs together,

    weight(x) = x / (x + N * max(1, N_MIN / T) / SCALE)         SCALE = 2000, N_MIN = 2500

0 when the pair is silent, 0.5 when it holds 1/2000 of the window's news (about 1.2 ICEWS18 events a
week), -> 1 for the loudest pairs. Measured against the window's *whole* volume, not per active pair:
thinning a corpus removes most small pairs, which would move a per-pair average (and did: the
previous features shifted by -0.3 under thinning). Shares are of sums over the span (sum of conflict
/ sum of signals), not means of per-window shares, so a quiet window does not count as "no conflict".

N_MIN is the one place where size is read, and only for tiny inputs: T counts the events of every
pair in the last LONG windows up to this one, and an input of fewer than N_MIN events (about one
ICEWS18 week, whose median is 2,460) is read as if its windows held N_MIN / T times more events than
its pairs show, so one signal of a two-sentence input weighs what one event weighs in an ICEWS week. Without it every pair of a one-article input is
"all the news", and the model gave 0.99 to a single attack. ICEWS18 (107,000 events) and feed-sized
inputs pass N_MIN in their first or second window, ICEWS18 thinned to a tenth in its eleventh: from
there on (every test window) their features are exactly invariant to repetition and unbiased under
thinning, as if N_MIN did not exist.

Spans: ``t`` (the window), ``k`` (t-k+1 .. t, default k = 4), ``mid`` (the last 13 windows), ``long``
(the last LONG = 52 windows: the pair's own long-run history). "conflict" is a material-conflict
event (an ATTACK signal with CAMEO 18-20, not hypothetical), "hostile" a THREATEN/MOBILIZE/ATTACK
signal, "negative" a hostile signal or a DEMAND. For a pair A->B:

The pair (A->B)
- ``conflict_weight``, ``conflict_weight_k``, ``conflict_weight_mid``, ``conflict_weight_long``
                                weight of A->B conflict over t, k, mid, long
- ``hostile_weight``, ``hostile_weight_k``, ``hostile_weight_long``   weight of A->B hostile signals
- ``negative_weight_long``      weight of A->B negative signals over long
- ``pair_weight``, ``pair_weight_k``, ``pair_weight_long``           weight of all A->B signals
- ``volume_trend``              log of (A->B signals over k + N_k / SCALE) / (over long + N_long / SCALE):
                                > 0 the pair is louder than its own long run, < 0 quieter
- ``conflict_share_k``, ``conflict_share_long``   conflict share of A->B signals over k, long
- ``hostile_share_long``        hostile share of A->B signals over long
The reverse direction (B->A) and the dyad
- ``rev_conflict_weight_k``, ``rev_conflict_weight_long``   weight of B->A conflict
- ``rev_hostile_weight_long``   weight of B->A hostile signals
- ``dyad_hostile_weight_long``  weight of hostile signals both ways
Third parties and the neighbourhood
- ``others_on_target_weight_k``, ``others_on_target_weight_long``   weight of conflict by anyone but A against B
- ``others_on_source_weight_k``, ``others_on_source_weight_long``   weight of conflict by anyone but B against A
- ``hostile_on_target_weight_long``   weight of hostile signals by anyone but A against B
- ``others_on_target``          conflict share of signals by anyone but A against B over k
- ``others_on_source``          conflict share of signals by anyone but B against A over k
- ``region_weight_k``           weight of signals involving A or B with anyone else over k

Also returned, not features: ``attack_rate`` (share of t-k+1 .. t with an A->B material-conflict
event) and ``since_attack`` (windows since the last one, capped at 12) for the baselines, ``n`` (A->B
signals in t) and the label (training only): an A->B material-conflict event in window t+1.

Chosen on the train windows only (rolling-origin validation inside them; never the test windows):
the model card lists what was tried.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.windows import window_frequency, window_starts

HOSTILE = ["THREATEN", "MOBILIZE", "ATTACK"]
MATERIAL_CONFLICT_ROOTS = ("18", "19", "20")
SINCE_CAP = 12
LONG = 52  # windows of the long-run features (no feature reads further back: ``history.lookback_days``)
MID = 13  # windows of the middle span (a quarter of a year in weeks)
SCALE = 2000.0  # a weight is 0.5 when the pair holds 1/SCALE of the window's news
N_MIN = 2500.0  # an input is read as holding at least this many events in all (about ICEWS18's median week)
FEATURES = [
    "conflict_weight", "conflict_weight_k", "conflict_weight_mid", "conflict_weight_long",
    "hostile_weight", "hostile_weight_k", "hostile_weight_long", "negative_weight_long",
    "pair_weight", "pair_weight_k", "pair_weight_long", "volume_trend",
    "conflict_share_k", "conflict_share_long", "hostile_share_long",
    "rev_conflict_weight_k", "rev_conflict_weight_long", "rev_hostile_weight_long", "dyad_hostile_weight_long",
    "others_on_target_weight_k", "others_on_target_weight_long", "others_on_source_weight_k",
    "others_on_source_weight_long", "hostile_on_target_weight_long", "others_on_target", "others_on_source",
    "region_weight_k",
]
EXTRA = ["attack_rate", "since_attack", "n"]  # baselines and bookkeeping, not model inputs


def _ratio(num, den) -> np.ndarray:
    """num / den, 0 where den is 0."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def _weight(x, unit) -> np.ndarray:
    """x / (x + unit): 0 when x is 0, 0.5 when x equals the unit (scale-free when both scale together)."""
    x = np.asarray(x, dtype=float)
    return _ratio(x, x + np.asarray(unit, dtype=float))


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
    ev["negative"] = ev["hostile"] | (ev["signal"] == "DEMAND")

    windows = pd.date_range(ev["window_start"].min(), ev["window_start"].max(), freq=window_frequency(granularity))
    if pairs is None:
        pairs = sorted(set(zip(ev["source"], ev["target"], strict=True)))
    grid = pd.MultiIndex.from_tuples([(s, t, w) for s, t in pairs for w in windows],
                                     names=["source", "target", "window_start"])

    keys = ["source", "target", "window_start"]
    table = ev.groupby(keys).agg(n=("signal", "size"), conflict=("conflict", "sum"), hostile=("hostile", "sum"),
                                 negative=("negative", "sum"))
    base = table.reindex(grid, fill_value=0)
    reverse = table.copy()
    reverse.index = reverse.index.set_names(["target", "source", "window_start"])
    reverse = reverse.reorder_levels(keys).reindex(grid, fill_value=0)

    # the grid is pair after pair, each with every window in order: a pair's rows are one block
    pair = np.repeat(np.arange(len(pairs)), len(windows))
    src = grid.get_level_values("source")
    tgt = grid.get_level_values("target")
    win = grid.get_level_values("window_start")

    def mean(values, span: int = k) -> np.ndarray:
        """Per pair, the mean over the last ``span`` windows (t-span+1 .. t)."""
        return _rolling_mean(pd.Series(np.asarray(values, dtype=float)), pair, span, False)

    # the window's whole volume (every event, all pairs): its mean over each span, per SCALE; an input
    # whose last LONG windows hold fewer than N_MIN events in all is read as holding N_MIN
    total = ev.groupby("window_start").size().reindex(windows, fill_value=0).astype(float)
    recent = total.rolling(LONG, min_periods=1).sum()
    upscale = pd.Series(np.maximum(1.0, _ratio(np.full(len(recent), N_MIN), recent)), index=windows)
    unit = {span: (upscale * total.rolling(span, min_periods=1).mean() / SCALE).reindex(win).to_numpy()
            for span in (1, k, MID, LONG)}

    def weight(values, span: int = 1) -> np.ndarray:
        return _weight(values if span == 1 else mean(values, span), unit[span])

    column = lambda frame, name: frame[name].to_numpy(float)  # noqa: E731
    n, conflict, hostile, negative = (column(base, c) for c in ("n", "conflict", "hostile", "negative"))
    rn, rconflict, rhostile = (column(reverse, c) for c in ("n", "conflict", "hostile"))

    out = pd.DataFrame(index=grid)
    out["conflict_weight"] = weight(conflict)
    out["conflict_weight_k"] = weight(conflict, k)
    out["conflict_weight_mid"] = weight(conflict, MID)
    out["conflict_weight_long"] = weight(conflict, LONG)
    out["hostile_weight"] = weight(hostile)
    out["hostile_weight_k"] = weight(hostile, k)
    out["hostile_weight_long"] = weight(hostile, LONG)
    out["negative_weight_long"] = weight(negative, LONG)
    out["pair_weight"] = weight(n)
    out["pair_weight_k"] = weight(n, k)
    out["pair_weight_long"] = weight(n, LONG)
    recent, longrun = mean(n, k) + unit[k], mean(n, LONG) + unit[LONG]
    out["volume_trend"] = np.log(_ratio(recent, longrun), out=np.zeros_like(recent), where=(recent > 0) & (longrun > 0))
    out["conflict_share_k"] = _ratio(mean(conflict, k), mean(n, k))
    out["conflict_share_long"] = _ratio(mean(conflict, LONG), mean(n, LONG))
    out["hostile_share_long"] = _ratio(mean(hostile, LONG), mean(n, LONG))
    out["rev_conflict_weight_k"] = weight(rconflict, k)
    out["rev_conflict_weight_long"] = weight(rconflict, LONG)
    out["rev_hostile_weight_long"] = weight(rhostile, LONG)
    out["dyad_hostile_weight_long"] = weight(hostile + rhostile, LONG)

    # third parties: by actor and window, signals sent and received, their conflict and hostile ones
    sums = dict(n=("signal", "size"), conflict=("conflict", "sum"), hostile=("hostile", "sum"))
    sent = ev.groupby(["source", "window_start"]).agg(**sums)
    received = ev.groupby(["target", "window_start"]).agg(**sums)

    def lookup(frame, actors, name) -> np.ndarray:
        index = pd.MultiIndex.from_arrays([actors, win])
        return frame[name].reindex(index, fill_value=0).to_numpy(float)

    on_target_n = lookup(received, tgt, "n") - n  # anyone but A -> B
    on_target_c = lookup(received, tgt, "conflict") - conflict
    on_target_h = lookup(received, tgt, "hostile") - hostile
    on_source_n = lookup(received, src, "n") - rn  # anyone but B -> A
    on_source_c = lookup(received, src, "conflict") - rconflict
    out["others_on_target_weight_k"] = weight(on_target_c, k)
    out["others_on_target_weight_long"] = weight(on_target_c, LONG)
    out["others_on_source_weight_k"] = weight(on_source_c, k)
    out["others_on_source_weight_long"] = weight(on_source_c, LONG)
    out["hostile_on_target_weight_long"] = weight(on_target_h, LONG)
    out["others_on_target"] = _ratio(mean(on_target_c, k), mean(on_target_n, k))
    out["others_on_source"] = _ratio(mean(on_source_c, k), mean(on_source_n, k))
    # the neighbourhood: every signal with A or B at either end, the pair's own (both ways) excluded
    region = (lookup(sent, src, "n") + lookup(received, src, "n") + lookup(sent, tgt, "n")
              + lookup(received, tgt, "n") - 2 * (n + rn))
    out["region_weight_k"] = weight(region, k)

    flags = (conflict > 0).astype(float)
    out["attack_rate"] = mean(flags, k)
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
