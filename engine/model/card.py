"""The model card (models/escalation-classifier.md), written from the same evaluation that
`escalation evaluate-model` prints."""

from __future__ import annotations

from engine.model.features import FEATURES
from engine.model.train import Evaluation, versions


def metrics_table(ev: Evaluation) -> str:
    lines = ["| predictor | ROC-AUC | PR-AUC | Brier |", "|---|---|---|---|"]
    for name, m in ev.results.items():
        lines.append(f"| {name} | {m.roc_auc:.3f} | {m.pr_auc:.3f} | {m.brier:.4f} |")
    return "\n".join(lines)


def reliability_table(ev: Evaluation) -> str:
    lines = ["| mean predicted | observed rate |", "|---|---|"]
    lines += [f"| {p:.3f} | {o:.3f} |" for p, o in ev.results["model"].reliability]
    return "\n".join(lines)


def describe(ev: Evaluation) -> str:
    verdict = ("The model beats all three baselines on ROC-AUC, PR-AUC and Brier score."
               if ev.beats_all_baselines() else
               "**The model does not beat all three baselines** on every metric: read its probability with care.")
    return f"""### {ev.data} ({ev.granularity} windows)

{ev.n_pairs} directed pairs; train windows {ev.train_windows[0]} .. {ev.train_windows[1]} ({ev.n_train} rows),
test windows {ev.test_windows[0]} .. {ev.test_windows[1]} ({ev.n_test} rows); positive rate {ev.positive_rate:.3f}.

{metrics_table(ev)}

{verdict}

Reliability of the model on the test windows (10 quantile bins):

{reliability_table(ev)}
"""


def model_card(main: Evaluation, long_range: Evaluation | None, command: str, sha256: str, coefs) -> str:
    v = versions()
    feature_list = ", ".join(f"`{f}`" for f in FEATURES)
    long_part = describe(long_range) if long_range else "Not run (pass --long-range)."
    return f"""# escalation-classifier

Probability that the source of a directed pair commits material conflict (CAMEO 18-20) against the
target in the **next window**, from the pair's signals in this and the previous 4 windows.

- File: `models/escalation-classifier.skops` (sha256 `{sha256}`), loaded only through skops with an
  allow-list of scikit-learn types (never pickle).
- Model: StandardScaler + LogisticRegression (C=0.5, lbfgs, seed fixed) in a scikit-learn Pipeline,
  sigmoid-calibrated on the last 20 % of the training windows (CalibratedClassifierCV on a frozen
  pipeline). Trained on the train windows of the evaluation below only.
- Features ({len(FEATURES)}, defined in `engine/model/features.py`): {feature_list}.
- Data: ICEWS18 (`../shared/data/events/icews18_full.csv.gz`, Boschee et al., ICEWS Coded Event Data,
  Harvard Dataverse doi:10.7910/DVN/28075, via the RE-Net/DiffuTKG temporal-KG release; see
  `../shared/data/events/README.md`), 2018-01-01 .. 2018-10-31, events with both actors placed in a
  country, CAMEO roots mapped by `rules/cameo_mapping.yaml`, directed pairs with at least 30 events.
  Rules scores for training come from running `rules/scoring/` on the same events.
- Reproduce: `{command}` (same data, same code, same coefficients; a test checks them).
- Library versions: {", ".join(f"{k} {val}" for k, val in v.items())}.
- Intercept and coefficients (standardised features, for the record): {", ".join(f"{c:.4f}" for c in coefs)}.

## Evaluation (time split: earlier windows train, later windows test; never shuffled)

Baselines computed in the same run: persistence (an attack this window => an attack next window),
the pair's attack rate over the last 4 windows, the rules score alone (one-feature logistic fit).

{describe(main)}

## Long-range check

{long_part}

## Limits

ICEWS codes reports of events among its most frequent actors; the text we extract is sparser and
noisier than ICEWS, so probabilities on our own texts are less certain than these figures. The model
sees countries only (finer actors are rolled up); pairs inside one country get the model's output
for an empty history. 2016-2017 and anything after October 2018 are absent from training.
"""
