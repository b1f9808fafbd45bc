"""`score`/`report --history`, alerts.jsonl, `escalation history SOURCE TARGET`, and `--executor`
options on the command line (the Dask run itself is in tests/test_executor.py)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.history import History, HistoryError
from tests.conftest import REPO

SEED = REPO / "seeds" / "items.jsonl"


def _invoke(*args):
    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def _table(folder, name="pair_scores"):
    return pd.read_csv(folder / f"{name}.csv").drop(columns="run_id")


def test_score_twice_with_a_history_then_print_a_pair(tmp_path):
    history = tmp_path / "h" / "escalation.duckdb"
    first = _invoke("score", SEED, "--out", tmp_path / "one", "--history", history)
    assert first.exit_code == 0, first.output
    with History.open(history) as h:
        counts = h.counts()
    second = _invoke("score", SEED, "--out", tmp_path / "two", "--history", history)
    assert second.exit_code == 0, second.output
    pd.testing.assert_frame_equal(_table(tmp_path / "one"), _table(tmp_path / "two"))
    with History.open(history) as h:
        assert h.counts() == {**counts, "runs": 2}
    # alerts.jsonl is written with a history (one JSON object per line); the re-run alerts nothing
    lines = (tmp_path / "one" / "alerts.jsonl").read_text().splitlines()
    assert all(json.loads(line)["band"] for line in lines)
    assert (tmp_path / "two" / "alerts.jsonl").read_text() == ""
    run = json.loads((tmp_path / "two" / "run.json").read_text())
    assert run["history"]["path"] == str(history) and run["history"]["new_documents"] == 0

    shown = _invoke("history", "IRN", "ISR", "--history", history)
    assert shown.exit_code == 0, shown.output
    windows = pd.read_csv(tmp_path / "two" / "pair_scores.csv").query("source == 'IRN' and target == 'ISR'")
    assert f"IRN -> ISR: {len(windows)} window(s)" in shown.output
    assert all(start in shown.output for start in windows["window_start"])


def test_without_a_history_no_alerts_file(tmp_path):
    result = _invoke("score", SEED, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "out" / "alerts.jsonl").exists()


def test_history_command_errors(tmp_path):
    with pytest.raises(HistoryError, match="no such file"):
        _invoke("history", "IRN", "ISR", "--history", tmp_path / "missing.duckdb")
    assert not (tmp_path / "missing.duckdb").exists()
    with History.open(tmp_path / "empty.duckdb"):
        pass
    result = _invoke("history", "IRN", "ISR", "--history", tmp_path / "empty.duckdb")
    assert result.exit_code == 1 and "no stored scores for IRN -> ISR" in result.output


def test_a_foreign_history_file_stops_the_run_before_any_work(tmp_path):
    bad = tmp_path / "notes.duckdb"
    bad.write_text("my notes\n")
    with pytest.raises(HistoryError, match="not a DuckDB database file"):
        _invoke("score", SEED, "--out", tmp_path / "out", "--history", bad)
    assert bad.read_text() == "my notes\n" and not (tmp_path / "out" / "run.json").exists()


def test_scheduler_needs_the_dask_executor(tmp_path):
    from engine.executor import ExecutorError

    with pytest.raises(ExecutorError, match="needs --executor dask"):
        _invoke("score", SEED, "--out", tmp_path / "out", "--scheduler", "tcp://127.0.0.1:1")
    with pytest.raises(ExecutorError, match="unknown executor 'spark'"):
        _invoke("score", SEED, "--out", tmp_path / "out", "--executor", "spark")
