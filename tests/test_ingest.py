"""Every ingest failure is reported with file and line, written to rejected.jsonl, and the good
records around it still come through."""

from __future__ import annotations

import datetime as dt
import json

from engine.ingest import read_inputs


def _reasons(result):
    return [(r.location, r.reason) for r in result.rejected]


def test_jsonl_bad_records_are_kept_aside(tmp_path):
    path = tmp_path / "items.jsonl"
    lines = [
        json.dumps({"id": "a", "text": "Iran warned Israel.", "date": "2024-11-01"}),
        "{not json",
        json.dumps({"text": "No id here."}),
        json.dumps({"id": "a", "text": "Same id again."}),
        json.dumps({"id": "b", "text": "   "}),
        json.dumps({"id": "c", "text": "Bad date.", "date": "first of November"}),
        json.dumps(["a", "list"]),
        json.dumps({"id": "d", "text": "Israel struck Iran.", "date": "2024-10-26T03:00:00Z"}),
    ]
    path.write_bytes(("\n".join(lines) + "\n").encode() + b'{"id": "e", "text": "caf\xe9"}\n')
    result = read_inputs([path])
    assert [d.id for d in result.documents] == ["a", "d"]
    assert result.documents[1].date == dt.date(2024, 10, 26)
    reasons = _reasons(result)
    assert reasons[0][0] == "line 2" and reasons[0][1].startswith("bad JSON")
    assert reasons[1] == ("line 3", "missing id")
    assert reasons[2][0] == "line 4" and "duplicate id 'a'" in reasons[2][1] and "line 1" in reasons[2][1]
    assert reasons[3] == ("line 5", "empty text")
    assert reasons[4][0] == "line 6" and "unparseable date" in reasons[4][1]
    assert reasons[5][0] == "line 7" and "expected an object" in reasons[5][1]
    assert reasons[6][0] == "line 9" and "wrong encoding" in reasons[6][1]
    assert all(r.file == str(path) for r in result.rejected)


def test_rejected_records_are_written_out(tmp_path):
    path = tmp_path / "items.jsonl"
    path.write_text('{"id": "x", "text": ""}\n{"id": "y", "text": "Fine."}\n')
    result = read_inputs([path])
    out = result.write_rejected(tmp_path / "out")
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows == [{"file": str(path), "location": "line 1", "reason": "empty text", "raw": '{"id": "x", "text": ""}'}]


def test_oversized_document_rejected(tmp_path):
    path = tmp_path / "items.jsonl"
    path.write_text(json.dumps({"id": "big", "text": "word " * 100}) + "\n" + json.dumps({"id": "ok", "text": "Small."}))
    result = read_inputs([path], max_chars=50)
    assert [d.id for d in result.documents] == ["ok"]
    assert "too large" in result.rejected[0].reason and result.rejected[0].location == "line 1"


def test_csv_rows_with_problems(tmp_path):
    path = tmp_path / "items.csv"
    path.write_bytes(
        b"id,text,date,source\n"
        b"1,Egypt urged Israel to stop.,2024-11-02,wire\n"
        b"2,,2024-11-02,wire\n"
        b"3,Bad date here,2024-13-45,wire\n"
        b'4,"A quoted, multi\nline text",2024-11-03,wire\n'
        b"1,Duplicate id,2024-11-03,wire\n"
        b"5,Bad byte \xff here,2024-11-03,wire\n"
        b"6,Too,many,fields,here\n"
    )
    result = read_inputs([path])
    assert [d.id for d in result.documents] == ["1", "4"]
    assert result.documents[1].text == "A quoted, multi\nline text"
    reasons = _reasons(result)
    assert reasons[0] == ("line 3", "empty text")
    assert reasons[1][0] == "line 4" and "unparseable date" in reasons[1][1]
    assert reasons[2][0] == "line 7" and "duplicate id" in reasons[2][1]
    assert reasons[3][0] == "line 8" and "wrong encoding" in reasons[3][1]
    assert reasons[4][0] == "line 9" and "more fields" in reasons[4][1]


def test_csv_without_text_column(tmp_path):
    path = tmp_path / "items.csv"
    path.write_text("id,body\n1,hello\n")
    result = read_inputs([path])
    assert not result.documents
    assert "lacks column(s) text" in result.rejected[0].reason


def test_txt_files_and_folders(tmp_path):
    (tmp_path / "one.txt").write_text("Iran warned Israel.")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "two.txt").write_bytes(b"line one\nbad \xff byte")
    (tmp_path / "empty.txt").write_text("  \n")
    (tmp_path / "notes.md").write_text("ignored: not an input type inside folders")
    result = read_inputs([tmp_path], default_date=dt.date(2024, 11, 1))
    assert [(d.id, d.date) for d in result.documents] == [("one", dt.date(2024, 11, 1))]
    reasons = {r.file.split("/")[-1]: (r.location, r.reason) for r in result.rejected}
    assert reasons["two.txt"][0] == "line 2" and "wrong encoding" in reasons["two.txt"][1]
    assert reasons["empty.txt"] == ("whole file", "empty text")


def test_unknown_file_type_and_missing_file(tmp_path):
    bad = tmp_path / "data.xml"
    bad.write_text("<x/>")
    result = read_inputs([bad, tmp_path / "missing.jsonl"])
    assert [r.reason for r in result.rejected] == [
        "unsupported file type '.xml' (use .txt, .jsonl or .csv)", "file not found"]
