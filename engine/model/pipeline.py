"""The training path, one function for the CLI (`train`, `evaluate-model`), the bench and the tests:
ICEWS file -> dyad events (through the run configuration's CAMEO mapping and actors) -> feature rows
with rules scores -> fit on the earlier windows and time-split evaluation next to the baselines."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from engine.model.train import Evaluation, evaluate, training_pairs, training_rows
from engine.model.volume import thinning_spread, volume_checks

MIN_EVENTS = 30  # pairs with fewer events in the file are not training pairs


@dataclass
class TrainingRun:
    evaluation: Evaluation
    long_range: Evaluation | None
    model: object  # the calibrated classifier fitted on the train windows


def train_and_evaluate(events: str | Path, long_range: str | Path | None = None, config=None,
                       status: Callable[[str], AbstractContextManager] | None = None,
                       spread: bool = True) -> TrainingRun:
    """Weekly features from ``events`` (trained, evaluated and volume-checked), and optionally monthly
    ones from a long-range file (evaluated). ``config``: a RunConfig (default: the shipped rules);
    ``status`` wraps each step, e.g. a console spinner; ``spread``: repeat the thinning check with
    other random draws (the card shows the range)."""
    from engine.config import RunConfig
    from engine.model.events import from_icews

    config = config or RunConfig.build()
    step = status or (lambda text: nullcontext())
    events = Path(events)
    with step(f"building weekly features from {events.name}"):
        main_events = from_icews(events, config.cameo_mapping, config.actors)
        rows = training_rows(main_events, config.rules, config.actors, "week", MIN_EVENTS)
        main_eval, model = evaluate(rows, events.name, "week")
    with step("checking that the model does not read corpus size (events thinned to 10 %, repeated 10x)"):
        pairs, start = training_pairs(main_events, MIN_EVENTS), main_eval.test_windows[0]
        main_eval.volume = volume_checks(model, main_events, pairs, "week", start, MIN_EVENTS)
        if spread:
            main_eval.volume_spread = thinning_spread(model, main_events, pairs, "week", start, MIN_EVENTS)
        if main_eval.alternative_model is not None:
            main_eval.alternative_volume = volume_checks(main_eval.alternative_model, main_events, pairs, "week",
                                                         start, MIN_EVENTS, repeat=False)
    long_eval = None
    if long_range is not None:
        long_range = Path(long_range)
        with step(f"building monthly features from {long_range.name}"):
            long_rows = training_rows(from_icews(long_range, config.cameo_mapping, config.actors), config.rules,
                                      config.actors, "month", MIN_EVENTS)
            long_eval, _ = evaluate(long_rows, long_range.name, "month")
            long_eval.role = "long-range"
    return TrainingRun(main_eval, long_eval, model)


def save_with_card(run: TrainingRun, out: Path, command: str) -> Path:
    """Write the model file and its card (``out`` with .md) from the same evaluation; return the card."""
    from engine.model.card import model_card, reliability_svg
    from engine.model.train import coefficients, save_model

    save_model(run.model, out)
    sha = hashlib.sha256(out.read_bytes()).hexdigest()
    card = out.with_suffix(".md")
    diagram = out.with_name(out.stem + "-reliability.svg")
    diagram.write_text(reliability_svg(run.evaluation), encoding="utf-8")
    card.write_text(model_card(run.evaluation, run.long_range, command, sha, coefficients(run.model),
                               diagram=diagram.name), encoding="utf-8")
    return card
