"""The classifier's model selection and its volume check's summary, on small synthetic tables (fast):
validation folds lie inside the train windows (the test windows are never read), and the thinning
check over several draws averages the ROC-AUC change and keeps every draw's ranking."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.model.features import FEATURES
from engine.model.train import split_by_time, validation
from engine.model.volume import VolumeCheck, describe_spread, spread_verdict


def _rows(n_windows: int = 44, n_pairs: int = 30, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    windows = pd.date_range("2018-01-01", periods=n_windows, freq="W-MON")
    rows = pd.DataFrame([(f"S{p}", f"T{p}", w) for p in range(n_pairs) for w in windows],
                        columns=["source", "target", "window_start"])
    for f in FEATURES:
        rows[f] = rng.random(len(rows))
    rows["attack_rate"] = rng.random(len(rows))
    rows["label"] = (rng.random(len(rows)) < 0.2 + 0.6 * rows[FEATURES[0]] ** 3).astype(float)
    return rows


def test_validation_folds_lie_inside_the_train_windows():
    train, test = split_by_time(_rows())
    folds = validation(train)
    assert len(folds) == 3
    last_train = train["window_start"].max()
    assert all(pd.Timestamp(f.end) <= last_train < test["window_start"].min() for f in folds)
    assert [f.start for f in folds] == sorted(f.start for f in folds)  # consecutive, earliest first
    assert all(f.model[0] > 0.6 for f in folds)  # the label follows the first feature: the fit finds it
    assert validation(train.iloc[:0]) == []  # too few windows: no folds, no error


def _draw(change: float, rho: float, seed: int) -> VolumeCheck:
    return VolumeCheck("thinned to 10%", 0.9 + change, 0.9, 0.85, rho, 60, 0.8, 541, 0.9 + change / 2, 85, seed)


def test_spread_verdict_averages_the_change_and_keeps_every_ranking():
    draws = [_draw(0.022, 0.93, 1), _draw(-0.004, 0.95, 2), _draw(0.001, 0.94, 3)]
    change, lowest, ok = spread_verdict(draws)
    assert change == pytest.approx(0.019 / 3) and lowest == pytest.approx(0.93) and ok
    assert not draws[0].passed  # one draw alone is over the limit
    assert not spread_verdict([*draws, _draw(0.0, 0.85, 4)])[2]  # one ranking lost: fails
    assert not spread_verdict([_draw(0.03, 0.95, 1), _draw(0.025, 0.95, 2)])[2]  # a shift on average: fails
    text = describe_spread(draws[1:], draws[:1])
    assert "2 of 3 draws pass both limits on their own" in text and "| 1 | 85 | +0.022 |" in text
