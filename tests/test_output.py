"""Safe outputs: all or nothing, one run per folder, and a clear error for an --out that cannot work."""

from __future__ import annotations

import errno
import fcntl
import json
import os

import pandas as pd
import pytest
from typer.testing import CliRunner

import engine.output as output
from engine.cli import app
from engine.output import OutputError, check_out_dir, output_lock, write_run


def _run(out, run_id, rows=2, **extra):
    tables = {"signals": pd.DataFrame({"signal_id": [f"{run_id}-{i}" for i in range(rows)]}),
              "pair_scores": pd.DataFrame({"run_id": [run_id] * rows})}
    return write_run(out, run={"run_id": run_id}, tables=tables, html=f"<p>{run_id}</p>", **extra)


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_failed_write_leaves_the_previous_outputs_complete(tmp_path, monkeypatch):
    out = tmp_path / "out"
    _run(out, "first")
    (out / "screenshot.png").write_bytes(b"not ours")  # files the engine does not write are left alone
    before = _snapshot(out)

    def disk_full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", disk_full)
    with pytest.raises(OSError, match="No space left"):
        _run(out, "second")
    assert _snapshot(out) == before
    assert json.loads((out / "run.json").read_text())["run_id"] == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging folder or lock left behind
    (tmp_path / ".out.staging-1-abcdef").mkdir()  # what a killed (SIGKILL) run leaves
    monkeypatch.undo()
    _run(out, "third")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_failure_while_files_are_moved_leaves_no_completion_mark(tmp_path, monkeypatch):
    out = tmp_path / "out"
    _run(out, "first")
    real_replace, moved = os.replace, []

    def killed_after_two(src, dst):
        if len(moved) == 2:
            raise KeyboardInterrupt  # the run is stopped half-way through the moves
        moved.append(dst)
        real_replace(src, dst)

    monkeypatch.setattr(output.os, "replace", killed_after_two)
    with pytest.raises(KeyboardInterrupt):
        _run(out, "second")
    assert not (out / "run.json").exists()  # a folder without run.json is not a finished run


def test_files_of_an_earlier_different_run_are_removed(tmp_path):
    out = tmp_path / "out"
    _run(out, "report")
    write_run(out, run={"run_id": "extract"}, tables={"signals": pd.DataFrame({"signal_id": ["x"]})})
    assert sorted(p.name for p in out.iterdir()) == ["run.json", "signals.csv", "signals.parquet"]


def test_two_runs_into_one_folder_do_not_interleave(tmp_path):
    out = tmp_path / "out"
    lock = tmp_path / ".out.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)  # another run holds the folder's lock
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, b"4242\n")
    try:
        with pytest.raises(OutputError, match=r"another run \(pid 4242\) is writing to this folder"):
            _run(out, "second")
        assert not out.exists()
    finally:
        os.close(fd)
    _run(out, "third")  # the lock is free again
    with output_lock(out), output_lock(out):  # re-entrant within one run
        _run(out, "fourth")
    assert not lock.exists()


def test_bad_out_folders_are_refused(tmp_path, monkeypatch):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(OutputError, match="is a file"):
        check_out_dir(tmp_path / "afile")
    with pytest.raises(OutputError, match="is a file"):
        check_out_dir(tmp_path / "afile" / "below")
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    with pytest.raises(OutputError, match="inside the input folder"):
        check_out_dir(inputs / "out", [inputs])
    with pytest.raises(OutputError, match="inside the input folder"):
        check_out_dir(inputs, [inputs])
    check_out_dir(tmp_path / "out", [inputs])
    # read-only (the tests may run as root, for whom every folder is writable: ask os.access)
    monkeypatch.setattr(output.os, "access", lambda path, mode: False)
    with pytest.raises(OutputError, match="is not writable"):
        check_out_dir(tmp_path / "out")


@pytest.mark.parametrize("command", ["extract", "score", "report"])
def test_cli_refuses_a_bad_out_before_work_starts(tmp_path, command, monkeypatch):
    import engine.scoring

    def no_work(*args, **kwargs):
        raise AssertionError("work started")

    monkeypatch.setattr(engine.scoring.Scorer, "__init__", no_work)
    monkeypatch.setattr("engine.nlp.extract.get_extractor", no_work)
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "a.txt").write_text("Iran warned Israel.")
    (tmp_path / "afile").write_text("x")
    for out, message in ((tmp_path / "afile", "is a file"), (inputs / "out", "inside the input folder")):
        result = CliRunner().invoke(app, [command, str(inputs), "--out", str(out)])
        assert isinstance(result.exception, OutputError) and message in str(result.exception)


def test_a_killed_run_leaves_the_previous_outputs_and_no_lock(tmp_path):
    """A real SIGKILL half-way through writing: the previous run stays complete, and the next run
    is not blocked (the lock dies with its process) and clears the dead run's staging folder."""
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "out"
    _run(out, "first")
    before = _snapshot(out)
    child = subprocess.Popen([sys.executable, "-c", f"""
import time, pandas as pd, engine.output as o
pd.DataFrame.to_parquet = lambda *a, **k: time.sleep(60)
o.write_run({str(out)!r}, run={{"run_id": "killed"}}, tables={{"signals": pd.DataFrame({{"a": [1]}})}})
"""])
    try:
        deadline = time.time() + 60
        while not list(tmp_path.glob(".out.staging-*/signals.csv")):
            assert child.poll() is None and time.time() < deadline
            time.sleep(0.05)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert _snapshot(out) == before
    _run(out, "next")
    assert json.loads((out / "run.json").read_text())["run_id"] == "next"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
