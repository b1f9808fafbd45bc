"""The training path, one function for the CLI (`train`, `evaluate-model`), the bench and the tests:
ICEWS file -> dyad events (through the run configuration's CAMEO mapping and actors) -> feature rows
with rules scores -> fit on the earlier windows and time-split evaluation next to the baselines."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from engine.model.train import Evaluation, evaluate, training_rows

MIN_EVENTS = 30  # pairs with fewer events in the file are not training pairs


@dataclass
class TrainingRun:
    evaluation: Evaluation
    long_range: Evaluation | None
    model: object  # the calibrated classifier fitted on the train windows


def train_and_evaluate(events: str | Path, long_range: str | Path | None = None, config=None,
                       status: Callable[[str], AbstractContextManager] | None = None) -> TrainingRun:
    """Weekly features from ``events`` (trained and evaluated), and optionally monthly ones from a
    long-range file (evaluated). ``config``: a RunConfig (default: the shipped rules); ``status``
    wraps each step, e.g. a console spinner."""
    from engine.config import RunConfig
    from engine.model.events import from_icews

    config = config or RunConfig.build()
    step = status or (lambda text: nullcontext())
    events = Path(events)
    with step(f"building weekly features from {events.name}"):
        rows = training_rows(from_icews(events, config.cameo_mapping, config.actors), config.rules, config.actors,
                             "week", MIN_EVENTS)
        main_eval, model = evaluate(rows, events.name, "week")
    long_eval = None
    if long_range is not None:
        long_range = Path(long_range)
        with step(f"building monthly features from {long_range.name}"):
            long_rows = training_rows(from_icews(long_range, config.cameo_mapping, config.actors), config.rules,
                                      config.actors, "month", MIN_EVENTS)
            long_eval, _ = evaluate(long_rows, long_range.name, "month")
    return TrainingRun(main_eval, long_eval, model)


def save_with_card(run: TrainingRun, out: Path, command: str) -> Path:
    """Write the model file and its card (``out`` with .md) from the same evaluation; return the card."""
    from engine.model.card import model_card
    from engine.model.train import coefficients, save_model

    save_model(run.model, out)
    sha = hashlib.sha256(out.read_bytes()).hexdigest()
    card = out.with_suffix(".md")
    card.write_text(model_card(run.evaluation, run.long_range, command, sha, coefficients(run.model)))
    return card
