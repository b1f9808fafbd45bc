"""Analyst files that could hang or mislead the engine are refused with FILE:LINE (issue 11)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.nlp.lexicon import check_actor_file, check_signal_file

RULES = Path(__file__).resolve().parent.parent / "rules"


@pytest.fixture()
def rules_copy(tmp_path):
    target = tmp_path / "rules"
    shutil.copytree(RULES, target)
    return target


def test_regex_trigger_is_refused_before_it_can_hang_extraction(rules_copy):
    path = rules_copy / "signals.yaml"
    text = path.read_text()
    path.write_text(text.replace("triggers:\n", "triggers:\n  - id: evil\n    signal: ATTACK\n"
                                 "    pattern: [{TEXT: {REGEX: \"^(a+)+$\"}}]\n", 1))
    lexicon, problems = check_signal_file(path)
    assert lexicon is None
    assert any(p.startswith(f"{path}:") and "evil: REGEX is not allowed" in p for p in problems)


def test_names_given_as_a_string_are_reported_not_split_into_letters(rules_copy):
    path = rules_copy / "actors.yaml"
    text = path.read_text()
    path.write_text(text.replace("{code: BHR, name: Bahrain, names: [Bahrain, Manama]",
                                 "{code: BHR, name: Bahrain, names: Bahrain", 1))
    dictionary, problems = check_actor_file(path)
    assert dictionary is None
    assert any("BHR: names must be a list" in p for p in problems)


def test_rule_examples_are_bounded(rules_copy):
    from engine.config import check_folder

    path = rules_copy / "scoring" / "base.yaml"
    text = path.read_text()
    path.write_text(text.replace("fires: [{signals: [{source: IRN, target: ISR, type: ATTACK}]}]",
                                 "fires: [{signals: [{source: IRN, target: ISR, type: ATTACK, day: 999999999, "
                                 "count: 50000000}]}]", 1))
    problems = [str(p) for p in check_folder(rules_copy)[0]]
    assert any("day: Input should be less than or equal to 36500" in p for p in problems)
    assert any("count: Input should be less than or equal to 10000" in p for p in problems)


@pytest.mark.parametrize(("name", "old", "new", "message"), [
    ("signals.yaml", "\ncontext:", "\ncontxt:", "contxt: unknown top-level key (did you mean 'context'?)"),
    ("actors.yaml", "\nignore:", "\nignores:", "ignores: unknown top-level key (did you mean 'ignore'?)"),
])
def test_misspelt_top_level_key_is_reported(rules_copy, name, old, new, message):
    path = rules_copy / name
    path.write_text(path.read_text().replace(old, new, 1))
    check = check_signal_file if name == "signals.yaml" else check_actor_file
    _, problems = check(path)
    assert any(p.startswith(f"{path}:") and message in p for p in problems), problems
