"""A run history in one DuckDB file: documents, signals, rule hits, pair scores and runs.

``--history FILE.duckdb`` on ``score`` and ``report`` keeps what every run saw and computed, so a new
day's documents are scored together with the stored signals: windows, ``change`` and trends span runs.

Tables (``SCHEMA_VERSION`` 1; each migration in ``MIGRATIONS`` is applied once, in its own
transaction, and recorded in ``schema_version``):

- ``escalation_history``  the file's identity (``application = escalation-engine``): a DuckDB file
  without it is someone else's and is refused, never written to.
- ``runs``         run id, engine version, rules and model sha256, spaCy model, window, started /
  finished, the first window the run (re)computed, counts, inputs.
- ``documents``    one row per document id: the sha256 of its content (text, date, source, url,
  title), version, date, source, url, title, the run that first stored it and the last run that
  changed it; ``document_versions`` keeps every (id, version, sha256, run).
- ``signals``      the signals table (engine/schemas.py) of every stored document (``seq`` keeps
  the order they were stored in), with the run that stored them.
- ``rule_hits`` / ``pair_scores``  the tables of ``score``, with their window size (``granularity``).

Documents: a document whose id and sha256 are already stored is not extracted again and adds
nothing. The same id with another sha256 is a **new version** (a corrected article): its stored
signals are replaced by the new version's, the documents row gets the new hash, metadata and
``version + 1``, and ``document_versions`` keeps the old hash. An undated document's signals take the
run's reference date (the latest document date of the input, else today) when they are first
stored, so later runs put them in the same window.

Scoring with a history (``score_with_history``): the input's documents decide the first affected
window (the earliest date among the input's documents and their signals, old and new). The stored
signals from ``lookback`` before it on, plus the new documents' signals, go through the rules and the
classifier as in a plain run; rule hits and pair scores of the affected windows and later replace the
stored ones in ONE transaction together with the documents, signals and the run row (a run killed
at any point leaves the file as it was). The run's tables (``--out``, the report) are the history's
rows of the rescored windows and of the ``SHOWN_WINDOWS`` (12) windows before them. Rows whose
values did not change keep the run id that first computed them, so re-running the same input
changes nothing and ``alerts.jsonl`` stays empty.

The lookback (``lookback_days``) covers the longest rule sequence and the classifier's memory (its
longest feature window), and the history's first signal is read too so that the classifier's window
grid starts where a run over everything would start it; affected windows then get the same scores
as a recomputation over every stored document (a test checks, with a gap longer than the lookback),
and a pair's first window takes its ``change`` from the last stored window before the lookback.

Alerts (``compute_alerts``): one per pair-window that the run created or changed and that either
entered HIGH or above (its previous window was below HIGH, or it has none) or rose by 20 points or
more against its previous window, with band, score, drivers and the ids of its strongest evidence.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from engine.errors import EngineError
from engine.schemas import BANDS, RuleHitsTable, SignalsTable, validate

APPLICATION = "escalation-engine"
DUCKDB_MAGIC = b"DUCK"  # bytes 8..12 of every DuckDB database file
DEFAULT_HISTORY = Path("history/escalation.duckdb")  # the documented default path (relative to the cwd)
ALERT_BAND = "HIGH"
ALERT_RISE = 20.0
EVIDENCE_PER_ALERT = 3
SHOWN_WINDOWS = 12  # windows before the rescored ones that a history run's tables (and report) show

SIGNAL_COLUMNS = list(SignalsTable.to_schema().columns)
RULE_HIT_COLUMNS = ["run_id", "source", "target", "window_start", "window_end", "rule_id", "contribution",
                    "signal_ids", "explanation", "band_floor", "band_cap"]
PAIR_SCORE_COLUMNS = ["run_id", "window_start", "window_end", "source", "target", "rules_score",
                      "model_probability", "score", "band", "band_floor", "band_cap", "change", "n_signals",
                      "top_drivers"]
PAIR_KEY = ["source", "target", "window_start"]


class HistoryError(EngineError):
    """The history file cannot be used: corrupt, not ours, newer than this engine, or locked."""


# --------------------------------------------------------------------------- schema and migrations
# Version 1: the tables described in the module docstring, written out (a migration must never change
# with the code's tables). A later version appends (version, description, [statements]); never edit a
# released migration. Columns that a table may lose later are nullable, so inserts of the engine's
# tables keep working; `_check_columns` refuses a file that lacks a column the engine's tables have.
MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (1, "runs, documents, document versions, signals, rule hits, pair scores", [
        "CREATE TABLE runs (run_id VARCHAR NOT NULL, engine_version VARCHAR, rules_sha256 VARCHAR, "
        "model_sha256 VARCHAR, spacy_model VARCHAR, granularity VARCHAR NOT NULL, started VARCHAR, finished VARCHAR, "
        "scored_from VARCHAR, n_documents BIGINT, n_new_documents BIGINT, n_revised_documents BIGINT, "
        "n_new_signals BIGINT, n_changed_pair_scores BIGINT, inputs VARCHAR)",
        "CREATE TABLE documents (doc_id VARCHAR NOT NULL, sha256 VARCHAR NOT NULL, version INTEGER NOT NULL, "
        "date VARCHAR NOT NULL, source VARCHAR, url VARCHAR, title VARCHAR, first_run VARCHAR NOT NULL, "
        "last_run VARCHAR NOT NULL)",
        "CREATE TABLE document_versions (doc_id VARCHAR NOT NULL, version INTEGER NOT NULL, "
        "sha256 VARCHAR NOT NULL, run_id VARCHAR NOT NULL)",
        "CREATE TABLE signals (seq BIGINT NOT NULL, stored_by VARCHAR NOT NULL, signal_id VARCHAR NOT NULL, "
        "doc_id VARCHAR NOT NULL, date VARCHAR NOT NULL, sent_index BIGINT, start_char BIGINT, end_char BIGINT, "
        "sent_start BIGINT, sent_end BIGINT, source VARCHAR, target VARCHAR, signal VARCHAR, cameo VARCHAR, "
        "intensity DOUBLE, negated BOOLEAN, hypothetical BOOLEAN, status VARCHAR, reported_by VARCHAR, "
        "location VARCHAR, confidence DOUBLE, pattern_id VARCHAR, trigger VARCHAR, source_text VARCHAR, "
        "target_text VARCHAR, source_basis VARCHAR, target_basis VARCHAR, antecedent_sent BIGINT, sentence VARCHAR)",
        "CREATE TABLE rule_hits (granularity VARCHAR NOT NULL, source VARCHAR NOT NULL, target VARCHAR NOT NULL, "
        "run_id VARCHAR NOT NULL, window_start VARCHAR NOT NULL, window_end VARCHAR, rule_id VARCHAR, "
        "contribution DOUBLE, signal_ids VARCHAR, explanation VARCHAR, band_floor VARCHAR, band_cap VARCHAR)",
        "CREATE TABLE pair_scores (granularity VARCHAR NOT NULL, source VARCHAR NOT NULL, target VARCHAR NOT NULL, "
        "run_id VARCHAR NOT NULL, window_start VARCHAR NOT NULL, window_end VARCHAR, rules_score DOUBLE, "
        "model_probability DOUBLE, score DOUBLE, band VARCHAR, band_floor VARCHAR, band_cap VARCHAR, change DOUBLE, "
        "n_signals BIGINT, top_drivers VARCHAR)",
        "CREATE INDEX signals_date ON signals (date)",
    ]),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]


def content_sha256(document) -> str:
    """The sha256 a document is stored under: its text, date, source, url and title (a Document's, or the one
    a DocumentInfo carries: ``engine.ingest.content_sha256``)."""
    return document.sha256


@dataclass
class DocumentCheck:
    """``History.new_documents``: which documents of an input are new, new versions or already stored."""

    new: list = field(default_factory=list)  # Documents, or DocumentInfos (score_with_history keeps no text)
    revised: list = field(default_factory=list)  # same id, another sha256
    unchanged: list = field(default_factory=list)

    @property
    def to_extract(self) -> list:
        return self.new + self.revised


@dataclass
class RunInfo:
    """The ``runs`` row of a run."""

    run_id: str
    granularity: str
    engine_version: str = ""
    rules_sha256: str = ""
    model_sha256: str | None = None
    spacy_model: str = ""
    started: str = ""
    inputs: list[str] = field(default_factory=list)


@dataclass
class Recorded:
    """What ``record_run`` changed: the pair-score keys (source, target, window_start) it added or changed."""

    run_id: str
    changed_pairs: set[tuple[str, str, str]]
    n_signals: int


class History:
    """A DuckDB run history. Open with ``History.open(path)``; use as a context manager or ``close()``."""

    def __init__(self, con, path: Path):
        self.con = con
        self.path = path

    # ----------------------------------------------------------------------- opening
    @classmethod
    def open(cls, path: str | Path, *, create: bool = True) -> History:
        """Open (or, when the path does not exist and ``create``, create) a history file.

        An existing file that is not a DuckDB database, a DuckDB database that is not an escalation
        history, or a history made by a newer engine raises ``HistoryError`` and is left untouched."""
        import duckdb

        path = Path(path)
        existed = path.exists()
        if existed:
            if not path.is_file():
                raise HistoryError(f"--history {path}: not a file")
            with path.open("rb") as fh:
                head = fh.read(12)
            if len(head) < 12 or head[8:12] != DUCKDB_MAGIC:
                raise HistoryError(f"--history {path}: not a DuckDB database file (corrupt, or another kind of file); "
                                   "it was left untouched - give a new path to start a history")
        elif not create:
            raise HistoryError(f"--history {path}: no such file")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # never fetch or load extensions: a foreign file must not make DuckDB download anything
            con = duckdb.connect(str(path), config={"autoinstall_known_extensions": False,
                                                    "autoload_known_extensions": False})
        except duckdb.Error as exc:
            text = str(exc)
            if "lock" in text.lower():
                raise HistoryError(f"--history {path}: in use by another process ({text.splitlines()[0]}); "
                                   "wait for that run to finish") from None
            raise HistoryError(f"--history {path}: cannot be opened as a DuckDB database ({text.splitlines()[0]}); "
                               "it was left untouched") from None
        history = cls(con, path)
        try:
            history._check_identity(existed)
            history._migrate()
            history._check_columns()
        except duckdb.Error as exc:
            con.close()
            raise HistoryError(f"--history {path}: unreadable ({str(exc).splitlines()[0]}); it was left untouched") from None
        except BaseException:
            con.close()
            raise
        return history

    def _tables(self) -> set[str]:
        return {r[0] for r in self.con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}

    def _check_identity(self, existed: bool) -> None:
        tables = self._tables()
        if "escalation_history" not in tables:
            if existed:
                shown = ", ".join(sorted(tables)[:5]) or "no tables"
                raise HistoryError(f"--history {self.path}: a DuckDB database that is not an escalation history "
                                   f"({shown}); it was left untouched - give a new path")
            self.con.execute("BEGIN TRANSACTION")
            self.con.execute("CREATE TABLE escalation_history (key VARCHAR NOT NULL, value VARCHAR)")
            self.con.execute("CREATE TABLE schema_version (version INTEGER NOT NULL, applied VARCHAR NOT NULL, "
                             "description VARCHAR)")
            self.con.execute("INSERT INTO escalation_history VALUES ('application', ?), ('created', ?)",
                             [APPLICATION, _now()])
            self.con.execute("COMMIT")
            return
        app = self._one("SELECT value FROM escalation_history WHERE key = 'application'")
        if not app or app[0] != APPLICATION:
            raise HistoryError(f"--history {self.path}: not an escalation history (application "
                               f"{app[0] if app else None!r}); it was left untouched")

    @property
    def schema_version(self) -> int:
        row = self._one("SELECT max(version) FROM schema_version")
        return int(row[0]) if row and row[0] is not None else 0

    def _migrate(self) -> None:
        current = self.schema_version
        if current > SCHEMA_VERSION:
            raise HistoryError(f"--history {self.path}: schema version {current} was written by a newer engine "
                               f"(this one knows up to {SCHEMA_VERSION}); upgrade the engine")
        for version, description, statements in MIGRATIONS:
            if version <= current:
                continue
            self.con.execute("BEGIN TRANSACTION")
            try:
                for sql in statements:
                    self.con.execute(sql)
                self.con.execute("INSERT INTO schema_version VALUES (?, ?, ?)", [version, _now(), description])
                self.con.execute("COMMIT")
            except BaseException:
                self.con.execute("ROLLBACK")
                raise

    def stored_columns(self, table: str) -> list[str]:
        return [r[0] for r in self.con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' AND table_name = ? "
            "ORDER BY ordinal_position", [table]).fetchall()]

    def _check_columns(self) -> None:
        """The engine's tables must fit the file's: a column the code has and no migration added is a bug."""
        for table, columns in (("signals", SIGNAL_COLUMNS), ("rule_hits", RULE_HIT_COLUMNS),
                               ("pair_scores", PAIR_SCORE_COLUMNS)):
            missing = [c for c in columns if c not in self.stored_columns(table)]
            if missing:
                raise HistoryError(f"--history {self.path}: its {table} table lacks {', '.join(missing)}: this engine "
                                   "has no migration for them (add one to engine/history.py MIGRATIONS)")

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ----------------------------------------------------------------------- reading
    def _one(self, sql: str, params: Sequence = ()):
        """The first row of a query (DuckDB 2 wants every result read to the end before the next call)."""
        rows = self.con.execute(sql, list(params)).fetchall()
        return rows[0] if rows else None

    def _df(self, sql: str, params: Sequence = ()) -> pd.DataFrame:
        return self.con.execute(sql, list(params)).df()

    def new_documents(self, documents: Sequence) -> DocumentCheck:
        """Sort an input's documents into new, new versions (same id, another sha256) and already stored."""
        check = DocumentCheck()
        if not documents:
            return check
        ids = pd.DataFrame({"doc_id": [d.id for d in documents]})
        self.con.register("_ids", ids)
        try:
            stored = dict(self.con.execute(
                "SELECT d.doc_id, d.sha256 FROM documents d JOIN _ids USING (doc_id)").fetchall())
        finally:
            self.con.unregister("_ids")
        for doc in documents:
            sha = stored.get(doc.id)
            if sha is None:
                check.new.append(doc)
            elif sha != content_sha256(doc):
                check.revised.append(doc)
            else:
                check.unchanged.append(doc)
        return check

    def signals(self, since: str | dt.date | None = None, *, doc_ids: Iterable[str] | None = None,
                exclude_doc_ids: Iterable[str] = ()) -> pd.DataFrame:
        """Stored signals (the signals table, validated) dated ``since`` or later, in the order they were stored."""
        where, params = ["TRUE"], []
        if since is not None:
            where.append("date >= ?")
            params.append(str(since))
        frames = {}
        if doc_ids is not None:
            frames["_only"] = pd.DataFrame({"doc_id": list(doc_ids)}, dtype=object)
            where.append("doc_id IN (SELECT doc_id FROM _only)")
        exclude = list(exclude_doc_ids)
        if exclude:
            frames["_skip"] = pd.DataFrame({"doc_id": exclude}, dtype=object)
            where.append("doc_id NOT IN (SELECT doc_id FROM _skip)")
        for name, frame in frames.items():
            self.con.register(name, frame)
        try:
            df = self._df(f"SELECT {', '.join(SIGNAL_COLUMNS)} FROM signals WHERE {' AND '.join(where)} ORDER BY seq",
                          params)
        finally:
            for name in frames:
                self.con.unregister(name)
        return _signals_table(df)

    def first_signal(self, before: str, exclude_doc_ids: Iterable[str] = ()) -> pd.DataFrame:
        """The history's first stored signal (earliest date, then order stored) if it is dated before ``before``."""
        exclude = list(exclude_doc_ids)
        self.con.register("_skip", pd.DataFrame({"doc_id": exclude}, dtype=object))
        try:
            df = self._df(f"SELECT {', '.join(SIGNAL_COLUMNS)} FROM signals WHERE date < ? AND doc_id NOT IN "
                          "(SELECT doc_id FROM _skip) ORDER BY date, seq LIMIT 1", [str(before)])
        finally:
            self.con.unregister("_skip")
        return _signals_table(df)

    def pair_scores(self, source: str | None = None, target: str | None = None, *, granularity: str | None = None,
                    since: str | None = None) -> pd.DataFrame:
        """Stored pair scores (of one pair when source/target are given), by pair then window."""
        where, params = _filters(source=source, target=target, granularity=granularity)
        if since is not None:
            where.append("window_start >= ?")
            params.append(str(since))
        df = self._df(f"SELECT granularity, {', '.join(PAIR_SCORE_COLUMNS)} FROM pair_scores WHERE "
                      f"{' AND '.join(where)} ORDER BY granularity, source, target, window_start", params)
        return df

    def latest_before(self, granularity: str, before: str) -> pd.DataFrame:
        """Each pair's latest stored pair-score row of this window size that starts before ``before``."""
        return self._df(f"""SELECT {', '.join(PAIR_SCORE_COLUMNS)} FROM pair_scores
                            WHERE granularity = ? AND window_start < ?
                            QUALIFY row_number() OVER (PARTITION BY source, target ORDER BY window_start DESC) = 1
                            ORDER BY source, target""", [granularity, before])

    def rule_hits(self, source: str | None = None, target: str | None = None, *, granularity: str | None = None,
                  since: str | None = None) -> pd.DataFrame:
        where, params = _filters(source=source, target=target, granularity=granularity)
        if since is not None:
            where.append("window_start >= ?")
            params.append(str(since))
        return self._df(f"SELECT granularity, {', '.join(RULE_HIT_COLUMNS)} FROM rule_hits WHERE "
                        f"{' AND '.join(where)} ORDER BY granularity, source, target, window_start, rule_id", params)

    def documents(self) -> pd.DataFrame:
        return self._df("SELECT * FROM documents ORDER BY doc_id")

    def runs(self) -> pd.DataFrame:
        return self._df("SELECT * FROM runs ORDER BY started, run_id")

    def counts(self) -> dict[str, int]:
        return {t: int(self._one(f"SELECT count(*) FROM {t}")[0])
                for t in ("runs", "documents", "document_versions", "signals", "rule_hits", "pair_scores")}

    def earliest_signal_date(self, doc_ids: Iterable[str]) -> str | None:
        ids = list(doc_ids)
        if not ids:
            return None
        self.con.register("_ids", pd.DataFrame({"doc_id": ids}, dtype=object))
        try:
            row = self._one("SELECT min(date) FROM signals WHERE doc_id IN (SELECT doc_id FROM _ids)")
        finally:
            self.con.unregister("_ids")
        return row[0] if row and row[0] else None

    # ----------------------------------------------------------------------- writing
    def record_run(self, run: RunInfo, *, check: DocumentCheck, signals: pd.DataFrame, rule_hits: pd.DataFrame,
                   pair_scores: pd.DataFrame, scored_from: str | None, n_documents: int | None = None) -> Recorded:
        """Store one run in ONE transaction: the new and revised documents with their signals, and the rule
        hits and pair scores of every window from ``scored_from`` on (they replace the stored ones of
        this window size; rows whose values are unchanged keep their run id). Nothing is written if
        anything fails, and a process killed meanwhile leaves the file as it was."""
        if (signals["date"] == "").any():
            raise ValueError("signals stored in a history must be dated (fill undated ones with the run's reference date)")
        self.con.execute("BEGIN TRANSACTION")
        try:
            changed = self._record(run, check, signals, rule_hits, pair_scores, scored_from, n_documents)
            self.con.execute("COMMIT")
        except BaseException:
            try:
                self.con.execute("ROLLBACK")
            except Exception:  # noqa: BLE001 - the connection may already be gone; the file keeps its last commit
                pass
            raise
        return Recorded(run.run_id, changed, len(signals))

    def _record(self, run, check, signals, rule_hits, pair_scores, scored_from, n_documents):
        con, now = self.con, _now()
        # documents: new ones inserted, revised ones get the new hash and lose their old signals
        revised_ids = [d.id for d in check.revised]
        if revised_ids:
            self._with_frame("_rev", pd.DataFrame({"doc_id": revised_ids}, dtype=object),
                             "DELETE FROM signals WHERE doc_id IN (SELECT doc_id FROM _rev)")
            rows = pd.DataFrame([_document_row(d, run.run_id) for d in check.revised])
            self._with_frame("_docs", rows, """
                UPDATE documents SET sha256 = _docs.sha256, version = documents.version + 1, date = _docs.date,
                       source = _docs.source, url = _docs.url, title = _docs.title, last_run = _docs.last_run
                FROM _docs WHERE documents.doc_id = _docs.doc_id""")
            self._with_frame("_docs", rows, """
                INSERT INTO document_versions SELECT d.doc_id, d.version, d.sha256, ? FROM documents d
                WHERE d.doc_id IN (SELECT doc_id FROM _docs)""", [run.run_id])
        if check.new:
            rows = pd.DataFrame([_document_row(d, run.run_id) for d in check.new])
            self._with_frame("_docs", rows, """
                INSERT INTO documents SELECT doc_id, sha256, 1, date, source, url, title, first_run, last_run FROM _docs""")
            self._with_frame("_docs", rows, "INSERT INTO document_versions SELECT doc_id, 1, sha256, ? FROM _docs",
                             [run.run_id])
        # signals, in the order given, after every stored one
        if len(signals):
            start = int(self._one("SELECT coalesce(max(seq), -1) + 1 FROM signals")[0])
            frame = signals[SIGNAL_COLUMNS].reset_index(drop=True).copy()
            frame.insert(0, "stored_by", run.run_id)
            frame.insert(0, "seq", range(start, start + len(frame)))
            self._with_frame("_sig", frame, "INSERT INTO signals BY NAME SELECT * FROM _sig")
        # rule hits and pair scores of the recomputed windows
        changed: set[tuple[str, str, str]] = set()
        if scored_from is not None:
            hits = _keep_run_ids(rule_hits[RULE_HIT_COLUMNS], self.rule_hits(granularity=run.granularity,
                                                                              since=scored_from),
                                 ["source", "target", "window_start", "rule_id"])
            scores = pair_scores[PAIR_SCORE_COLUMNS]
            stored_scores = self.pair_scores(granularity=run.granularity, since=scored_from)
            scores, changed = _keep_run_ids(scores, stored_scores, PAIR_KEY, report_changes=True)
            for table, frame in (("rule_hits", hits), ("pair_scores", scores)):
                con.execute(f"DELETE FROM {table} WHERE granularity = ? AND window_start >= ?",
                            [run.granularity, scored_from])
                if len(frame):
                    frame = frame.reset_index(drop=True).copy()
                    frame.insert(0, "granularity", run.granularity)
                    self._with_frame("_rows", frame, f"INSERT INTO {table} BY NAME SELECT * FROM _rows")
        con.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            run.run_id, run.engine_version, run.rules_sha256, run.model_sha256, run.spacy_model, run.granularity,
            run.started, now, scored_from, n_documents if n_documents is not None else
            len(check.new) + len(check.revised) + len(check.unchanged), len(check.new), len(check.revised),
            len(signals), len(changed), json.dumps(run.inputs)])
        return changed

    def _with_frame(self, name: str, frame: pd.DataFrame, sql: str, params: Sequence = ()) -> None:
        self.con.register(name, frame)
        try:
            self.con.execute(sql, list(params))
        finally:
            self.con.unregister(name)


def _filters(**values) -> tuple[list[str], list]:
    where, params = ["TRUE"], []
    for column, value in values.items():
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    return where, params


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def _document_row(doc, run_id: str) -> dict:
    return {"doc_id": doc.id, "sha256": content_sha256(doc), "date": doc.date.isoformat() if doc.date else "",
            "source": doc.source, "url": doc.url, "title": doc.title, "first_run": run_id, "last_run": run_id}


def _signals_table(df: pd.DataFrame) -> pd.DataFrame:
    if df.empty:
        from engine.schemas import empty_frame

        return empty_frame(SignalsTable)
    return validate(SignalsTable, df[SIGNAL_COLUMNS].reset_index(drop=True), "signals")


def _value_key(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """One hashable tuple per row of ``columns`` (NaN/None read as None, floats compared as stored)."""
    values = [frame[c].tolist() for c in columns]
    return pd.Series([tuple(None if (isinstance(v, float) and math.isnan(v)) or v is None else v for v in row)
                      for row in zip(*values, strict=True)], index=frame.index, dtype=object)


def _keep_run_ids(new: pd.DataFrame, stored: pd.DataFrame, key: list[str], report_changes: bool = False):
    """``new`` with the stored run id on every row whose values equal a stored row's (apart from the run
    id); with ``report_changes``, also the keys of rows that are new or differ."""
    new = new.copy()
    value_cols = [c for c in new.columns if c != "run_id"]
    changed: set = set()
    if stored.empty or new.empty:
        changed = set(map(tuple, new[key].itertuples(index=False))) if len(new) else set()
        return (new, changed) if report_changes else new
    stored_runs = dict(zip(_value_key(stored, value_cols), stored["run_id"], strict=True))
    keys = _value_key(new, value_cols)
    kept = keys.map(lambda k: stored_runs.get(k))
    new["run_id"] = kept.where(kept.notna(), new["run_id"])
    if report_changes:
        changed = {tuple(r) for r, same in zip(new[key].itertuples(index=False), kept.notna(), strict=True) if not same}
        return new, changed
    return new


# --------------------------------------------------------------------------- alerts
def compute_alerts(pair_scores: pd.DataFrame, *, candidates: Iterable[tuple[str, str, str]] | None = None,
                   previous: pd.DataFrame | None = None, rule_hits: pd.DataFrame | None = None,
                   signals: pd.DataFrame | None = None, enter_band: str = ALERT_BAND, rise: float = ALERT_RISE,
                   evidence: int = EVIDENCE_PER_ALERT) -> list[dict]:
    """Alerts from a pair-scores table (pure: no I/O).

    A pair-window alerts when its band is ``enter_band`` or above and its previous window's was below
    it (or it has no previous window), or when its score rose by ``rise`` points or more against its
    previous window. ``candidates``: the (source, target, window_start) keys to consider (default:
    every row); ``previous``: earlier pair-score rows (e.g. from the history) that supply a previous
    window the table lacks. ``rule_hits``/``signals`` give the evidence: the signal ids of the
    pair-window's strongest rule hits, strongest signals (intensity x confidence) first, at most
    ``evidence`` of them. Ordered by score, highest first."""
    if pair_scores.empty:
        return []
    table = pair_scores
    if previous is not None and not previous.empty:
        table = pd.concat([previous[pair_scores.columns.intersection(previous.columns)], pair_scores])
        table = table.drop_duplicates(PAIR_KEY, keep="last")
    table = table.sort_values(PAIR_KEY, kind="stable").reset_index(drop=True)
    grouped = table.groupby(["source", "target"], sort=False)
    table["prev_score_"] = grouped["score"].shift(1)
    table["prev_band_"] = grouped["band"].shift(1)
    table["prev_window_"] = grouped["window_start"].shift(1)
    if candidates is not None:
        wanted = set(map(tuple, candidates))
        mask = [tuple(k) in wanted for k in table[PAIR_KEY].itertuples(index=False)]
        table = table[mask]
    level = {b: i for i, b in enumerate(BANDS)}
    threshold = level[enter_band]
    strength = _signal_strength(signals)
    out = []
    for row in table.itertuples(index=False):
        prev_band = row.prev_band_ if isinstance(row.prev_band_, str) else None
        prev_score = None if pd.isna(row.prev_score_) else float(row.prev_score_)
        reasons = []
        if level[row.band] >= threshold and (prev_band is None or level[prev_band] < threshold):
            reasons.append(f"entered {row.band}")
        if prev_score is not None and row.score - prev_score >= rise - 1e-9:
            reasons.append(f"rose {row.score - prev_score:+.1f} points")
        if not reasons:
            continue
        out.append({
            "source": row.source, "target": row.target, "window_start": row.window_start,
            "window_end": row.window_end, "band": row.band, "score": float(row.score),
            "previous_band": prev_band, "previous_score": prev_score,
            "previous_window": row.prev_window_ if isinstance(row.prev_window_, str) else None,
            "change": None if prev_score is None else round(float(row.score) - prev_score, 2),
            "reasons": reasons, "drivers": row.top_drivers, "rules_score": float(row.rules_score),
            "model_probability": float(row.model_probability),
            "evidence": _evidence(rule_hits, strength, row.source, row.target, row.window_start, evidence),
            "run_id": row.run_id,
        })
    return sorted(out, key=lambda a: (-a["score"], a["source"], a["target"], a["window_start"]))


def _signal_strength(signals: pd.DataFrame | None) -> dict[str, float]:
    if signals is None or signals.empty:
        return {}
    return dict(zip(signals["signal_id"], signals["intensity"] * signals["confidence"], strict=True))


def _evidence(rule_hits, strength, source, target, window_start, limit) -> list[str]:
    if rule_hits is None or rule_hits.empty:
        return []
    hits = rule_hits[(rule_hits["source"] == source) & (rule_hits["target"] == target)
                     & (rule_hits["window_start"] == window_start)]
    hits = hits.assign(_abs=-hits["contribution"].abs()).sort_values(["_abs", "rule_id"], kind="stable")
    ids: list[str] = []
    for value in hits["signal_ids"]:
        ranked = sorted((i for i in str(value).split(";") if i), key=lambda i: -strength.get(i, 0.0))
        for signal_id in ranked:
            if signal_id not in ids:
                ids.append(signal_id)
    return ids[:limit]


def write_alerts(alerts: list[dict], path: Path) -> Path:
    """alerts.jsonl: one JSON object per line (an empty file when nothing alerts)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in alerts), encoding="utf-8")
    tmp.replace(path)
    return path


# --------------------------------------------------------------------------- scoring with a history
def lookback_days(rules, granularity: str) -> int:
    """How far before the first affected window stored signals are read: the longest rule sequence
    plus the classifier's memory (the longest feature window: ``LONG`` windows of long-run features,
    ``SINCE_CAP`` windows since the last attack, 4 windows of recent averages; two more for ``change``
    and the window itself), in days."""
    from engine.model import features

    longest = max([r.rule.when.within_days or 0 for r in rules] + [0])
    memory = max(getattr(features, "LONG", 0), getattr(features, "SINCE_CAP", 0), 4) + 4 + 2
    per_window = {"day": 1, "week": 7, "month": 31}[granularity]
    return longest + memory * per_window


@dataclass
class HistoryRun:
    """``score_with_history``'s outcome: the tables to write, the alerts, and what the history gained."""

    result: object  # ScoreResult
    alerts: list[dict]
    check: DocumentCheck
    scored_from: str | None
    since: str | None
    recorded: Recorded


CHECK_CHUNK = 500  # documents looked up in the history at a time


def _not_stored(history: History, documents: Iterable, check: DocumentCheck,
                progress: Callable[[int], None] | None) -> Iterator:
    """The documents the history lacks (new, or new versions), in input order, looked up a chunk at a time as
    the input is read; ``check`` gets every document's DocumentInfo (no text) in its list."""
    from engine.ingest import chunked

    for chunk in chunked(documents, CHECK_CHUNK):
        part = history.new_documents(chunk)
        for mine, theirs in ((check.new, part.new), (check.revised, part.revised), (check.unchanged, part.unchanged)):
            mine.extend(d.info() for d in theirs)
        wanted = {d.id for d in part.to_extract}
        del part
        if progress and len(wanted) < len(chunk):
            progress(len(chunk) - len(wanted))
        yield from (d for d in chunk if d.id in wanted)


def score_with_history(scorer, history: History, documents: Iterable, *, ingest=None, extract=None,
                       inputs: Sequence[Path] = (), lookback: int | None = None,
                       progress: Callable[[int], None] | None = None, started: float | None = None,
                       stage: Callable[[str], None] | None = None) -> HistoryRun:
    """Score an input together with the history: extract only documents the history lacks, score them
    with the stored signals from ``lookback`` days (default ``lookback_days``) before the first affected
    window, store everything in one transaction, and return the alerts and the tables as the history
    now holds them: the rescored windows and the ``SHOWN_WINDOWS`` windows before them, with the
    signals their rule hits read.

    ``documents``: any iterable of Documents, read once as extraction goes (e.g. an
    ``engine.ingest.InputStream``); ``extract(documents, progress)`` -> Extraction (default: the scorer's
    own extractor); ``stage(name)`` is told when the rules and the pair scores start."""
    import time

    from engine.output import _version, new_run_id
    from engine.scoring import LatestDate, ScoreResult
    from engine.windows import window_of

    started = started or time.time()
    g = scorer.granularity
    check = DocumentCheck()
    latest = LatestDate()
    extraction = (extract or scorer.extractor.extract)(
        _not_stored(history, latest.through(documents), check, progress), progress=progress)
    reference = latest.date or dt.date.today()
    documents = check.new + check.revised + check.unchanged  # every document of the input, without text
    new_signals = extraction.signals.copy()
    if len(new_signals):
        new_signals["date"] = new_signals["date"].where(new_signals["date"] != "", reference.isoformat())
    run_id = new_run_id()

    # the first affected window: the earliest date of the input's documents and of their signals (stored or new)
    dates = [(d.date or reference).isoformat() for d in documents]
    dates += list(new_signals["date"])
    stored_min = history.earliest_signal_date([d.id for d in check.revised + check.unchanged])
    if stored_min:
        dates.append(stored_min)
    scored_from = window_of(dt.date.fromisoformat(min(dates)), g)[0].isoformat() if dates else None
    since = None
    if scored_from is not None:
        days = lookback if lookback is not None else lookback_days(scorer.rules, g)
        since = (dt.date.fromisoformat(scored_from) - dt.timedelta(days=days)).isoformat()
    revised_ids = [d.id for d in check.revised]
    stored = history.signals(since=since, exclude_doc_ids=revised_ids) if since else _signals_table(pd.DataFrame())
    # the classifier's window grid starts at the first signal it is given, and its features read the
    # windows before (empty ones too): one stored signal from before the look-back (the history's
    # first) starts the grid where a run over everything would; its own windows are not kept
    anchor = history.first_signal(before=since, exclude_doc_ids=revised_ids) if since else stored.iloc[0:0]
    if len(anchor):
        stored = validate(SignalsTable, pd.concat([anchor, stored], ignore_index=True), "signals")
    signals = pd.concat([stored, new_signals], ignore_index=True) if len(new_signals) else stored
    if len(stored) and len(new_signals):
        signals = validate(SignalsTable, signals, "signals")
    rule_hits, pair_scores = scorer.score_signals(signals, reference, run_id, stage=stage)
    fresh_hits = rule_hits[rule_hits["window_start"] >= scored_from] if scored_from else rule_hits.iloc[0:0]
    fresh_scores = pair_scores[pair_scores["window_start"] >= scored_from] if scored_from else pair_scores.iloc[0:0]
    # `change` against each pair's previous window: within this computation from the look-back on, else
    # the last stored window before it (windows before the look-back were computed without their own past)
    prior = history.latest_before(g, since) if since else pair_scores.iloc[0:0]
    if len(fresh_scores):
        fresh_scores = fresh_scores.copy()
        earlier = pd.concat([prior[["source", "target", "window_start", "score"]],
                             pair_scores.loc[(pair_scores["window_start"] >= since) & (pair_scores["window_start"] < scored_from),
                                             ["source", "target", "window_start", "score"]]])
        chain = pd.concat([earlier.assign(_fresh=False), fresh_scores[["source", "target", "window_start", "score"]]
                           .assign(_fresh=True, _index=fresh_scores.index)])
        chain = chain.sort_values(["source", "target", "window_start"], kind="stable")
        chain["_change"] = chain.groupby(["source", "target"])["score"].diff()
        mine = chain[chain["_fresh"]]
        fresh_scores.loc[mine["_index"].astype(int), "change"] = mine["_change"].to_numpy()
    config = scorer.config
    run = RunInfo(run_id=run_id, granularity=g, engine_version=_version(), rules_sha256=config.rules_sha256,
                  model_sha256=config.model_sha256, spacy_model=extraction.model.describe(),
                  started=dt.datetime.fromtimestamp(started, dt.UTC).isoformat(timespec="seconds"),
                  inputs=[str(p) for p in inputs])
    recorded = history.record_run(run, check=check, signals=new_signals, rule_hits=fresh_hits,
                                  pair_scores=fresh_scores, scored_from=scored_from, n_documents=len(documents))

    # the run's tables, as the history now holds them: the rescored windows and the SHOWN_WINDOWS before
    # them (the report's trend lines span runs), with the signals their rule hits read
    from engine.formula import validate_pair_scores

    if since is not None:
        scores = history.pair_scores(granularity=g, since=since).drop(columns="granularity")
        hits = history.rule_hits(granularity=g, since=since).drop(columns="granularity")
    else:
        scores, hits = pair_scores.iloc[0:0], rule_hits.iloc[0:0]
    alerts = compute_alerts(scores[PAIR_SCORE_COLUMNS], candidates=recorded.changed_pairs, previous=prior,
                            rule_hits=hits, signals=signals)
    shown_from = since
    if scored_from is not None:
        shown_from = max(since, (dt.date.fromisoformat(scored_from) - dt.timedelta(
            days=SHOWN_WINDOWS * {"day": 1, "week": 7, "month": 31}[g])).isoformat())
        scores, hits = scores[scores["window_start"] >= shown_from], hits[hits["window_start"] >= shown_from]
        longest = max([r.rule.when.within_days or 0 for r in scorer.rules] + [0])
        signals = signals[signals["date"] >= (dt.date.fromisoformat(shown_from) - dt.timedelta(days=longest)).isoformat()]
    out_scores = validate_pair_scores(scores[PAIR_SCORE_COLUMNS].reset_index(drop=True), scorer.formula)
    out_hits = validate(RuleHitsTable, hits[RULE_HIT_COLUMNS].reset_index(drop=True), "rule_hits")
    signals = signals.reset_index(drop=True)
    # n_documents counts the input's documents (new or already stored)
    extraction = dataclasses.replace(extraction, signals=signals, n_documents=len(documents))
    result = ScoreResult(run_id, signals, out_hits, out_scores, extraction, config, ingest, run.started,
                         round(time.time() - started, 2))
    result.alerts = alerts
    result.history = {"path": str(history.path), "scored_from": scored_from, "read_signals_since": since,
                      "shown_from": shown_from,
                      "new_documents": len(check.new), "revised_documents": len(check.revised),
                      "stored_documents": len(check.unchanged), "new_signals": len(new_signals),
                      "changed_pair_scores": len(recorded.changed_pairs), "alerts": len(alerts)}
    return HistoryRun(result, alerts, check, scored_from, since, recorded)


def score_signals(scorer, signals: pd.DataFrame, run_id: str, reference: dt.date):
    """Rules and pair scores of a signals table (``Scorer.score`` after extraction)."""
    return scorer.score_signals(signals, reference=reference, run_id=run_id)


# --------------------------------------------------------------------------- `escalation history`
def pair_history(history: History, source: str, target: str, granularity: str | None = None) -> pd.DataFrame:
    """A pair's stored scores by window (all window sizes unless one is given), oldest first."""
    df = history.pair_scores(source, target, granularity=granularity)
    return df.sort_values(["granularity", "window_start"], kind="stable").reset_index(drop=True)
