"""The volume check: does the classifier read corpus size?

Our extraction's volumes differ from ICEWS's by orders of magnitude, so the trained model is applied,
unchanged, to the same events thinned to 10 % (a random tenth, fixed seed) and repeated 10 times,
and compared with the original on the test windows:

- **test ROC-AUC**, each corpus against its own next-window labels (a thinned corpus has fewer
  material-conflict events to predict): the change must stay under 0.02. Also shown: the thinned
  corpus's ROC-AUC against the *original* labels, which measures the information thinning removes
  (not a property of the model), and the *original* predictions against the thinned labels
  (``roc_auc_labels_only``): how far the thinned labels alone move ROC-AUC, the model's inputs left
  as they were. A tenth of ICEWS18's test windows holds about 85 material-conflict labels instead of
  about 470, so one draw's ROC-AUC moves by up to +-0.04 from its labels alone: a single draw's
  change is read against that, and the check is repeated over other random tenths
  (``thinning_spread``; ``spread_verdict`` averages the change over all draws);
- **the pairs' ranking** by mean probability over the test windows: Spearman's rho against the
  original ranking, over the pairs the transformed corpus still has evidence about (at least
  ``min_events`` events, the training rule: about 60 of 541 ICEWS18 pairs after thinning) >= 0.9, and,
  shown for the record, over all pairs (a pair with 3 events left cannot keep its rank).

Repeating every event leaves every feature exactly unchanged (they are weights against the window's
whole volume, shares and ratios of them; only an input of fewer than ``features.N_MIN`` events in all is
read with caution, and ICEWS18 and its thinned tenth hold far more), so the repeated corpus gives the
same figures to the last digit.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sklearn.metrics import roc_auc_score

from engine.model.features import build_features

AUC_TOLERANCE = 0.02
MIN_SPEARMAN = 0.9
THIN_SHARE = 0.1
REPEAT = 10
SEED = 20241101
SPREAD_SEEDS = tuple(range(1, 11))


@dataclass
class VolumeCheck:
    transform: str
    roc_auc: float  # on the transformed corpus, its own labels
    roc_auc_original: float  # on the original corpus (the same for every transform)
    roc_auc_original_labels: float  # transformed features, original labels
    spearman: float  # pairs with >= min_events events in the transformed corpus
    n_pairs: int
    spearman_all: float
    n_pairs_all: int
    roc_auc_labels_only: float = float("nan")  # original predictions, transformed corpus's labels
    n_positive: int = 0  # positive labels of the transformed corpus in the test windows
    seed: int | None = None  # the random draw (thinning only)

    @property
    def auc_change(self) -> float:
        return self.roc_auc - self.roc_auc_original

    @property
    def passed(self) -> bool:
        return abs(self.auc_change) < AUC_TOLERANCE and self.spearman >= MIN_SPEARMAN


def thinned(events: pd.DataFrame, share: float = THIN_SHARE, seed: int = SEED) -> pd.DataFrame:
    return events.sample(frac=share, random_state=seed).sort_index()


def repeated(events: pd.DataFrame, times: int = REPEAT) -> pd.DataFrame:
    return pd.concat([events] * times, ignore_index=True)


def _spearman(a: pd.Series, b: pd.Series) -> float:
    return float(a.rank().corr(b.rank()))


def volume_checks(model, events: pd.DataFrame, pairs: list[tuple[str, str]], granularity: str,
                  test_start, min_events: int = 30, seed: int = SEED, repeat: bool = True) -> list[VolumeCheck]:
    """Apply ``model`` to ``events`` thinned and repeated; compare with the original on the windows
    from ``test_start`` on (the evaluation's test windows)."""
    from engine.model.train import predict

    keys = ["source", "target", "window_start"]

    def test_rows(ev: pd.DataFrame) -> pd.DataFrame:
        rows = build_features(ev, granularity, pairs=pairs).dropna(subset=["label"])
        rows = rows[rows["window_start"] >= pd.Timestamp(test_start)].reset_index(drop=True)
        return rows.assign(p=predict(model, rows))

    original = test_rows(events)
    keyed_original = original[[*keys, "p"]].rename(columns={"p": "_p0"})
    auc_original = float(roc_auc_score(original["label"].astype(int), original["p"]))
    mean_original = original.groupby(["source", "target"])["p"].mean()
    checks = []
    transforms = [(f"thinned to {THIN_SHARE:.0%}", thinned(events, seed=seed), seed)]
    if repeat:
        transforms.append((f"repeated {REPEAT}x", repeated(events), None))
    for name, ev, draw in transforms:
        rows = test_rows(ev).merge(original[[*keys, "label"]].rename(columns={"label": "_y0"}), on=keys)
        rows = rows.merge(keyed_original, on=keys)
        counts = ev.groupby(["source", "target"]).size()
        kept = [p for p in mean_original.index if counts.get(p, 0) >= min_events]
        mean = rows.groupby(["source", "target"])["p"].mean().reindex(mean_original.index)
        checks.append(VolumeCheck(
            name, float(roc_auc_score(rows["label"].astype(int), rows["p"])), auc_original,
            float(roc_auc_score(rows["_y0"].astype(int), rows["p"])),
            _spearman(mean_original.loc[kept], mean.loc[kept]) if len(kept) > 1 else float("nan"), len(kept),
            _spearman(mean_original, mean), len(mean_original),
            float(roc_auc_score(rows["label"].astype(int), rows["_p0"])), int(rows["label"].sum()), draw))
    return checks


def thinning_spread(model, events: pd.DataFrame, pairs: list[tuple[str, str]], granularity: str, test_start,
                    min_events: int = 30, seeds=SPREAD_SEEDS) -> list[VolumeCheck]:
    """The thinning check again with other random tenths: how much the figures owe to one draw."""
    return [volume_checks(model, events, pairs, granularity, test_start, min_events, seed=s, repeat=False)[0]
            for s in seeds]


def spread_verdict(draws: list[VolumeCheck]) -> tuple[float, float, bool]:
    """Over several thinning draws: the mean ROC-AUC change, the lowest Spearman over the pairs kept,
    and whether the mean change stays under the tolerance and every draw keeps the ranking."""
    change = sum(c.auc_change for c in draws) / len(draws)
    lowest = min(c.spearman for c in draws)
    return change, lowest, abs(change) < AUC_TOLERANCE and lowest >= MIN_SPEARMAN


def describe_spread(spread: list[VolumeCheck], checks: list[VolumeCheck] = ()) -> str:
    """The thinning check over every draw (``checks``' thinning first, then ``spread``): a table and a verdict."""
    draws = [c for c in checks if c.transform.startswith("thinned")] + list(spread)
    if not spread:
        return ""
    lines = ["| draw (seed) | positives | ROC-AUC change | change from the labels alone | Spearman, pairs kept | "
             "passes |", "|---|---|---|---|---|---|"]
    lines += [f"| {c.seed} | {c.n_positive} | {c.auc_change:+.3f} | {c.roc_auc_labels_only - c.roc_auc_original:+.3f} | "
              f"{c.spearman:.3f} ({c.n_pairs}) | {'yes' if c.passed else 'no'} |" for c in draws]
    change, lowest, ok = spread_verdict(draws)
    alone = [c.roc_auc_labels_only - c.roc_auc_original for c in draws]
    passed = sum(c.passed for c in draws)
    return ("\n".join(lines) + f"\n\n{passed} of {len(draws)} draws pass both limits on their own. With the model's "
            f"inputs left as they were, the thinned labels alone move the test ROC-AUC by {min(alone):+.3f} .. "
            f"{max(alone):+.3f}: one draw's change is within its labels' noise. Over the {len(draws)} draws the mean "
            f"ROC-AUC change is {change:+.3f} and the lowest Spearman {lowest:.3f}: "
            + ("**the model passes the thinning check on average over the draws**." if ok else
               "**the model fails the thinning check even on average over the draws**."))


def describe_checks(checks: list[VolumeCheck]) -> str:
    if not checks:
        return ""
    lines = ["| events | test ROC-AUC (own labels) | change | ROC-AUC, original labels | Spearman, pairs kept | "
             "Spearman, all pairs | passes |", "|---|---|---|---|---|---|---|",
             f"| original | {checks[0].roc_auc_original:.3f} | | | | | |"]
    for c in checks:
        lines.append(f"| {c.transform} | {c.roc_auc:.3f} | {c.auc_change:+.3f} | {c.roc_auc_original_labels:.3f} | "
                     f"{c.spearman:.3f} ({c.n_pairs} pairs) | {c.spearman_all:.3f} ({c.n_pairs_all}) | "
                     f"{'yes' if c.passed else '**no**'} |")
    return "\n".join(lines)

