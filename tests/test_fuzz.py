"""Property-based tests of the parsers (hypothesis). Budget: every test has max_examples set, so that the whole
file runs in well under 30 s.

Ingest: for any bytes written as .jsonl / .csv / .txt (or gzipped), reading never raises, and accepted +
rejected records == the records in the file; rejected.jsonl can always be written and read back.
YAML: for any bytes, and for any mutation of a shipped rule or actor file, ``load_yaml`` either loads or raises
a YAML error that carries a line (or a duplicate-key error with its line), never anything else.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.ingest import read_inputs
from engine.yamlio import DuplicateKeyError, load_yaml
from tests.conftest import REPO

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Bytes that look like our inputs often enough to reach the deeper branches: JSON/CSV punctuation, quotes,
# line breaks, a BOM, invalid UTF-8, escapes of lone surrogates, digits and field names.
FRAGMENTS = [b"{", b"}", b"[", b"]", b'"', b",", b";", b"\t", b"\n", b"\r\n", b"\r", b":", b" ", b"\\", b"\xef\xbb\xbf",
             b"\xff", b"\xc3", b"\\ud800", b"0", b"9" * 30, b"false", b"null", b"id", b"text", b"date", b'"id"', b'"text"',
             b'"date"', b"2024-11-04", b"04/11/2024", b"0001-01-01", b"Iran warned Israel.", b"\x00", "é".encode()]
input_bytes = st.one_of(
    st.binary(max_size=400),
    st.lists(st.sampled_from(FRAGMENTS) | st.binary(max_size=4), max_size=60).map(b"".join),
)


def _read(name: str, data: bytes):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        result = read_inputs([path], max_chars=100)
        written = result.write_rejected(Path(tmp) / "out")
        rows = [json.loads(line) for line in written.read_text(encoding="utf-8").splitlines()]
        assert len(rows) == len(result.rejected)
        assert all(r["reason"] and r["location"] for r in rows)
        assert sum(result.files.values()) == len(result.documents) + len(result.rejected)
        return result


def _jsonl_records(data: bytes) -> int:
    data = data.removeprefix(b"\xef\xbb\xbf")
    return sum(1 for line in data.splitlines() if line.strip()) or 1  # an empty file is one rejected "record"


@FUZZ
@given(input_bytes)
def test_any_jsonl_bytes(data):
    result = _read("items.jsonl", data)
    assert len(result.documents) + len(result.rejected) == _jsonl_records(data)


@FEW
@given(input_bytes)
def test_any_gzipped_jsonl_bytes(data):
    result = _read("items.jsonl.gz", gzip.compress(data))
    assert len(result.documents) + len(result.rejected) == _jsonl_records(data)


@FUZZ
@given(input_bytes)
def test_any_csv_bytes(data):
    _read("items.csv", data)


@FUZZ
@given(input_bytes)
def test_any_txt_bytes(data):
    result = _read("doc.txt", data)
    assert len(result.documents) + len(result.rejected) == 1


cell = st.text(st.characters(blacklist_categories=["Cs"]) | st.sampled_from([",", ";", "\t", '"', "\n", "\r", " "]),
               max_size=30)


@FUZZ
@given(st.sampled_from([",", ";", "\t"]), st.lists(st.tuples(cell, cell, cell), max_size=12), st.booleans())
def test_any_csv_table_gives_one_outcome_per_row(delimiter, rows, bom):
    """A table written by Python's csv module (quotes, delimiters and line breaks inside fields, blank ids and
    texts) comes back with exactly one outcome per row, and each accepted row's text intact."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(["id", "text", "title"])
    writer.writerows(rows)
    data = (b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode()
    result = _read("table.csv", data)
    assert len(result.documents) + len(result.rejected) == len(rows)
    for doc in result.documents:
        assert doc.text in [r[1] for r in rows if r[0].strip() == doc.id]
    assert len({d.id for d in result.documents}) == len(result.documents)


# ---------------------------------------------------------------------------------------------------- YAML
def _load_outcome(data: bytes):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "file.yaml"
        path.write_bytes(data)
        try:
            load_yaml(path)
        except DuplicateKeyError as exc:
            assert exc.line >= 1
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            assert mark is not None and mark.line >= 0, f"{type(exc).__name__} without a line: {exc}"
            assert mark.name == str(path)


YAML_FRAGMENTS = [b"a: ", b"- ", b"&x ", b"*x ", b"[", b"]", b"{", b"}", b"\n", b"  ", b"? ", b": ", b"<<: ",
                  b"!!python/object ", b"!!binary ", b"'", b'"', b"#", b"---\n", b"...\n", b"\xff", b"\x07", b"9" * 40,
                  b"2024-13-45", b"~", b"|\n", b">\n", b"%YAML 1.1\n", b"\t"]


@FUZZ
@given(st.one_of(st.binary(max_size=300),
                 st.lists(st.sampled_from(YAML_FRAGMENTS) | st.binary(max_size=3), max_size=60).map(b"".join)))
def test_any_yaml_bytes_load_or_give_a_located_problem(data):
    _load_outcome(data)


SHIPPED = [REPO / "rules" / "scoring" / "base.yaml", REPO / "rules" / "actors.yaml"]


@st.composite
def mutated(draw):
    """A shipped file with a few random edits: cut, insert (YAML punctuation, aliases, junk), repeat a line."""
    text = draw(st.sampled_from(SHIPPED)).read_bytes()
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["cut", "insert", "repeat"]))
        if action == "cut":
            text = text[:i] + text[i + draw(st.integers(1, 200)):]
        elif action == "insert":
            text = text[:i] + draw(st.sampled_from(YAML_FRAGMENTS) | st.binary(max_size=3)) + text[i:]
        else:
            start = text.rfind(b"\n", 0, i) + 1
            end = text.find(b"\n", i)
            end = len(text) if end < 0 else end + 1
            text = text[:end] + text[start:end] + text[end:]
    return text


@FEW
@given(mutated())
def test_mutated_rule_and_actor_files_load_or_give_a_located_problem(data):
    _load_outcome(data)


@pytest.mark.parametrize(("text", "problem"), [
    ("a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{n}: &{n} [{', '.join([f'*{p}'] * 10)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)),
     "aliases"),
    ("a: &a [1, *a]\n", "refers to the node that contains it"),
    ("a: " + "[" * 100_000 + "]" * 100_000 + "\n", "nested more than"),
    ("a: 1\nb: " + "9" * 5_000 + "\n", "cannot read this value"),
    ("a: 1\nb: \x07\n", "not allowed in YAML"),
])
def test_yaml_limits_are_located(tmp_path, text, problem):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(yaml.YAMLError, match=re.escape(problem)) as exc:
        load_yaml(path)
    assert exc.value.problem_mark.name == str(path)


def test_yaml_alias_bomb_is_refused_quickly(tmp_path):
    """The 566-byte kind of file that took 53 s and 906 MB in `rules check`."""
    import time

    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{','.join([f'*{prev}'] * 9)}]")
    path = tmp_path / "actors.yaml"
    path.write_text("\n".join(lines) + "\n")
    start = time.perf_counter()
    with pytest.raises(yaml.YAMLError, match="aliases") as exc:
        load_yaml(path)
    assert time.perf_counter() - start < 2
    assert exc.value.problem_mark.line + 1 >= 2


def test_non_utf8_yaml_gives_its_line(tmp_path):
    path = tmp_path / "signals.yaml"
    path.write_bytes(b"a: 1\nb: caf\xe9\n")
    with pytest.raises(yaml.YAMLError, match="not valid UTF-8") as exc:
        load_yaml(path)
    assert exc.value.problem_mark.line + 1 == 2


def test_oversized_yaml_is_refused(tmp_path, monkeypatch):
    import engine.yamlio as yamlio

    monkeypatch.setattr(yamlio, "MAX_YAML_BYTES", 100)
    path = tmp_path / "big.yaml"
    path.write_text("a: " + "x" * 200 + "\n")
    with pytest.raises(yaml.YAMLError, match="larger than 100 bytes"):
        load_yaml(path)


def test_aliases_within_the_limit_and_merge_keys_still_load(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text("base: &b {x: 1}\nd:\n  <<: *b\n  y: 2\nlist: [*b, *b]\n")
    assert load_yaml(path) == {"base": {"x": 1}, "d": {"x": 1, "y": 2}, "list": [{"x": 1}, {"x": 1}]}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_files_give_file_line_problems_in_the_checkers(data):
    """`rules check` on a mutated rule or actor file lists FILE:LINE problems; it never raises."""
    from engine.nlp.lexicon import check_actor_file
    from engine.rules.models import check_rules

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "scoring").mkdir()
        (folder / "scoring" / "base.yaml").write_bytes(data)
        (folder / "actors.yaml").write_bytes(data)
        problems = check_rules(folder)[1] + check_actor_file(folder / "actors.yaml")[1]
    for problem in problems:
        assert re.match(rf"^{re.escape(tmp)}/[^:]+:\d+: ", problem), problem
