"""Run history (engine/history.py): opening, migrations, one transaction per run (exception and
SIGKILL), document versions, scoring across runs on the seed, and alerts."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from engine import history as history_module
from engine.history import (
    History,
    HistoryError,
    RunInfo,
    compute_alerts,
    content_sha256,
    pair_history,
    score_with_history,
)
from engine.ingest import Document, read_inputs
from engine.schemas import RuleHitsTable, SignalsTable, validate
from tests.conftest import REPO

SEED = REPO / "seeds" / "items.jsonl"


# --------------------------------------------------------------------------- synthetic tables (no spaCy)
def _doc(doc_id: str, text: str = "Iran warned Israel.", date: str = "2024-11-04") -> Document:
    import datetime as dt

    return Document(id=doc_id, text=text, date=dt.date.fromisoformat(date))


def _signals(doc_ids: list[str], date: str = "2024-11-04") -> pd.DataFrame:
    if not doc_ids:
        from engine.schemas import empty_frame

        return empty_frame(SignalsTable)
    rows = [{"signal_id": f"{d}:0:0:0", "doc_id": d, "date": date, "sent_index": 0, "start_char": 5,
             "end_char": 11, "sent_start": 0, "sent_end": 19, "source": "IRN", "target": "ISR", "signal": "THREATEN",
             "cameo": "13", "intensity": 0.5, "negated": False, "hypothetical": False, "status": "past",
             "reported_by": "", "location": "", "confidence": 0.9, "pattern_id": "warn", "trigger": "warned",
             "source_text": "Iran", "target_text": "Israel", "sentence": "Iran warned Israel."} for d in doc_ids]
    columns = SignalsTable.to_schema().columns
    for row in rows:  # columns added to the signals table later: their neutral value
        for name, column in columns.items():
            row.setdefault(name, -1 if str(column.dtype).startswith("int") else "")
    return validate(SignalsTable, pd.DataFrame(rows)[list(columns)], "signals")


def _hits(run_id: str, window: str = "2024-11-04", points: float = 8.0) -> pd.DataFrame:
    return validate(RuleHitsTable, pd.DataFrame([{
        "run_id": run_id, "source": "IRN", "target": "ISR", "window_start": window, "window_end": "2024-11-10",
        "rule_id": "base-threat", "contribution": points, "signal_ids": "a:0:0:0", "explanation": "x",
        "band_floor": "", "band_cap": ""}]), "rule_hits")


def _scores(run_id: str, rows: list[tuple[str, str, str, float, str]]) -> pd.DataFrame:
    """rows: (source, target, window_start, score, band)"""
    return pd.DataFrame([{
        "run_id": run_id, "window_start": w, "window_end": w, "source": s, "target": t, "rules_score": 8.0,
        "model_probability": 0.1, "score": score, "band": band, "band_floor": "", "band_cap": "",
        "change": float("nan"), "n_signals": 1, "top_drivers": "base-threat +8.0"} for s, t, w, score, band in rows])


def _record(history: History, run_id: str, docs: list[Document], *, score: float = 30.0) -> None:
    check = history.new_documents(docs)
    history.record_run(RunInfo(run_id=run_id, granularity="week"), check=check,
                       signals=_signals([d.id for d in check.to_extract]), rule_hits=_hits(run_id),
                       pair_scores=_scores(run_id, [("IRN", "ISR", "2024-11-04", score, "GUARDED")]),
                       scored_from="2024-11-04")


def _snapshot(history: History) -> dict:
    tables = ["runs", "documents", "document_versions", "signals", "rule_hits", "pair_scores"]
    return {t: history.con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}


# --------------------------------------------------------------------------- opening
def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("content", [b"", b"not a database at all\n", os.urandom(5000),
                                     b"SQLite format 3\x00" + b"\x00" * 4000])
def test_a_file_that_is_not_duckdb_is_refused_and_left_alone(tmp_path, content):
    path = tmp_path / "h.duckdb"
    path.write_bytes(content)
    before = _sha(path)
    with pytest.raises(HistoryError, match="not a DuckDB database file"):
        History.open(path)
    assert _sha(path) == before


def test_a_duckdb_file_that_is_not_ours_is_refused_and_left_alone(tmp_path):
    import duckdb

    path = tmp_path / "other.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE sales (amount INTEGER)")
    con.close()
    before = _sha(path)
    with pytest.raises(HistoryError, match="not an escalation history"):
        History.open(path)
    assert _sha(path) == before


def test_a_truncated_history_is_refused(tmp_path):
    path = tmp_path / "h.duckdb"
    with History.open(path) as history:
        _record(history, "r1", [_doc("a")])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    before = _sha(path)
    with pytest.raises(HistoryError):
        with History.open(path) as history:
            history.counts()
    assert _sha(path) == before


def test_new_file_has_the_latest_schema_and_a_newer_one_is_refused(tmp_path):
    path = tmp_path / "h.duckdb"
    with History.open(path) as history:
        assert history.schema_version == history_module.SCHEMA_VERSION
        history.con.execute("INSERT INTO schema_version VALUES (99, 'x', 'from the future')")
    with pytest.raises(HistoryError, match="newer engine"):
        History.open(path)


def test_migrations_are_versioned_and_applied_once(tmp_path, monkeypatch):
    path = tmp_path / "h.duckdb"
    with History.open(path) as history:
        _record(history, "r1", [_doc("a")])
    migrations = [*history_module.MIGRATIONS, (2, "a note per run", ["ALTER TABLE runs ADD COLUMN note VARCHAR"])]
    monkeypatch.setattr(history_module, "MIGRATIONS", migrations)
    monkeypatch.setattr(history_module, "SCHEMA_VERSION", 2)
    with History.open(path) as history:
        assert history.schema_version == 2
        assert history.counts()["documents"] == 1  # the data survived
        versions = history.con.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
    with History.open(path) as history:  # opening again applies nothing twice
        assert history.con.execute("SELECT version FROM schema_version ORDER BY version").fetchall() == versions
    assert versions == [(1,), (2,)]


# --------------------------------------------------------------------------- documents
def test_documents_by_id_and_hash(tmp_path):
    with History.open(tmp_path / "h.duckdb") as history:
        _record(history, "r1", [_doc("a"), _doc("b")])
        check = history.new_documents([_doc("a"), _doc("b", text="Iran threatened Israel."), _doc("c")])
        assert [d.id for d in check.unchanged] == ["a"]
        assert [d.id for d in check.revised] == ["b"]
        assert [d.id for d in check.new] == ["c"]
        # a new version replaces the document's signals and keeps the old hash in document_versions
        history.record_run(RunInfo(run_id="r2", granularity="week"), check=check,
                           signals=_signals(["b", "c"]), rule_hits=_hits("r2"),
                           pair_scores=_scores("r2", [("IRN", "ISR", "2024-11-04", 30.0, "GUARDED")]),
                           scored_from="2024-11-04")
        docs = history.documents().set_index("doc_id")
        assert docs.loc["b", "version"] == 2 and docs.loc["b", "sha256"] == content_sha256(check.revised[0])
        assert docs.loc["b", "first_run"] == "r1" and docs.loc["b", "last_run"] == "r2"
        assert history.counts() == {"runs": 2, "documents": 3, "document_versions": 4, "signals": 3,
                                    "rule_hits": 1, "pair_scores": 1}
        assert sorted(history.signals()["doc_id"]) == ["a", "b", "c"]


def test_unchanged_rows_keep_their_run_id(tmp_path):
    with History.open(tmp_path / "h.duckdb") as history:
        _record(history, "r1", [_doc("a")])
        _record(history, "r2", [_doc("a")])
        assert list(history.pair_scores()["run_id"]) == ["r1"]
        _record(history, "r3", [_doc("a")], score=35.0)
        assert list(history.pair_scores()["run_id"]) == ["r3"]
        assert history.counts()["pair_scores"] == 1


# --------------------------------------------------------------------------- one transaction per run
def test_an_exception_inside_the_run_leaves_the_history_as_before(tmp_path, monkeypatch):
    with History.open(tmp_path / "h.duckdb") as history:
        _record(history, "r1", [_doc("a")])
        before = _snapshot(history)
        calls = {"n": 0}
        original = History._with_frame

        def failing(self, name, frame, sql, params=()):
            calls["n"] += 1
            original(self, name, frame, sql, params)
            if calls["n"] == 4:  # after documents and signals are written, before the scores
                raise RuntimeError("disk full")

        monkeypatch.setattr(History, "_with_frame", failing)
        with pytest.raises(RuntimeError, match="disk full"):
            _record(history, "r2", [_doc("a", text="changed"), _doc("b")], score=50.0)
        assert calls["n"] == 4
        assert _snapshot(history) == before
    with History.open(tmp_path / "h.duckdb") as history:
        assert _snapshot(history) == before


KILLED_RUN = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {repo!r})
    from engine.history import History
    import tests.test_history as t

    path, marker = sys.argv[1], sys.argv[2]
    original = History._with_frame
    def slow(self, name, frame, sql, params=()):
        original(self, name, frame, sql, params)
        if "pair_scores" in sql:  # everything else of the run is written: stop inside the transaction
            open(marker, "w").write("inside")
            time.sleep(60)
    History._with_frame = slow
    with History.open(path) as history:
        t._record(history, "r2", [t._doc("a", text="changed"), t._doc("b")], score=50.0)
""")


def test_a_killed_run_leaves_the_history_as_before(tmp_path):
    path, marker = tmp_path / "h.duckdb", tmp_path / "inside"
    with History.open(path) as history:
        _record(history, "r1", [_doc("a")])
        before = _snapshot(history)
    script = tmp_path / "run.py"
    script.write_text(KILLED_RUN.format(repo=str(REPO)))
    proc = subprocess.Popen([sys.executable, str(script), str(path), str(marker)], cwd=REPO)
    try:
        deadline = time.time() + 60
        while not marker.exists():
            assert proc.poll() is None, "the run ended before reaching its transaction"
            assert time.time() < deadline
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    with History.open(path) as history:
        assert _snapshot(history) == before


# --------------------------------------------------------------------------- alerts (pure)
def test_alerts_enter_high_or_rise_by_20():
    scores = _scores("r", [("A", "B", "2024-10-28", 50, "ELEVATED"), ("A", "B", "2024-11-04", 62, "HIGH"),
                           ("C", "D", "2024-10-28", 10, "LOW"), ("C", "D", "2024-11-04", 35, "GUARDED"),
                           ("E", "F", "2024-10-28", 70, "HIGH"), ("E", "F", "2024-11-04", 75, "HIGH"),
                           ("G", "H", "2024-11-04", 81, "SEVERE"), ("I", "J", "2024-11-04", 15, "LOW")])
    alerts = compute_alerts(scores)
    got = {(a["source"], a["window_start"]): a["reasons"] for a in alerts}
    assert got == {("A", "2024-11-04"): ["entered HIGH"], ("C", "2024-11-04"): ["rose +25.0 points"],
                   ("E", "2024-10-28"): ["entered HIGH"], ("G", "2024-11-04"): ["entered SEVERE"]}
    assert [a["source"] for a in alerts] == ["G", "E", "A", "C"]  # highest score first
    first = next(a for a in alerts if a["source"] == "A")
    assert (first["previous_band"], first["previous_score"], first["change"]) == ("ELEVATED", 50.0, 12.0)
    json.dumps(alerts)  # one JSON line each


def test_alerts_only_for_candidates_and_with_previous_windows_from_the_history():
    stored = _scores("r1", [("A", "B", "2024-10-28", 40, "ELEVATED")])
    now = _scores("r2", [("A", "B", "2024-11-04", 61, "HIGH"), ("E", "F", "2024-11-04", 70, "HIGH")])
    alerts = compute_alerts(now, previous=stored, candidates=[("A", "B", "2024-11-04")])
    assert [(a["source"], a["reasons"]) for a in alerts] == [("A", ["entered HIGH", "rose +21.0 points"])]
    assert alerts[0]["previous_window"] == "2024-10-28"
    assert compute_alerts(now, candidates=[]) == []
    assert compute_alerts(now.iloc[0:0]) == []


def test_alert_evidence_is_the_strongest_signals_of_the_largest_hits():
    scores = _scores("r", [("A", "B", "2024-11-04", 65, "HIGH")])
    hits = pd.DataFrame({"source": ["A", "A", "A"], "target": ["B", "B", "B"], "window_start": ["2024-11-04"] * 3,
                         "rule_id": ["small", "big", "other-window"], "contribution": [3.0, -15.0, 40.0],
                         "signal_ids": ["s1", "s2;s3", "s9"]})
    hits.loc[2, "window_start"] = "2024-10-28"
    signals = pd.DataFrame({"signal_id": ["s1", "s2", "s3", "s9"], "intensity": [1.0, 0.2, 0.9, 1.0],
                            "confidence": [1.0, 1.0, 1.0, 1.0]})
    [alert] = compute_alerts(scores, rule_hits=hits, signals=signals, evidence=2)
    assert alert["evidence"] == ["s3", "s2"]


# --------------------------------------------------------------------------- scoring across runs (spaCy)
@pytest.fixture(scope="module")
def scorer():
    from engine.scoring import Scorer

    return Scorer()


def _without_run_ids(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns="run_id").reset_index(drop=True)


def test_seed_twice_gives_the_same_scores_and_no_duplicates(tmp_path, scorer):
    documents = read_inputs([SEED]).documents
    plain = scorer.score([], ingest=read_inputs([SEED]))
    with History.open(tmp_path / "h.duckdb") as history:
        first = score_with_history(scorer, history, documents)
        counts = history.counts()
        second = score_with_history(scorer, history, documents)
        assert history.counts() == {**counts, "runs": 2}
        assert not second.recorded.changed_pairs and second.alerts == []
        assert second.check.unchanged and not second.check.to_extract
        for name in ("pair_scores", "rule_hits"):
            pd.testing.assert_frame_equal(_without_run_ids(getattr(first.result, name)),
                                          _without_run_ids(getattr(second.result, name)))
            # a history run on a fresh file scores as a plain run
            pd.testing.assert_frame_equal(_without_run_ids(getattr(plain, name)),
                                          _without_run_ids(getattr(second.result, name)))
        assert set(second.result.pair_scores["run_id"]) == {first.result.run_id}
        for table, key in (("pair_scores", ["granularity", "source", "target", "window_start"]),
                           ("signals", ["signal_id"]), ("documents", ["doc_id"])):
            dupes = history.con.execute(f"SELECT count(*) FROM (SELECT {', '.join(key)} FROM {table} "
                                        f"GROUP BY ALL HAVING count(*) > 1)").fetchall()[0][0]
            assert dupes == 0, table
        irn_isr = pair_history(history, "IRN", "ISR")
        expected = plain.pair_scores[(plain.pair_scores["source"] == "IRN") & (plain.pair_scores["target"] == "ISR")]
        assert list(irn_isr["window_start"]) == list(expected["window_start"]) != []


def test_a_second_input_adds_windows_and_matches_one_run_on_both(tmp_path, scorer):
    documents = read_inputs([SEED]).documents
    early = [d for d in documents if d.date.isoformat() < "2024-11-04"]
    late = [d for d in documents if d.date.isoformat() >= "2024-11-04"]
    assert early and late
    with History.open(tmp_path / "h.duckdb") as history:
        first = score_with_history(scorer, history, early)
        windows_before = set(history.pair_scores()["window_start"])
        second = score_with_history(scorer, history, late)
        assert set(history.pair_scores()["window_start"]) > windows_before
        assert second.check.new == [d.info() for d in late] and second.scored_from == "2024-11-04"
        assert history.counts()["documents"] == len(documents)
        stored = history.pair_scores().drop(columns="granularity")
    whole = scorer.score([], ingest=read_inputs([SEED]))
    pd.testing.assert_frame_equal(_without_run_ids(whole.pair_scores), _without_run_ids(stored))
    # the first run's windows before the second input were not rewritten
    kept = stored[stored["window_start"] < "2024-11-04"]
    assert set(kept["run_id"]) == {first.result.run_id}


def test_a_revised_document_replaces_its_signals(tmp_path, scorer):
    documents = read_inputs([SEED]).documents
    with History.open(tmp_path / "h.duckdb") as history:
        score_with_history(scorer, history, documents)
        target = documents[0]
        revised = dataclasses.replace(target, text="Israel and Iran held talks in Oman.")
        run = score_with_history(scorer, history, [revised, *documents[1:]])
        assert run.check.revised == [revised.info()]
        stored = history.signals()
        assert not stored.loc[stored["doc_id"] == target.id, "signal"].isin(["ATTACK"]).any()
        assert stored["signal_id"].is_unique
        assert history.documents().set_index("doc_id").loc[target.id, "version"] == 2


def test_every_column_of_the_engine_tables_has_a_place_in_the_history(tmp_path):
    """When a table of engine/schemas.py gains a column, a migration must add it (this fails first)."""
    from engine.history import PAIR_SCORE_COLUMNS, RULE_HIT_COLUMNS, SIGNAL_COLUMNS

    with History.open(tmp_path / "h.duckdb") as history:
        for table, columns in (("signals", SIGNAL_COLUMNS), ("rule_hits", RULE_HIT_COLUMNS),
                               ("pair_scores", PAIR_SCORE_COLUMNS)):
            assert set(columns) <= set(history.stored_columns(table)), table

def test_a_column_without_a_migration_is_refused(tmp_path, monkeypatch):
    History.open(tmp_path / "h.duckdb").close()
    monkeypatch.setattr(history_module, "SIGNAL_COLUMNS", [*history_module.SIGNAL_COLUMNS, "new_column"])
    with pytest.raises(HistoryError, match="lacks new_column"):
        History.open(tmp_path / "h.duckdb")


def test_a_history_in_use_by_another_process_is_refused(tmp_path):
    path = tmp_path / "h.duckdb"
    with History.open(path):
        code = f"from engine.history import History; History.open({str(path)!r})"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 1 and "in use by another process" in done.stderr


def test_windows_beyond_the_look_back_score_as_one_run_over_everything(tmp_path, scorer):
    """The second input lies months after the first (beyond the look-back): its windows, and their
    `change` against the pair's last stored window, are those of one run over both inputs."""
    import datetime as dt

    from engine.history import lookback_days

    documents = read_inputs([SEED]).documents
    gap = dt.timedelta(days=lookback_days(scorer.rules, "week") + 60)
    early = [dataclasses.replace(d, date=d.date - gap) for d in documents[:5]]
    late = documents[5:]
    with History.open(tmp_path / "h.duckdb") as history:
        score_with_history(scorer, history, early)
        second = score_with_history(scorer, history, late)
        assert second.since > max(d.date for d in early).isoformat()  # the early signals were not read again
        stored = history.pair_scores().drop(columns="granularity")
    whole = scorer.score([*early, *late])
    pd.testing.assert_frame_equal(_without_run_ids(whole.pair_scores), _without_run_ids(stored))
    assert stored["change"].notna().any()


def test_undated_documents_keep_the_date_they_were_stored_with_and_an_empty_input_is_a_run(tmp_path, scorer):
    import datetime as dt

    undated = [Document(id="u1", text="Iran fired missiles at Israel.", date=None)]
    with History.open(tmp_path / "h.duckdb") as history:
        first = score_with_history(scorer, history, undated)
        assert set(history.signals()["date"]) == {dt.date.today().isoformat()}
        again = score_with_history(scorer, history, undated)
        assert not again.recorded.changed_pairs
        pd.testing.assert_frame_equal(_without_run_ids(first.result.pair_scores),
                                      _without_run_ids(again.result.pair_scores))
        empty = score_with_history(scorer, history, [])
        assert empty.scored_from is None and empty.alerts == [] and empty.result.pair_scores.empty
        assert history.counts()["runs"] == 3 and history.counts()["signals"] == len(first.result.signals)
