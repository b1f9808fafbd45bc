"""The pydantic models of rules/actors.yaml and rules/signals.yaml (engine/dictionary_files.py): a
misspelt key anywhere in them, or in the generated files they include, is a FILE:LINE problem of
`escalation rules check` with the closest allowed key; the shipped files validate."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.dictionary_files import (
    ActorsFile,
    ContextWords,
    IncludedActors,
    IncludedTriggers,
    SignalsFile,
    fields_at,
)
from engine.nlp.lexicon import check_actor_file, check_signal_file
from engine.problems import Problem
from engine.yamlio import load_yaml
from tests.conftest import REPO


@pytest.fixture()
def rules_copy(tmp_path):
    target = tmp_path / "rules"
    shutil.copytree(REPO / "rules", target)
    return target


def _edit(path: Path, old: str, new: str) -> int:
    """Replace the first ``old`` in the file by ``new`` (``old`` may start with line breaks; ``new``
    then starts with the same); return the line of the first character after those line breaks."""
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return text[: text.index(old)].count("\n") + 1 + (len(old) - len(old.lstrip("\n")))


def _insert(path: Path, after: str, lines: str) -> int:
    """Insert ``lines`` right after the first ``after`` (which ends a line); return the first one's line."""
    text = path.read_text(encoding="utf-8")
    assert after in text and after.endswith("\n"), after
    at = text.index(after) + len(after)
    path.write_text(text[:at] + lines + text[at:], encoding="utf-8")
    return text[:at].count("\n") + 1


def _problems(folder: Path, *names: str) -> list[Problem]:
    """The problems of the named dictionaries of ``folder`` (with the files they include)."""
    problems = []
    for name in names:
        check = check_signal_file if name == "signals.yaml" else check_actor_file
        problems += check(folder / name)[1]
    assert all(isinstance(p, Problem) for p in problems)
    return problems


# (file, a line that starts a section, misspelt text to put after it, id, message): one misspelt key
# at each level of the two files, written into the shipped files (a renamed section, or an entry added)
MISSPELT = [
    ("signals.yaml", "\nconfidence:\n", "\nconfidense:\n", "confidense",
     "unknown top-level key (did you mean 'confidence'?)"),
    ("signals.yaml", "\ncontext:\n", "  negation: [not]\n", "negation",
     "unknown context key (did you mean 'negations'?)"),
    ("signals.yaml", "\nconfidence:\n", "  no_sorce: 0.6\n", "no_sorce",
     "unknown confidence factor (did you mean 'no_source'?)"),
    ("signals.yaml", "\ntriggers:\n", "  - {id: glower-verb, signal: THREATEN, confidense: 0.7, pattern: [{LEMMA: glower}]}\n",
     "glower-verb", "unknown field 'confidense' (did you mean 'confidence'?)"),
    ("signals.yaml", "\n  THREATEN:\n", "    intensty: 0.6\n", "THREATEN",
     "unknown field 'intensty' (did you mean 'intensity'?)"),
    ("signals.yaml", "\n  THREATEN:\n", "\n  THREATNE:\n", "THREATNE",
     "unknown signal type (did you mean 'THREATEN'?)"),
    ("actors.yaml", "\nroles:\n", "\nrole:\n", "role", "unknown top-level key (did you mean 'roles'?)"),
    ("actors.yaml", "\nactors:\n", "  - {code: XFR, name: Freedonia, names: [Freedonia], demonym: [Freedonian]}\n",
     "XFR", "unknown field 'demonym' (did you mean 'demonyms'?)"),
    ("actors.yaml", "\nactors:\n", "  - {code: XFR, nme: Freedonia, names: [Freedonia]}\n", "XFR",
     "unknown field 'nme' (did you mean 'name'?)"),
]


@pytest.mark.parametrize(("name", "where", "text", "ident", "message"), MISSPELT,
                         ids=[f"{m[0]}:{m[3]}:{m[4].split()[2]}" for m in MISSPELT])
def test_a_misspelt_key_is_reported_at_its_line_with_the_closest_key(rules_copy, name, where, text, ident, message):
    path = rules_copy / name
    line = _edit(path, where, text) if text.startswith("\n") else _insert(path, where, text)
    problems = [(p.file, p.line, p.id, p.message) for p in _problems(rules_copy, name)]
    assert problems[0] == (str(path), line, ident, message), problems
    # nothing else, but for the triggers of a signal type that is no longer defined
    assert all(p[3] == "unknown signal type 'THREATEN'" for p in problems[1:]), problems


def test_rules_check_prints_file_line_with_did_you_mean_and_exits_1(rules_copy):
    path = rules_copy / "signals.yaml"
    line = _edit(path, "\nconfidence:\n", "\nconfidense:\n")
    actors = rules_copy / "actors.yaml"
    actor_line = _insert(actors, "\nactors:\n", "  - {code: XFR, name: Freedonia, demonym: [Freedonian]}\n")
    result = CliRunner().invoke(app, ["rules", "check", str(rules_copy)])
    assert result.exit_code == 1
    assert f"{path}:{line}: confidense: unknown top-level key (did you mean 'confidence'?)" in result.output
    assert f"{actors}:{actor_line}: XFR: unknown field 'demonym' (did you mean 'demonyms'?)" in result.output


def test_a_misspelt_key_in_a_generated_file_is_reported_in_that_file(rules_copy):
    actors = rules_copy / "generated" / "phoenix_actors.yaml"
    line = _insert(actors, "\nactors:\n", "  - {code: XFR, name: Freedonia, nams: [Freedonia]}\n")
    triggers = rules_copy / "generated" / "cameo_triggers.yaml"
    trigger_line = _insert(triggers, "\ntriggers:\n", "  - {id: cameo-130-glower, signal: THREATEN, cameo: '130', "
                                                   "confidance: 0.7, pattern: [{LEMMA: glower}]}\n")
    found = {(p.file, p.line, p.message) for p in _problems(rules_copy, "actors.yaml", "signals.yaml")}
    assert (str(actors), line, "unknown field 'nams' (did you mean 'names'?)") in found, found
    assert (str(triggers), trigger_line, "unknown field 'confidance' (did you mean 'confidence'?)") in found, found


def test_wrong_values_are_located_too(rules_copy):
    path = rules_copy / "signals.yaml"
    words = _edit(path, "\n  hypothetical_modals: [", "\n  hypothetical_modals: [yes, ")  # YAML reads yes as True
    factor = _insert(path, "\nconfidence:\n", "  nearest_actor: 1.8\n")
    problems = {(p.line, p.id, p.message) for p in _problems(rules_copy, "signals.yaml")}
    assert (words, "hypothetical_modals", "True is not a word; quote it (YAML reads on/off/yes/no as booleans)") \
        in problems
    assert (factor, "nearest_actor", "Input should be less than or equal to 1") in problems


def test_the_shipped_files_and_their_generated_files_validate():
    rules = REPO / "rules"
    for model, path in ((ActorsFile, rules / "actors.yaml"), (SignalsFile, rules / "signals.yaml"),
                        (IncludedActors, rules / "generated" / "phoenix_actors.yaml"),
                        (IncludedTriggers, rules / "generated" / "cameo_triggers.yaml")):
        model.model_validate(load_yaml(path))


def test_every_context_list_of_the_shipped_lexicon_is_a_field_of_one_model():
    from engine.nlp.lexicon import CONTEXT_KEYS

    context = load_yaml(REPO / "rules" / "signals.yaml")["context"]
    assert set(context) <= set(ContextWords.model_fields) == set(CONTEXT_KEYS)
    assert fields_at(SignalsFile, ("context", "negation")) == list(ContextWords.model_fields)
