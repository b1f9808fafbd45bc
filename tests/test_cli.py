"""The command line as analysts use it: help and version, piped output, --debug.

The entry point runs in a real process where that is the point (help, version, what --help imports,
the width of piped output); the other commands run in this process through ``main`` (the same
function the ``escalation`` script calls), which skips starting Python and spaCy again."""

from __future__ import annotations

import subprocess
import sys

import pytest

from engine.cli import PIPED_WIDTH
from engine.errors import EngineError


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from engine.cli import main; main()", *args],
                          capture_output=True, text=True, check=False)


@pytest.fixture()
def escalation(monkeypatch, capsys):
    """``escalation ARGS`` in this process, through ``engine.cli.main``: (exit code, stdout, stderr)."""
    from engine.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["escalation", *args])
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_help_version_and_short_help():
    assert _run("--version").stdout.startswith("escalation-engine ")
    short, long = _run("-h"), _run("--help")
    assert short.returncode == long.returncode == 0 and short.stdout == long.stdout


def test_help_imports_neither_spacy_nor_sklearn():
    done = subprocess.run([sys.executable, "-X", "importtime", "-c",
                           "import sys; sys.argv = ['escalation', '--help']\n"
                           "from engine.cli import main\ntry:\n    main()\nexcept SystemExit:\n    pass"],
                          capture_output=True, text=True, check=False)
    imported = {line.split("|")[-1].strip().split(".")[0] for line in done.stderr.splitlines() if "|" in line}
    assert "spacy" not in imported and "sklearn" not in imported


def test_piped_rules_test_lines_are_whole():
    done = _run("rules", "test", "rules/")
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert done.returncode == 0 and lines
    # one example per line, never wrapped at 80 columns: each starts with its verdict
    assert all(line.startswith(("PASS", "FAIL")) or line[0] not in " │" for line in lines)
    assert any(len(line) > 80 for line in lines) and max(len(line) for line in lines) <= PIPED_WIDTH + 5


def test_debug_shows_the_traceback_of_a_user_error(tmp_path, escalation):
    args = ("extract", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "out"))
    # without --debug: one message on stderr and exit 1, no traceback
    code, _, err = escalation(*args)
    assert code == 1 and "missing.jsonl" in err and "Traceback" not in err
    # with --debug (anywhere on the line): the error is raised on, so Python prints its traceback
    with pytest.raises(EngineError, match="missing.jsonl"):
        escalation(args[0], "--debug", *args[1:])


def test_json_and_quiet_output(tmp_path, escalation):
    import json

    from tests.conftest import REPO

    code, out, _ = escalation("--json", "rules", "check", str(REPO / "rules"))
    data = json.loads(out)
    assert code == 0 and data["ok"] and data["checked"]["rules"] > 0 and data["problems"] == []
    code, out, _ = escalation("-q", "rules", "check", str(REPO / "rules"))
    assert code == 0 and out == ""
    src = tmp_path / "feed.jsonl"
    src.write_text('{"id": "a", "date": "2024-11-04", "text": "Iran fired missiles at Israel on Monday."}\n')
    code, out, _ = escalation("--json", "extract", str(src), "--out", str(tmp_path / "out"))
    summary = json.loads(out)  # the JSON document alone on stdout
    assert code == 0 and summary["documents"] == 1 and summary["by_type"].get("ATTACK") == 1
    # the options hold for one command line only: a plain run prints its tables again
    code, out, _ = escalation("rules", "check", str(REPO / "rules"))
    assert code == 0 and ": OK" in out
