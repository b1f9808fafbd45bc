"""The command line as analysts use it: help and version, piped output, --debug."""

from __future__ import annotations

import subprocess
import sys

import pytest

from engine.cli import PIPED_WIDTH


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from engine.cli import main; main()", *args],
                          capture_output=True, text=True, check=False)


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


@pytest.mark.parametrize(("flag", "traceback"), [((), False), (("--debug",), True)])
def test_debug_shows_the_traceback_of_a_user_error(tmp_path, flag, traceback):
    done = _run("extract", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "out"), *flag)
    assert done.returncode == 1
    assert ("Traceback" in done.stderr) is traceback
    assert "missing.jsonl" in done.stderr


def test_json_and_quiet_output(tmp_path):
    import json

    checked = _run("--json", "rules", "check", "rules/")
    data = json.loads(checked.stdout)
    assert checked.returncode == 0 and data["ok"] and data["checked"]["rules"] > 0 and data["problems"] == []
    quiet = _run("-q", "rules", "check", "rules/")
    assert quiet.returncode == 0 and quiet.stdout == ""
    src = tmp_path / "feed.jsonl"
    src.write_text('{"id": "a", "date": "2024-11-04", "text": "Iran fired missiles at Israel on Monday."}\n')
    extracted = _run("--json", "extract", str(src), "--out", str(tmp_path / "out"))
    summary = json.loads(extracted.stdout)
    assert extracted.returncode == 0 and summary["documents"] == 1 and summary["by_type"].get("ATTACK") == 1
