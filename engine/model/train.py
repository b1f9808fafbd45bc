"""The next-window material-conflict classifier: training, time-split evaluation, safe persistence.

Model: standardised features -> logistic regression (scikit-learn ``Pipeline``), then sigmoid
calibration fitted on the last fifth of the training windows (never on test windows). lbfgs with a
fixed seed: the same command on the same data gives the same coefficients. Every feature is a weight
against the window's whole volume, a share or a ratio of weights (``engine/model/features.py``), so
the model does not read corpus size; the volume check (``engine/model/volume.py``) measures that on
every evaluation. The features, C and the feature scale were chosen by rolling-origin validation
inside the train windows (``validation``), never on the test windows.

Evaluation: train on the first 70 % of windows, test on the rest, next to baselines computed in the
same run: persistence (an attack this window => an attack next window), the pair's attack rate over
the last 4 windows, and the rules score alone (a one-feature logistic fit on the train windows).
Gradient boosting (``HistGradientBoostingClassifier``, same features, same calibration) is fitted and
scored beside it as the alternative that was tried; it is not shipped (see the model card).
"""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
import skops
import skops.io as sio
from sklearn.calibration import CalibratedClassifierCV, calibration_curve
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from engine.errors import ModelFileError
from engine.model.features import FEATURES, build_features
from engine.skops_files import load_allowed, model_file_types  # noqa: F401 - model_file_types: part of this API

C = 0.01  # inverse regularisation strength of the logistic regression (validated: 0.002-0.05 within 0.001 ROC-AUC)
PRECISION_AT = (10, 25, 50)  # pairs a window

SEED = 20241101
TRAIN_SHARE = 0.7
CALIBRATION_SHARE = 0.2

# Types the classifier's model file may contain; anything else is refused before loading
# (``engine/skops_files.py``).
ALLOWED_TYPES = {
    "sklearn.calibration.CalibratedClassifierCV", "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration", "sklearn.frozen._frozen.FrozenEstimator",
    "sklearn.pipeline.Pipeline", "sklearn.preprocessing._data.StandardScaler",
    "sklearn.linear_model._logistic.LogisticRegression",
}


def events_to_signals(events: pd.DataFrame) -> pd.DataFrame:
    """Dyad events in the signals shape the rules read (to compute rules scores for training)."""
    return pd.DataFrame({
        "signal_id": events["origin"].astype(str), "source": events["source"], "target": events["target"],
        "signal": events["signal"], "date": events["date"].dt.strftime("%Y-%m-%d"), "negated": events["negated"],
        "hypothetical": events["hypothetical"], "status": "past", "location": "",
        "intensity": events["intensity"], "confidence": events["confidence"],
    })


def rules_scores_for(events: pd.DataFrame, rules, actors, granularity: str) -> pd.DataFrame:
    from engine.rules.engine import run_rules, signal_groups

    hits = run_rules(rules, signal_groups(events_to_signals(events), actors, granularity))
    if not hits:
        return pd.DataFrame(columns=["source", "target", "window_start", "rules_score"])
    df = pd.DataFrame([{"source": h.source, "target": h.target, "window_start": pd.Timestamp(h.window_start),
                        "rules_score": h.contribution} for h in hits])
    return df.groupby(["source", "target", "window_start"], as_index=False)["rules_score"].sum()


def training_pairs(events: pd.DataFrame, min_events: int = 30) -> list[tuple[str, str]]:
    counts = events.groupby(["source", "target"]).size()
    return sorted(counts[counts >= min_events].index)


def training_rows(events: pd.DataFrame, rules=None, actors=None, granularity: str = "week",
                  min_events: int = 30) -> pd.DataFrame:
    """Feature rows with labels for every pair with at least ``min_events`` events (every event of
    the file counts as context: window volume, third parties). With ``rules`` and ``actors``, also
    the pairs' rules scores in a ``rules_score`` column, for the rules-alone baseline only (the
    classifier does not read it: editing a rule does not change the model)."""
    pairs = training_pairs(events, min_events)
    rows = build_features(events, granularity, pairs=pairs)
    rows["rules_score"] = 0.0
    if rules is not None and actors is not None:
        kept = events.set_index(["source", "target"]).loc[pairs].reset_index()
        scores = rules_scores_for(kept, rules, actors, granularity).set_index(["source", "target", "window_start"])
        index = pd.MultiIndex.from_frame(rows[["source", "target", "window_start"]])
        rows["rules_score"] = scores["rules_score"].reindex(index, fill_value=0.0).to_numpy()
    return rows.dropna(subset=["label"]).reset_index(drop=True)


def split_by_time(rows: pd.DataFrame, share: float = TRAIN_SHARE) -> tuple[pd.DataFrame, pd.DataFrame]:
    windows = sorted(rows["window_start"].unique())
    cut = windows[int(len(windows) * share)]
    return rows[rows["window_start"] < cut], rows[rows["window_start"] >= cut]


def _pipeline() -> Pipeline:
    return Pipeline([("scale", StandardScaler()),
                     ("logit", LogisticRegression(C=C, max_iter=5000, random_state=SEED))])


def fit(rows: pd.DataFrame, estimator=None) -> CalibratedClassifierCV:
    """Fit the pipeline (or ``estimator``) on the earlier windows, calibrate on the later ones (time
    order kept)."""
    fit_rows, cal_rows = split_by_time(rows, 1 - CALIBRATION_SHARE)
    pipe = estimator if estimator is not None else _pipeline()
    pipe.fit(fit_rows[FEATURES], fit_rows["label"].astype(int))
    model = CalibratedClassifierCV(FrozenEstimator(pipe), method="sigmoid")
    model.fit(cal_rows[FEATURES], cal_rows["label"].astype(int))
    return model


def predict(model, rows: pd.DataFrame) -> np.ndarray:
    return model.predict_proba(rows[FEATURES])[:, 1]


def feature_contributions(model, rows: pd.DataFrame, top: int = 3) -> list[list[tuple[str, float]]]:
    """Per row, the logistic regression's largest terms (coefficient x standardised value)."""
    pipe = model.calibrated_classifiers_[0].estimator.estimator
    terms = pipe.named_steps["logit"].coef_[0] * pipe.named_steps["scale"].transform(rows[FEATURES].astype(float))
    order = np.argsort(-np.abs(terms), axis=1)[:, :top]
    return [[(FEATURES[j], float(terms[i, j])) for j in order[i]] for i in range(len(rows))]


def gradient_boosting() -> HistGradientBoostingClassifier:
    """The alternative tried (same features, same calibration): the best of a small grid on the train
    windows' calibration split."""
    return HistGradientBoostingClassifier(max_iter=150, learning_rate=0.05, max_leaf_nodes=5, min_samples_leaf=80,
                                          l2_regularization=1.0, random_state=SEED)


@dataclass
class Metrics:
    roc_auc: float
    pr_auc: float
    brier: float
    reliability: list[tuple[float, float]] = field(default_factory=list)  # (mean predicted, observed)
    precision_at: dict[int, float] = field(default_factory=dict)  # k -> mean over windows of precision at k


def precision_at_k(windows: np.ndarray, y: np.ndarray, p: np.ndarray, k: int) -> float:
    """Mean over windows of the share of true positives among the window's k highest-scored pairs
    (ties in row order)."""
    df = pd.DataFrame({"w": windows, "y": y, "p": p, "i": np.arange(len(y))})
    df = df.sort_values(["w", "p", "i"], ascending=[True, False, True], kind="stable")
    top = df[df.groupby("w").cumcount() < k]
    return float(top.groupby("w")["y"].mean().mean())


def _metrics(y: np.ndarray, p: np.ndarray, windows: np.ndarray | None = None) -> Metrics:
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy="quantile") if len(set(p)) > 1 else ([], [])
    at = {k: precision_at_k(windows, y, p, k) for k in PRECISION_AT} if windows is not None else {}
    return Metrics(float(roc_auc_score(y, p)), float(average_precision_score(y, p)), float(brier_score_loss(y, p)),
                   [(float(a), float(b)) for a, b in zip(prob_pred, prob_true, strict=True)], at)


@dataclass
class Evaluation:
    data: str
    granularity: str
    n_pairs: int
    train_windows: tuple[str, str]
    test_windows: tuple[str, str]
    n_train: int
    n_test: int
    positive_rate: float
    results: dict[str, Metrics]
    alternatives: dict[str, Metrics] = field(default_factory=dict)  # tried, not shipped
    volume: list = field(default_factory=list)  # engine.model.volume.VolumeCheck, one per transform
    volume_spread: list = field(default_factory=list)  # the thinning check with other random draws
    alternative_volume: list = field(default_factory=list)  # the volume check of the gradient boosting tried
    alternative_model: object = field(default=None, repr=False)  # that model (not saved)
    validation: list = field(default_factory=list)  # ValidationFold, inside the train windows
    alternative_validation: list = field(default_factory=list)  # the same folds for the gradient boosting tried
    role: str = "main"  # "main": the model's own data, where it was chosen; "long-range": a second check

    def beats_all_baselines(self) -> bool:
        model = self.results["model"]
        others = [m for name, m in self.results.items() if name != "model"]
        return all(model.roc_auc > o.roc_auc and model.pr_auc > o.pr_auc and model.brier < o.brier for o in others)


@dataclass
class ValidationFold:
    """One fold of the rolling-origin validation inside the train windows."""

    start: str
    end: str
    n_rows: int
    model: tuple[float, float]  # ROC-AUC, PR-AUC
    attack_rate: tuple[float, float]


VALIDATION_FOLDS = 3
VALIDATION_WINDOWS = 6  # windows per fold: the last 18 train windows, in three consecutive folds


def validation(train: pd.DataFrame, folds: int = VALIDATION_FOLDS, size: int = VALIDATION_WINDOWS,
               estimator=None) -> list[ValidationFold]:
    """Rolling-origin validation inside the train windows (what the features, C and the feature scale
    were chosen on; the test windows are never read): each fold's windows are scored by the pipeline
    fitted on every earlier train window. Rank figures only (no calibration is needed for them)."""
    from sklearn.base import clone

    windows = sorted(train["window_start"].unique())
    if len(windows) < folds * size + 2 * size:
        return []
    out = []
    for i in range(folds):
        first = len(windows) - size * (folds - i)
        inside = train["window_start"].isin(windows[first:first + size])
        earlier, fold = train[train["window_start"] < windows[first]], train[inside]
        pipe = clone(estimator if estimator is not None else _pipeline())
        pipe.fit(earlier[FEATURES], earlier["label"].astype(int))
        y = fold["label"].astype(int).to_numpy()
        p = pipe.predict_proba(fold[FEATURES])[:, 1]
        fmt = lambda ts: pd.Timestamp(ts).date().isoformat()  # noqa: E731
        out.append(ValidationFold(fmt(windows[first]), fmt(windows[first + size - 1]), len(fold),
                                  (float(roc_auc_score(y, p)), float(average_precision_score(y, p))),
                                  (float(roc_auc_score(y, fold["attack_rate"])),
                                   float(average_precision_score(y, fold["attack_rate"])))))
    return out


def evaluate(rows: pd.DataFrame, data: str, granularity: str,
             alternatives: bool = True) -> tuple[Evaluation, CalibratedClassifierCV]:
    train, test = split_by_time(rows)
    model = fit(train)
    y = test["label"].astype(int).to_numpy()
    windows = test["window_start"].to_numpy()
    results = {
        "model": _metrics(y, predict(model, test), windows),
        "persistence": _metrics(y, (test["since_attack"] == 0).astype(float).to_numpy(), windows),
        "attack rate (4 windows)": _metrics(y, test["attack_rate"].to_numpy(), windows),
    }
    if "rules_score" in rows and rows["rules_score"].abs().sum() > 0:
        rules_only = LogisticRegression(max_iter=1000, random_state=SEED).fit(train[["rules_score"]],
                                                                            train["label"].astype(int))
        results["rules score alone"] = _metrics(y, rules_only.predict_proba(test[["rules_score"]])[:, 1], windows)
    tried = {}
    if alternatives:
        boosted = fit(train, gradient_boosting())
        tried["gradient boosting (not shipped)"] = _metrics(y, predict(boosted, test), windows)
    else:
        boosted = None
    fmt = lambda ts: pd.Timestamp(ts).date().isoformat()  # noqa: E731
    ev = Evaluation(data, granularity, rows.groupby(["source", "target"]).ngroups,
                    (fmt(train["window_start"].min()), fmt(train["window_start"].max())),
                    (fmt(test["window_start"].min()), fmt(test["window_start"].max())),
                    len(train), len(test), float(rows["label"].mean()), results, tried)
    ev.alternative_model = boosted
    ev.validation = validation(train)
    if alternatives:
        ev.alternative_validation = validation(train, estimator=gradient_boosting())
    return ev, model


# ----------------------------------------------------------------------------- persistence
def save_model(model, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sio.dump(model, path)


def load_model(path: str | Path):
    """Load a skops model file, refusing any type outside ALLOWED_TYPES (never unpickles), and check that the
    model takes exactly our features (``FEATURES``, in order)."""
    path = Path(path)
    model = load_allowed(path, ALLOWED_TYPES, "run `escalation train`")
    n_features = getattr(model, "n_features_in_", None)
    if n_features != len(FEATURES):
        raise ModelFileError(f"{path}: the model takes {n_features} features, the engine computes {len(FEATURES)}; "
                             "retrain it with `make train`")
    names = getattr(model, "feature_names_in_", None)
    if names is not None and list(names) != list(FEATURES):
        differ = [f"{a!r} vs {b!r}" for a, b in zip(names, FEATURES, strict=True) if a != b]
        raise ModelFileError(f"{path}: the model's features are not the engine's (first difference: {differ[0]}); "
                             "retrain it with `make train`")
    if not hasattr(model, "predict_proba") or list(getattr(model, "classes_", [])) != [0, 1]:
        raise ModelFileError(f"{path}: not a two-class probabilistic classifier")
    return model


def coefficients(model) -> np.ndarray:
    pipe = model.calibrated_classifiers_[0].estimator.estimator
    return np.concatenate([pipe.named_steps["logit"].coef_[0], pipe.named_steps["logit"].intercept_])


def versions() -> dict[str, str]:
    return {"python": platform.python_version(), "scikit-learn": sklearn.__version__, "skops": skops.__version__,
            "numpy": np.__version__, "pandas": pd.__version__}

