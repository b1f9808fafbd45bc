"""Writing a run's outputs: one function, all or nothing.

``write_run`` is the only place a run's files are written. Every file is first written into a
staging folder beside ``--out`` (same file system), then moved into ``--out`` one by one with an
atomic rename, ``run.json`` last: it is the completion mark (it is removed first, so a folder
without ``run.json`` is a run being written or one that was killed while files were being moved). A
failed write (full disk, killed process) leaves the previous outputs as they were. Engine files
that this run does not produce (a score's pair_scores.csv when an extract writes into the same
folder) are removed, so a folder never mixes runs. ``output_lock`` keeps two runs out of one
folder, and ``check_out_dir`` refuses an ``--out`` that cannot work before any work starts.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

import pandas as pd

from engine.errors import EngineError

TABLES = ("signals", "rule_hits", "pair_scores")
# every file a run may write into --out (anything else in the folder is left alone)
ENGINE_FILES = frozenset([f"{t}.{ext}" for t in TABLES for ext in ("csv", "parquet")]
                         + ["unknown_actors.csv", "rejected.jsonl", "index.html", "report.pdf", "run.json",
                            "alerts.jsonl"])
COMPLETION_MARK = "run.json"


class OutputError(EngineError):
    """An output folder cannot be used (a file, read-only, inside an input, or in use by another run)."""


def write_table(df: pd.DataFrame, out_dir: Path, name: str) -> Path:
    """One table as CSV and Parquet side by side."""
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / f"{name}.csv"
    df.to_csv(csv_path, index=False)
    df.to_parquet(out_dir / f"{name}.parquet", index=False)
    return csv_path


def check_out_dir(out: Path, inputs: Iterable[Path] = ()) -> Path:
    """Refuse an output folder that cannot work, before any work starts."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} is a file, not a folder")
    resolved = out.resolve()
    for given in inputs:
        folder = Path(given).resolve()
        if folder.is_dir() and (resolved == folder or folder in resolved.parents):
            raise OutputError(f"--out {out} is inside the input folder {given}: the next run would read its "
                              "outputs as input; choose a folder outside it")
    if resolved.exists():
        folders = [resolved, resolved.parent]  # files are replaced in it; staging and lock sit beside it
    else:
        existing = resolved.parent
        while not existing.exists():
            existing = existing.parent
        if not existing.is_dir():
            raise OutputError(f"--out {out}: {existing} is a file, not a folder")
        folders = [existing]
    for folder in folders:
        if not os.access(folder, os.W_OK | os.X_OK):
            raise OutputError(f"--out {out}: {folder} is not writable")
    return out


_held: dict[Path, int] = {}  # output folders this process has locked -> lock depth


@contextlib.contextmanager
def output_lock(out: Path) -> Iterator[Path]:
    """Hold ``.NAME.lock`` beside the output folder for the duration (re-entrant in one process).

    The lock is an ``flock`` (released by the system when the process dies, so a killed run leaves
    no stale lock); a second run into the same folder stops at once with a clear message."""
    key = Path(out).resolve()
    if key in _held:
        _held[key] += 1
        try:
            yield key
        finally:
            _held[key] -= 1
        return
    key.parent.mkdir(parents=True, exist_ok=True)
    lock = key.parent / f".{key.name}.lock"
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise OutputError(f"--out {out}: another run (pid {holder}) is writing to this folder (lock file {lock}); "
                              "wait for it to finish or choose another --out") from None
        # the holder before us may have removed the file after we opened it: lock the current one
        try:
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    _held[key] = 1
    try:
        yield key
    finally:
        del _held[key]
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock)
        os.close(fd)


def write_run(out: Path, *, run: dict, tables: dict[str, pd.DataFrame], unknown_actors: pd.DataFrame | None = None,
              ingest=None, html: str | None = None, files: dict[str, bytes] | None = None) -> Path:
    """Write one run's outputs into ``out`` all or nothing (see the module docstring); return ``out``.

    ``tables``: name -> DataFrame, each written as CSV and Parquet; ``ingest``: its rejected records
    go to rejected.jsonl; ``html``: index.html; ``files``: other outputs by name (report.pdf);
    ``run``: run.json, written last."""
    out = Path(out)
    check_out_dir(out)
    with output_lock(out):
        resolved = out.resolve()
        for stale in resolved.parent.glob(f".{resolved.name}.staging-*"):  # left by a killed run: we hold the lock
            shutil.rmtree(stale, ignore_errors=True)
        staging = resolved.parent / f".{resolved.name}.staging-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        staging.mkdir()
        try:
            for name, table in tables.items():
                write_table(table, staging, name)
            if unknown_actors is not None:
                unknown_actors.to_csv(staging / "unknown_actors.csv", index=False)
            if ingest is not None:
                ingest.write_rejected(staging)
            if html is not None:
                (staging / "index.html").write_text(html, encoding="utf-8")
            for name, data in (files or {}).items():
                (staging / name).write_bytes(data)
            (staging / COMPLETION_MARK).write_text(json.dumps(run, indent=2) + "\n")
            for path in staging.iterdir():
                with path.open("rb") as fh:
                    os.fsync(fh.fileno())
            _commit(staging, out)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return out


def _commit(staging: Path, out: Path) -> None:
    """Move the staged files into ``out``: the old completion mark goes first, the new one last."""
    out.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        (out / COMPLETION_MARK).unlink()
    produced = {p.name for p in staging.iterdir()}
    for name in sorted(produced - {COMPLETION_MARK}):
        os.replace(staging / name, out / name)
    for name in ENGINE_FILES - produced:
        with contextlib.suppress(FileNotFoundError):
            (out / name).unlink()
    os.replace(staging / COMPLETION_MARK, out / COMPLETION_MARK)


def new_run_id() -> str:
    import datetime as dt

    return f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


def write_result(result, out: Path, inputs: Iterable[Path] | None = None, render=None,
                 files: dict[str, bytes] | None = None) -> Path:
    """Write a ScoreResult's tables, rejected records, unknown actors and run.json (and index.html,
    ``render(result, run)``, for a report) through ``write_run``; return ``out``. A run with a history
    (engine/history.py) also writes alerts.jsonl (one JSON object per line) and records the history in run.json."""
    inputs = list(inputs or [])
    check_out_dir(out, inputs)
    counts = {"documents": result.extraction.n_documents, "signals": len(result.signals),
              "rule_hits": len(result.rule_hits), "pairs": int(len(result.ranked()))}
    run = run_record(run_id=result.run_id, started=result.started, seconds=result.seconds, config=result.config,
                     extraction=result.extraction, ingest=result.ingest, inputs=inputs, counts=counts,
                     dates=result.signals["date"])
    if getattr(result, "history", None) is not None:
        run["history"] = result.history
    if getattr(result, "alerts", None) is not None:
        lines = "".join(json.dumps(alert, ensure_ascii=False) + "\n" for alert in result.alerts)
        files = {**(files or {}), "alerts.jsonl": lines.encode("utf-8")}
    return write_run(out, run=run, tables={name: getattr(result, name) for name in TABLES},
                     unknown_actors=result.extraction.unknown_actors, ingest=result.ingest,
                     html=render(result, run) if render else None, files=files)


def run_record(*, run_id: str, started: str, seconds: float, config, extraction, ingest=None,
               inputs: Iterable[Path] | None = None, counts: dict | None = None, dates: Iterable[str] = ()) -> dict:
    """What run.json holds: the run, the versions, the configuration's files with their sha256
    (``config`` is a RunConfig), the inputs with theirs, the window, the date range and counts."""
    import spacy

    dates = [d for d in dates if d]
    files = [Path(p) for p in (inputs or [])]
    return {
        "run_id": run_id, "engine_version": _version(), "started": started, "run_seconds": seconds,
        "spacy": spacy.__version__, "spacy_model": extraction.model.describe(),
        "rules_sha256": config.rules_sha256, "model_file": str(config.model_path) if config.model_path else None,
        "model_sha256": config.model_sha256, "window": config.granularity,
        "date_range": [min(dates), max(dates)] if dates else None,
        "inputs": [{"path": str(p), "sha256": _file_sha256(p) if p.is_file() else None,
                    "records": (ingest.files.get(str(p)) if ingest else None)} for p in files],
        "input_files": dict(ingest.files) if ingest else {},
        "counts": counts or {},
        "config": config.describe(),
    }


def _file_sha256(path: Path) -> str:
    """Read in blocks: an input feed can be larger than memory."""
    import hashlib

    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("escalation-engine")
    except PackageNotFoundError:
        return "unknown"
