"""engine/yamlio.py reads files with libyaml when it can: the same values and lines as PyYAML's
pure-Python loader, which still words and locates every problem."""

from __future__ import annotations

import pytest
import yaml

import engine.yamlio as yamlio
from engine.yamlio import DuplicateKeyError, LineDict, LineList, load_yaml
from tests.conftest import REPO


def _with_lines(value):
    """A loaded document with the line of every mapping, key and list item, to compare two loads."""
    if isinstance(value, LineDict):
        return ("map", value.line, dict(value.key_lines), {k: _with_lines(v) for k, v in value.items()})
    if isinstance(value, LineList):
        return ("list", value.line, list(value.item_lines), [_with_lines(v) for v in value])
    return value


def _pure_python(monkeypatch, path):
    with monkeypatch.context() as patch:
        patch.setattr(yamlio, "CParser", None)
        return load_yaml(path)


@pytest.mark.skipif(yamlio.CParser is None, reason="PyYAML without libyaml")
def test_libyaml_gives_the_values_and_lines_of_the_pure_python_loader(monkeypatch):
    files = sorted((REPO / "rules").rglob("*.yaml"))
    assert len(files) >= 8
    for path in files:
        loaded = load_yaml(path)
        assert isinstance(loaded, LineDict)
        assert _with_lines(loaded) == _with_lines(_pure_python(monkeypatch, path)), path


@pytest.mark.skipif(yamlio.CParser is None, reason="PyYAML without libyaml")
@pytest.mark.parametrize(("text", "error"), [
    ("a: 1\nb: [1, 2\n", yaml.YAMLError),  # refused by libyaml
    ("a: 1\nb: {x: 1}\nb: 2\n", DuplicateKeyError),  # refused while building
    ("a: !!python/object:os.system 1\n", yaml.YAMLError),
])
def test_problems_are_worded_by_the_pure_python_loader(tmp_path, monkeypatch, text, error):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(error) as libyaml_first:
        load_yaml(path)
    with pytest.raises(error) as pure:
        _pure_python(monkeypatch, path)
    assert str(libyaml_first.value) == str(pure.value)
    assert "^" in str(libyaml_first.value) or error is DuplicateKeyError  # PyYAML's snippet with a caret


def test_a_file_nested_deeper_than_the_limit_never_reaches_libyaml_composer(tmp_path, monkeypatch):
    """libyaml composes in C, where no recursion limit stops a file of a million '['."""
    calls = []
    original = yamlio._libyaml_loader
    monkeypatch.setattr(yamlio, "_libyaml_loader", lambda text, name: calls.append(1) or original(text, name))
    path = tmp_path / "deep.yaml"
    path.write_text("a: " + "[" * 60 + "]" * 60 + "\n")
    with pytest.raises(yaml.YAMLError, match="nested more than 50 levels deep"):
        load_yaml(path)
    assert calls  # it was asked, and declined: the pure-Python loader found the problem
    if yamlio.CParser is not None:
        assert original("a: " + "[" * 60 + "]" * 60 + "\n", str(path)) is None
