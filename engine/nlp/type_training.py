"""Training the sentence-type classifier (``engine/nlp/sentence_types.py``) on labelled articles.

    python -m engine.nlp.type_training --articles tests/data/articles/dev      (make train-types)

Every sentence of the articles (the extractor's own split) is one row: its text, and for each type
whether a labelled event of that type is in it. The classifier is TF-IDF word 1-2-grams into one
logistic regression per type (balanced classes). Each type's threshold is chosen by 5-fold
cross-validation grouped by article: the sentence types of the rules (extracted without this component
and without the role ranker) plus the out-of-fold classifier's, where it clears the threshold in a
sentence the rules found no signal in, scored by that type's sentence F1; a type keeps 1.1 (never) when
no threshold beats the rules alone. The final
classifier is fitted on every sentence. Only the dev articles are used; ``make eval`` measures the
result on the frozen articles.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.multioutput import MultiOutputClassifier
from sklearn.pipeline import Pipeline

from engine.nlp import training
from engine.nlp.training import repo_path, save_with_card
from engine.paths import SENTENCE_TYPES_FILE
from engine.schemas import SIGNAL_TYPES

C = 4.0  # inverse regularisation strength of each type's logistic regression
FOLDS = 5
THRESHOLD_GRID = tuple(round(0.5 + 0.02 * i, 2) for i in range(25))  # 0.50 ... 0.98
NEVER = 1.1


def classifier() -> Pipeline:
    return Pipeline([
        ("words", TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, lowercase=True)),
        ("types", MultiOutputClassifier(LogisticRegression(C=C, max_iter=2000, class_weight="balanced"))),
    ])


@dataclass
class Sentences:
    """Every sentence of the labelled articles, with gold and rule types (one column per type)."""

    texts: list[str]
    articles: list[str]
    gold: np.ndarray  # bool (n, 5)
    rules: np.ndarray  # bool (n, 5)
    n_articles: int


def collect(folders: list[Path], extractor=None) -> Sentences:
    from engine.evaluation import labelled_extractions
    from engine.nlp.extract import Extractor

    extractor = extractor or Extractor(role_ranker=None, sentence_types=None)
    texts, articles, gold, rules, n_articles = [], [], [], [], 0
    for article, result, unit in labelled_extractions(folders, extractor):
        n_articles += 1
        labelled = {(unit(e["start"]), e["signal"]) for e in article.events}
        extracted = {(unit(s.start_char), s.signal) for s in result.signals}
        for k, (start, end) in enumerate(result.sentences):
            texts.append(article.text[start:end])
            articles.append(article.id)
            gold.append([(k, t) in labelled for t in SIGNAL_TYPES])
            rules.append([(k, t) in extracted for t in SIGNAL_TYPES])
    return Sentences(texts, articles, np.array(gold, dtype=bool), np.array(rules, dtype=bool), n_articles)


def f1(gold: np.ndarray, predicted: np.ndarray) -> float:
    tp = int((gold & predicted).sum())
    wrong = int((gold ^ predicted).sum())
    return 2 * tp / (2 * tp + wrong) if tp else 0.0


@dataclass
class TrainingRun:
    model: Pipeline
    thresholds: dict[str, float]
    sentences: Sentences
    rules_f1: dict[str, float]  # per type, rules alone
    combined_f1: dict[str, float]  # per type, rules + out-of-fold classifier at the chosen threshold
    added: dict[str, int]  # sentences the classifier adds a type to, out of fold


def train(folders: list[Path], extractor=None) -> TrainingRun:
    data = collect(folders, extractor)
    out_of_fold = np.zeros(data.gold.shape)
    for train_idx, test_idx in GroupKFold(FOLDS).split(data.texts, groups=data.articles):
        fitted = classifier().fit([data.texts[i] for i in train_idx], data.gold[train_idx])
        out_of_fold[test_idx] = np.column_stack([p[:, 1] for p in fitted.predict_proba(
            [data.texts[i] for i in test_idx])])
    # the engine reads only sentences where no trigger matched; here, those where the rules found no signal
    # (a little wider: it also holds sentences whose trigger the rules turned down)
    unread = ~data.rules.any(axis=1)
    thresholds, rules_f1, combined_f1, added = {}, {}, {}, {}
    for t, signal in enumerate(SIGNAL_TYPES):
        gold, rules = data.gold[:, t], data.rules[:, t]
        best = (f1(gold, rules), NEVER)
        rules_f1[signal] = best[0]
        for threshold in THRESHOLD_GRID:
            score = f1(gold, rules | ((out_of_fold[:, t] >= threshold) & unread))
            if score > best[0] + 1e-9:
                best = (score, threshold)
        combined_f1[signal], thresholds[signal] = best
        added[signal] = int(((out_of_fold[:, t] >= best[1]) & unread).sum())
    model = classifier().fit(data.texts, data.gold)
    return TrainingRun(model, thresholds, data, rules_f1, combined_f1, added)


def save(run: TrainingRun, out: Path, folders: list[Path], command: str) -> Path:
    """Write the classifier file and its card (``models/sentence-types.md``)."""
    stored = {"model": run.model, "thresholds": run.thresholds, "types": list(SIGNAL_TYPES)}
    return save_with_card(stored, out, model_card(run, folders), "sentence types (recall backstop)",
                          command)


def model_card(run: TrainingRun, folders: list[Path]) -> str:
    words = run.model.named_steps["words"]
    names = words.get_feature_names_out()
    rows, telling = [], []
    for t, signal in enumerate(SIGNAL_TYPES):
        rows.append(f"| {signal} | {run.rules_f1[signal]:.3f} | {run.combined_f1[signal]:.3f} | "
                    f"{run.thresholds[signal]:g} | {run.added[signal]} |")
        weights = run.model.named_steps["types"].estimators_[t].coef_[0]
        top = ", ".join(f"`{names[i]}`" for i in np.argsort(-weights)[:8])
        telling.append(f"- {signal}: {top}")
    rules_macro = np.mean(list(run.rules_f1.values()))
    combined_macro = np.mean(list(run.combined_f1.values()))
    sentences = run.sentences
    rows_text, telling_text = "\n".join(rows), "\n".join(telling)
    return f"""## What it does
Adds a signal of a type to a parsed sentence in which no trigger of the rules matched, when the
classifier's probability clears the type's threshold; the role ranker may then name its actors. See
`engine/nlp/sentence_types.py`.

## Model
- scikit-learn `Pipeline`: `TfidfVectorizer` (word 1-2-grams, min_df 2, sublinear tf) into
  `MultiOutputClassifier(LogisticRegression(C={C}, class_weight="balanced"))`, one model per type.
- Words weighing most per type:
{telling_text}

## Data
- Training: every sentence of the labelled articles of {", ".join(f"`{repo_path(f)}`" for f in folders)}
  ({sentences.n_articles} articles written by us in our own words, {len(sentences.texts)} sentences,
  {int(sentences.gold.any(axis=1).sum())} with at least one labelled event).
- The frozen articles (`tests/data/articles/frozen`) are never used here; `make eval` measures the
  engine with this classifier on them.

## Cross-validated effect ({FOLDS} folds grouped by article; thresholds chosen on these folds)
Sentence F1 per type, the rules alone and with the classifier's out-of-fold additions
(1.1 = never used):

| type | rules | rules + classifier | threshold | sentences added |
|---|---|---|---|---|
{rows_text}
| macro | {rules_macro:.3f} | {combined_macro:.3f} | | |

## Limits
- The rules were written from the same articles, so "rules" above is in-sample for them; the frozen
  articles measure both on text neither has seen.
- It reads words, not grammar: it cannot tell who acted, and a sentence that talks about a type of
  event without one happening ("the risk of an attack") can pass a threshold. Its signals say so
  (`pattern_id` `learned-<type>`, confidence = probability lowered for missing actors).
"""


def main(argv: list[str] | None = None) -> int:
    def train_and_save(folders: list[Path], out: Path, command: str) -> str:
        run = train(folders)
        save(run, out, folders, command)
        return "cross-validated sentence F1 per type, rules -> with classifier: " + ", ".join(
            f"{t} {run.rules_f1[t]:.3f} -> {run.combined_f1[t]:.3f}" for t in SIGNAL_TYPES)

    return training.main(argv, "engine.nlp.type_training", __doc__.splitlines()[0], SENTENCE_TYPES_FILE,
                         train_and_save)


if __name__ == "__main__":
    raise SystemExit(main())
