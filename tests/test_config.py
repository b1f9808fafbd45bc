"""One run configuration from the rules folder to the report: every command's --rules uses every file
of the folder, the report and run.json show what the run used, the CLI default and ESCALATION_RULES
agree, and the report does not depend on the scorer."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.config import RunConfig
from engine.paths import RULES_DIR
from tests.conftest import REPO

# the example was Taiwan, which the shipped dictionary now knows: an invented state instead
NEW_ACTOR = "  - {code: XFR, name: Freedonia, names: [Freedonia], demonyms: [Freedonian]}\n"
TEXT = "China fired missiles at Freedonia on Monday."


@pytest.fixture(scope="module")
def my_rules(tmp_path_factory):
    """A copy of the shipped rules whose actors.yaml knows one more state (the shipped one does not)."""
    folder = tmp_path_factory.mktemp("myrules") / "rules"
    shutil.copytree(REPO / "rules", folder)
    actors = (folder / "actors.yaml").read_text()
    assert "XFR" not in actors and "\nactors:\n" in actors
    (folder / "actors.yaml").write_text(actors.replace("\nactors:\n", "\nactors:\n" + NEW_ACTOR, 1))
    return folder


def _invoke(*args: str):
    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def test_score_with_rules_folder_uses_its_actors(my_rules, tmp_path):
    """Was: `score INPUT --rules MYRULES` took actors.yaml and signals.yaml from the shipped rules."""
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "t", "date": "2024-11-04", "text": TEXT}) + "\n")
    shipped = _invoke("score", src, "--out", tmp_path / "shipped")
    assert shipped.exit_code == 0, shipped.output
    assert "XFR" not in (tmp_path / "shipped" / "pair_scores.csv").read_text()

    result = _invoke("score", src, "--out", tmp_path / "mine", "--rules", my_rules)
    assert result.exit_code == 0, result.output
    assert "XFR" in (tmp_path / "mine" / "pair_scores.csv").read_text()
    run = json.loads((tmp_path / "mine" / "run.json").read_text())
    used = {entry["path"] for entry in run["config"]["files"]}
    assert str(my_rules / "actors.yaml") in used and str(my_rules / "signals.yaml") in used
    assert run["rules_sha256"] == RunConfig.build(my_rules).rules_sha256 != RunConfig.build().rules_sha256

    # extract and explain read the same folder's dictionaries
    assert _invoke("extract", src, "--out", tmp_path / "ex", "--rules", my_rules).exit_code == 0
    assert "XFR" in (tmp_path / "ex" / "signals.csv").read_text()
    explained = _invoke("explain", TEXT, "--rules", my_rules)
    assert explained.exit_code == 0 and "XFR" in explained.output


OTHER_BANDS = {"GUARDED: 20": "GUARDED: 11", "ELEVATED: 40": "ELEVATED: 22", "HIGH: 60": "HIGH: 33",
               "SEVERE: 80": "SEVERE: 44"}


def test_scorer_with_other_bands_reports_them(tmp_path):
    """Was: the report showed the shipped band edges and run.json the shipped rules' hash."""
    from engine.scoring import Scorer

    folder = tmp_path / "rules"  # scoring rules and bands of its own; the dictionaries are the shipped ones
    shutil.copytree(REPO / "rules" / "scoring", folder / "scoring")
    shutil.copy(REPO / "rules" / "bands.yaml", folder)
    bands = (folder / "bands.yaml").read_text()
    for old, new in OTHER_BANDS.items():
        assert old in bands
        bands = bands.replace(old, new)
    (folder / "bands.yaml").write_text(bands)

    result = Scorer(rules=folder).score(["Iran fired missiles at Israel."], date="2024-11-04")
    assert result.config.formula.bands["SEVERE"] == 44
    html = result.to_report(tmp_path / "out").read_text()
    assert "GUARDED ≥ 11, ELEVATED ≥ 22, HIGH ≥ 33, SEVERE ≥ 44" in html and "GUARDED ≥ 20" not in html
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["rules_sha256"] == RunConfig.build(folder).rules_sha256 != RunConfig.build().rules_sha256
    assert {"path": str(folder / "bands.yaml"), "sha256": result.config.hashes[str(folder / "bands.yaml")]} \
        in run["config"]["files"]


def test_parts_given_built_or_as_paths_and_defaults_only_where_absent(tmp_path):
    """Presidio style: a part given wins; a part not given comes from the folder, and only a file the
    folder lacks from the shipped rules (named in ``defaulted``)."""
    folder = tmp_path / "rules"
    (folder / "scoring").mkdir(parents=True)
    shutil.copy(REPO / "rules" / "scoring" / "base.yaml", folder / "scoring")
    shutil.copy(REPO / "rules" / "bands.yaml", folder)
    config = RunConfig.build(folder)
    assert config.defaulted == ("actors", "signals", "cameo_mapping")
    assert config.bands_path == folder / "bands.yaml" and config.actors_path == REPO / "rules" / "actors.yaml"
    shipped = RunConfig.build()
    again = RunConfig.build(folder, actors=shipped.actors, bands=shipped.formula, granularity="month")
    assert again.actors is shipped.actors and again.formula is shipped.formula and again.granularity == "month"
    assert [r.id for r in again.rules] == [r.id for r in config.rules]


def test_cli_default_rules_follow_escalation_rules(tmp_path):
    """One default: the CLI's --rules default is engine.paths.RULES_DIR, which ESCALATION_RULES sets."""
    folder = tmp_path / "rules"
    shutil.copytree(REPO / "rules", folder)
    (folder / "bands.yaml").write_text((folder / "bands.yaml").read_text().replace("rules_half:", "rules_halve:"))
    env = dict(os.environ, ESCALATION_RULES=str(folder))
    code = "from engine.cli import app; app(['rules', 'check'])"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"{folder / 'bands.yaml'}:9: bands: unknown field 'rules_halve' (did you mean 'rules_half'?)" in done.stdout


def test_report_does_not_load_the_scorer():
    code = "import sys, engine.report.builder; sys.exit('engine.scoring' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO).returncode == 0


def test_no_import_cycle_in_engine():
    """Every import between engine modules (module level or inside functions) forms no cycle."""
    import ast

    modules = {}
    for path in (REPO / "engine").rglob("*.py"):
        name = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        modules[name] = path
    graph = {}
    for name, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                targets |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
            elif isinstance(node, ast.Import):
                targets |= {a.name for a in node.names}
        graph[name] = (targets & set(modules)) - {name, "engine"}
    assert "engine.scoring" not in {t for name, ts in graph.items() if name.startswith("engine.report") for t in ts}

    def cycle_from(start, node, path):
        for nxt in graph[node]:
            if nxt == start:
                return [*path, nxt]
            if nxt not in path:
                found = cycle_from(start, nxt, [*path, nxt])
                if found:
                    return found
        return None

    cycles = [c for c in (cycle_from(m, m, [m]) for m in graph) if c]
    assert not cycles, cycles[0]


def test_rules_check_covers_every_file(tmp_path):
    folder = tmp_path / "rules"
    shutil.copytree(REPO / "rules", folder)
    ok = _invoke("rules", "check", folder)
    assert ok.exit_code == 0
    from engine.rules.models import load_rules

    every_file = len(list(folder.rglob("*.yaml")))  # scoring rules, dictionaries and what they include
    assert f"{every_file} files, {len(load_rules(folder))} rules, " in ok.output and ": OK" in ok.output
    assert "actors" in ok.output and "triggers" in ok.output
    mapping = (folder / "cameo_mapping.yaml").read_text()
    line = next(i for i, text in enumerate(mapping.splitlines(), 1) if '"13": THREATEN' in text)
    (folder / "cameo_mapping.yaml").write_text(mapping.replace('"13": THREATEN', '"13": THREATNE'))
    (folder / "bands.yaml").write_text((folder / "bands.yaml").read_text().replace("  HIGH: 60", "  HIHG: 60"))
    bad = _invoke("rules", "check", folder)
    assert bad.exit_code == 1
    assert f"{folder / 'cameo_mapping.yaml'}:{line}: 13: unknown signal type 'THREATNE' (did you mean 'THREATEN'?)" \
        in bad.output
    assert "bands.yaml:14: bands: unknown band 'HIHG' (did you mean 'HIGH'?)" in bad.output
    assert RULES_DIR.is_dir()
