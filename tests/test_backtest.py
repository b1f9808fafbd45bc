"""`rules backtest` and `rules diff`: replay of event history, time split without peeking, the rule
ablation, and diffs that list exactly the pairs a rule change moves.

Generated ICEWS-format events (no shared data needed); the Python-level tests use a constant
classifier so that every move comes from the rules, the CLI tests the shipped classifier."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.backtest import KS, precision_at_k, replay, run_backtest
from engine.cli import app
from engine.config import RunConfig
from engine.paths import RULES_DIR
from engine.rules.diff import diff_backtests, diff_tables

PAIRS = [("IRN", "ISR"), ("ISR", "IRN"), ("USA", "IRQ"), ("IRQ", "USA"), ("SYR", "TUR"), ("TUR", "SYR"),
         ("RUS", "UKR"), ("UKR", "RUS"), ("SAU", "YEM"), ("YEM", "SAU"), ("EGY", "ETH"), ("ETH", "EGY")]
# CAMEO code, root, Goldstein: demand, threat, mobilisation, de-escalation, fight
CODES = [("112", "11", -2.0), ("138", "13", -7.0), ("150", "15", -7.2), ("036", "03", 4.0), ("190", "19", -10.0)]


def make_events(path: Path, weeks: int = 30, seed: int = 3, late_pair: tuple[str, str] | None = None) -> Path:
    """Weekly dyadic events for a dozen pairs: each pair's hostility drifts; hostile weeks bring
    threats and fights. ``late_pair`` only has events in the last weeks (after any train part)."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2018-01-01")
    rows = []
    for source, target in PAIRS + ([late_pair] if late_pair else []):
        level = rng.uniform(0.05, 0.6)
        for week in range(weeks):
            if (source, target) == late_pair and week < weeks - 3:
                continue
            level = float(np.clip(level + rng.normal(0, 0.12), 0.02, 0.95))
            for _ in range(rng.poisson(6)):
                weights = np.array([1.0, 1.5 * level, level, 1.2 * (1 - level), 2 * level ** 2])
                code, root, goldstein = CODES[rng.choice(len(CODES), p=weights / weights.sum())]
                day = start + pd.Timedelta(days=7 * week + int(rng.integers(0, 7)))
                rows.append({"date": day.date().isoformat(), "source_actor": source, "target_actor": target,
                             "cameo_code": code, "cameo_root": root, "goldstein": goldstein, "num_mentions": "",
                             "origin": "test", "quad_class": 4, "event_text": "", "source_name": source,
                             "target_name": target})
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        pd.DataFrame(rows).to_csv(fh, index=False)
    return path


class ConstantModel:
    """A classifier that says 0.1 for every row: the model part of the score is then the same for
    every pair, so rankings and moves come from the rules alone."""

    classes_ = np.array([0, 1])

    def predict_proba(self, rows):
        return np.tile([0.9, 0.1], (len(rows), 1))


@pytest.fixture(scope="module")
def events(tmp_path_factory) -> Path:
    return make_events(tmp_path_factory.mktemp("events") / "events.csv.gz")


def _config(rules=RULES_DIR) -> RunConfig:
    return RunConfig.build(rules, model=ConstantModel())


def _copy_rules(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    shutil.copytree(RULES_DIR / "scoring", folder / "scoring")
    return folder


def _set_threat_points(folder: Path, points: int) -> None:
    path = folder / "scoring" / "base.yaml"
    old = "      signal: {type: THREATEN, mode: [actual, planned]}\n    then: {add: 8,"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, old.replace("add: 8", f"add: {points}")))


def test_backtest_uses_only_the_test_windows_and_train_part_pairs(tmp_path):
    path = make_events(tmp_path / "ev.csv.gz", late_pair=("FRA", "DEU"))
    config = _config()
    bt = run_backtest(path, config, "week")
    test = bt.scores[bt.scores["part"] == "test"]
    assert bt.n_test_rows == len(test) and bt.n_pairs == len(PAIRS)  # FRA->DEU has no train-part events
    assert ("FRA", "DEU") not in set(zip(bt.scores["source"], bt.scores["target"], strict=True))
    windows = sorted(bt.scores["window_start"].unique())
    assert str(min(test["window_start"]).date()) == bt.test_windows[0] == str(windows[int(len(windows) * 0.7)].date())
    # every figure is computed on the test rows: recomputed here from them alone
    from sklearn.metrics import average_precision_score

    score = bt.methods["score (rules + model)"]
    assert score.pr_auc == pytest.approx(average_precision_score(test["label"], test["score"]))
    assert score.precision_at["10"] == pytest.approx(precision_at_k(test, "score", 10))
    # the label is next week's material conflict (CAMEO 18-20) of the same pair
    row = test.iloc[0]
    following = bt.scores[(bt.scores["source"] == row.source) & (bt.scores["target"] == row.target)
                          & (bt.scores["window_start"] == row.window_start + pd.Timedelta(days=7))]
    assert int(row.label) == int(following["conflict"].iloc[0])
    # changing what happens in the train part leaves the figures alone
    raw = pd.read_csv(path, dtype=str)
    early = pd.to_datetime(raw["date"]) < pd.Timestamp(bt.test_windows[0]) - pd.Timedelta(days=35)
    raw.loc[early & (raw["cameo_root"] == "19"), ["cameo_code", "cameo_root"]] = ["138", "13"]
    changed = tmp_path / "changed.csv.gz"
    with gzip.open(changed, "wt") as fh:
        raw.to_csv(fh, index=False)
    again = run_backtest(changed, config, "week", ablation=False)
    assert again.methods["score (rules + model)"].pr_auc == pytest.approx(score.pr_auc)


def test_backtest_figures_baselines_and_ablation(events):
    config = _config()
    bt = run_backtest(events, config, "week")
    assert set(bt.methods) == {"score (rules + model)", "rules score alone", "model probability alone",
                               "persistence", "attack rate (last 4)"}
    for name, m in bt.methods.items():
        assert 0 <= m.pr_auc <= 1 and set(m.precision_at) == {str(k) for k in KS}, name
    assert bt.methods["score (rules + model)"].flagged is not None
    # one ablation row per rule; a rule with no hit changes nothing; dropping base-attack moves PR-AUC
    assert sorted(a.rule_id for a in bt.ablation) == sorted(r.id for r in config.rules)
    by_id = {a.rule_id: a for a in bt.ablation}
    assert by_id["host-state-exposure"].test_hits == 0 and by_id["host-state-exposure"].delta_pr_auc == 0
    assert by_id["base-attack"].test_hits > 0 and by_id["base-attack"].delta_pr_auc != 0
    deltas = [a.delta_pr_auc for a in bt.ablation]
    assert deltas == sorted(deltas)


def test_precision_at_k_counts_ties_at_their_mean():
    frame = pd.DataFrame({"window_start": ["w"] * 4, "s": [1.0, 1.0, 1.0, 0.0], "label": [1, 0, 0, 1]})
    assert precision_at_k(frame, "s", 2) == pytest.approx(1 / 3)
    assert precision_at_k(frame, "s", 4) == pytest.approx(0.5)


def test_diff_with_one_rule_points_changed_lists_exactly_the_affected_pairs(events, tmp_path):
    """base-threat 8 -> 10 points: the pair-windows that move are exactly the scored ones with a
    base-threat hit whose rules part changes (a rules score below 0 before and after counts as 0)."""
    old, new = _copy_rules(tmp_path, "old"), _copy_rules(tmp_path, "new")
    _set_threat_points(new, 10)
    old_bt = run_backtest(events, _config(old), "week", ablation=False)
    new_bt = run_backtest(events, _config(new), "week", ablation=False)
    diff = diff_backtests(old_bt, new_bt, "old", "new", "events")
    keys = ["source", "target", "window_start"]
    totals = old_bt.hits.groupby(keys)["contribution"].sum()
    threat = old_bt.hits[old_bt.hits["rule_id"] == "base-threat"].groupby(keys)["contribution"].sum()
    scored = set(zip(old_bt.scores["source"], old_bt.scores["target"], old_bt.scores["window_start"], strict=True))
    expected = {(s, t, w.date().isoformat()) for (s, t, w), points in threat.items()
                if (s, t, w) in scored and max(totals[s, t, w] + points / 4, 0) != max(totals[s, t, w], 0)}
    assert len(expected) < len(threat)  # some threat hits cannot move anything (last window, negative scores)
    moved = {(m.source, m.target, m.window_start) for m in diff.moves}
    assert expected and moved == expected
    for move in diff.moves:
        assert [(c.rule_id, c.kind) for c in move.rules] == [("base-threat", "changed")]
        change = move.rules[0]
        assert change.new_points == pytest.approx(change.old_points * 10 / 8, abs=1e-3)
        assert move.new_score > move.old_score
    # the figures of the score and of the rules score may move; the baselines cannot
    assert all(v["change"] == 0 for v in diff.figures["persistence"].values() if v["change"] is not None)
    # the same rules give no move at all
    assert diff_backtests(old_bt, old_bt, "old", "old", "events").moves == []


def test_diff_tables_added_removed_and_band_only_moves():
    def hits(rows):
        return pd.DataFrame([{"source": s, "target": t, "window_start": "2024-11-04", "rule_id": r, "contribution": c,
                              "band_floor": f, "band_cap": ""} for s, t, r, c, f in rows])

    def scores(rows):
        return pd.DataFrame([{"source": s, "target": t, "window_start": "2024-11-04", "score": x, "band": b}
                             for s, t, x, b in rows])

    old_h = hits([("IRN", "ISR", "base-threat", 8.0, ""), ("USA", "IRQ", "base-demand", 3.0, ""),
                  ("EGY", "ETH", "base-threat", 4.0, "")])
    new_h = hits([("IRN", "ISR", "base-threat", 8.0, ""), ("IRN", "ISR", "new-rule", 5.0, ""),
                  ("EGY", "ETH", "base-threat", 4.0, "ELEVATED")])
    old_s = scores([("IRN", "ISR", 40.0, "ELEVATED"), ("USA", "IRQ", 10.0, "LOW"), ("EGY", "ETH", 20.0, "GUARDED")])
    new_s = scores([("IRN", "ISR", 45.0, "ELEVATED"), ("EGY", "ETH", 20.0, "ELEVATED")])
    moves = {(m.source, m.target): m for m in diff_tables(old_h, old_s, new_h, new_s)}
    assert set(moves) == {("IRN", "ISR"), ("USA", "IRQ"), ("EGY", "ETH")}
    assert [c.describe() for c in moves["IRN", "ISR"].rules] == ["added new-rule +5.00"]
    assert moves["USA", "IRQ"].new_score is None and [c.kind for c in moves["USA", "IRQ"].rules] == ["removed"]
    assert moves["EGY", "ETH"].band_moved and moves["EGY", "ETH"].rules[0].describe() == \
        "changed base-threat +4.00 → +4.00 (floor ELEVATED)"


def test_replay_refuses_too_little_history(tmp_path):
    from engine.model.events import from_icews

    config = _config()
    path = make_events(tmp_path / "short.csv.gz", weeks=3)
    with pytest.raises(ValueError, match="too few"):
        replay(from_icews(path, config.cameo_mapping, config.actors), config, "week")


# --------------------------------------------------------------------------- the commands (shipped classifier)
def test_cli_backtest_writes_markdown_and_json(events, tmp_path):
    out = tmp_path / "bt"
    result = CliRunner().invoke(app, ["rules", "backtest", str(RULES_DIR), "--events", str(events), "--out", str(out)])
    assert result.exit_code == 0, result.output
    record = json.loads((out / "backtest.json").read_text())
    assert record["granularity"] == "week" and record["n_pairs"] == len(PAIRS)
    assert {"score (rules + model)", "persistence", "attack rate (last 4)"} <= set(record["methods"])
    assert len(record["ablation"]) == len(RunConfig.build().rules)
    text = (out / "backtest.md").read_text()
    assert "test part only" in text and "## Rule ablation" in text and "| base-attack |" in text
    bad = CliRunner().invoke(app, ["rules", "backtest", "--events", str(events), "--window", "day", "--out", str(out)])
    assert bad.exit_code != 0


def test_cli_diff_on_events_and_on_news(events, tmp_path):
    old, new = _copy_rules(tmp_path, "old"), _copy_rules(tmp_path, "new")
    _set_threat_points(new, 10)
    result = CliRunner().invoke(app, ["rules", "diff", str(old), str(new), "--events", str(events), "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout[result.stdout.index("{"):])
    assert record["moves"] and all([r["rule_id"] for r in m["rules"]] == ["base-threat"] for m in record["moves"])
    assert "score (rules + model)" in record["figures"]
    # news: only the pair with a threat moves, with the threat rule behind it
    news = tmp_path / "news.jsonl"
    news.write_text(json.dumps({"id": "a", "date": "2024-11-04", "text":
                                "Iran threatened Israel with a harsh response. The United States attacked "
                                "militias in Syria."}) + "\n")
    md = CliRunner().invoke(app, ["rules", "diff", str(old), str(new), str(news)])
    assert md.exit_code == 0, md.output
    rows = [line for line in md.stdout.splitlines() if line.startswith("| ") and "→" in line.split("|")[1]]
    assert rows and all("changed base-threat" in r for r in rows), md.stdout
    assert any(r.startswith("| IRN→ISR |") for r in rows)
    both = CliRunner().invoke(app, ["rules", "diff", str(old), str(new)])
    assert both.exit_code != 0
