"""Every ingest failure is reported with file and line, written to rejected.jsonl, and the good
records around it still come through."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import io
import json
import os
from pathlib import Path

import pytest

from engine.errors import InputError
from engine.ingest import MAX_CHARS_LIMIT, parse_column_map, parse_date, read_inputs


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
    (tmp_path / "notes.md").write_text("not an input type: listed as skipped, not read")
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x01")
    result = read_inputs([tmp_path], default_date=dt.date(2024, 11, 1))
    assert [(d.id, d.date) for d in result.documents] == [("one", dt.date(2024, 11, 1))]
    reasons = {r.file.split("/")[-1]: (r.location, r.reason) for r in result.rejected}
    assert reasons["two.txt"][0] == "line 2" and "wrong encoding" in reasons["two.txt"][1]
    assert reasons["empty.txt"] == ("whole file", "empty text")
    assert result.skipped == [str(tmp_path / "notes.md")]


def test_folder_ids_keep_the_relative_path(tmp_path):
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "news.txt").write_text(f"Story from {sub}.")
    (tmp_path / "a" / "deeper").mkdir()
    (tmp_path / "a" / "deeper" / "news.TXT").write_text("Third story.")
    result = read_inputs([tmp_path])
    assert sorted(d.id for d in result.documents) == ["a/deeper/news", "a/news", "b/news"]
    assert not result.rejected
    # a .txt named directly keeps its bare name
    assert [d.id for d in read_inputs([tmp_path / "a" / "news.txt"]).documents] == ["news"]


# ------------------------------------------------------------------------------------------- input errors
@pytest.mark.parametrize("name", ["notes.md", "data.json", "paper.pdf", "data.xml", "README"])
def test_unknown_file_kind_named_directly_is_an_input_error(tmp_path, name):
    (tmp_path / name).write_text("x")
    with pytest.raises(InputError, match="unsupported file type"):
        read_inputs([tmp_path / name])


def test_missing_input_is_an_input_error_before_any_reading(tmp_path):
    good = tmp_path / "good.jsonl"
    good.write_text('{"id": "a", "text": "fine"}\n')
    with pytest.raises(InputError, match="missing.jsonl: no such file or folder"):
        read_inputs([good, tmp_path / "missing.jsonl"])
    (tmp_path / "dangling.txt").symlink_to(tmp_path / "nowhere.txt")
    with pytest.raises(InputError, match="broken symbolic link"):
        read_inputs([tmp_path])


def test_unreadable_file_is_an_input_error(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    locked = tmp_path / "sub" / "locked.txt"
    locked.write_text("secret")
    real = Path.open

    def open_(self, *args, **kwargs):  # chmod 000 does not stop root, so the refusal is simulated
        if self.name == "locked.txt":
            raise PermissionError(13, "Permission denied")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", open_)
    with pytest.raises(InputError, match=r"locked.txt: cannot be read \(Permission denied\)"):
        read_inputs([tmp_path])


def test_fifo_is_an_input_error_and_never_opened(tmp_path):
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)  # opening it would block forever: no writer
    with pytest.raises(InputError, match="FIFO"):
        read_inputs([fifo])
    with pytest.raises(InputError, match="FIFO"):
        read_inputs([tmp_path])


def test_folder_loop_is_an_input_error(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "news.txt").write_text("A story.")
    (tmp_path / "a" / "back").symlink_to(tmp_path)
    with pytest.raises(InputError, match="folder loop"):
        read_inputs([tmp_path])


def test_symlinked_folder_without_a_loop_is_followed(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "news.txt").write_text("A story.")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "link").symlink_to(tmp_path / "real")
    assert [d.id for d in read_inputs([tmp_path / "in"]).documents] == ["link/news"]


@pytest.mark.parametrize("value", [0, MAX_CHARS_LIMIT + 1, 6_000_000, True, "100"])
def test_max_chars_outside_what_spacy_accepts_is_an_input_error(tmp_path, value):
    with pytest.raises(InputError, match="max_chars"):
        read_inputs([], max_chars=value)


def test_max_chars_limit_is_below_spacy_max_length():
    from spacy.lang.en import English

    assert MAX_CHARS_LIMIT <= English().max_length


# -------------------------------------------------------------------------------------------------- CSV
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_with_bom_and_any_common_delimiter(tmp_path, delimiter):
    rows = [["id", "text", "date"], ["1", "Iran warned Israel, again.", "04/11/2024"], ["2", "Calm day.", ""]]
    body = "\r\n".join(delimiter.join(f'"{v}"' if delimiter in v or "," in v else v for v in r) for r in rows)
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf" + body.encode() + b"\r\n")
    result = read_inputs([path])
    assert not result.rejected
    assert [(d.id, d.text, d.date) for d in result.documents] == [
        ("1", "Iran warned Israel, again.", dt.date(2024, 11, 4)), ("2", "Calm day.", None)]


def test_csv_line_numbers_after_blank_lines_and_multiline_fields(tmp_path):
    path = tmp_path / "items.csv"
    path.write_bytes(
        b"id,text\n"            # 1
        b"\n"                   # 2
        b'a,"two\nlines"\n'      # 3-4
        b"\n\n"                 # 5-6
        b"b,\n"                 # 7: empty text
        b'c,"three\r\nline\r\nfield"\n'  # 8-10
        b"d,too,many\n"         # 11
    )
    result = read_inputs([path])
    assert [(d.id, d.origin.rsplit(":", 1)[1].strip()) for d in result.documents] == [("a", "line 3"), ("c", "line 8")]
    assert _reasons(result) == [("line 7", "empty text"),
                                ("line 11", "CSV row has more fields than the header (3, expected 2)")]


def test_csv_field_longer_than_pythons_csv_limit(tmp_path):
    path = tmp_path / "long.csv"
    long_text = "word " * 30_000  # 150,000 characters: over csv's default 131,072, under --max-chars
    path.write_text(f"id,text\nlong,{long_text}\nnext,Short.\nhuge,{'x' * 300_000}\n")
    result = read_inputs([path], check_language=False)  # "word word ..." is no English sentence
    assert [(d.id, len(d.text)) for d in result.documents] == [("long", 150_000), ("next", 6)]
    assert result.rejected[0].location == "line 4" and "too large" in result.rejected[0].reason
    assert len(result.rejected[0].raw) > 300_000  # kept whole


def test_csv_invalid_utf8_together_with_another_problem(tmp_path):
    path = tmp_path / "items.csv"
    bad = b"2,Bad \xff byte,2024-11-02,extra\n"
    path.write_bytes(b"id,text,date\n1,Fine.,2024-11-01\n" + bad + b"3,\xfe\n")
    result = read_inputs([path])
    assert [d.id for d in result.documents] == ["1"]
    assert _reasons(result) == [("line 3", "CSV row has more fields than the header (4, expected 3)"),
                                ("line 4", "CSV row has fewer fields than the header (2, expected 3)")]
    rows = [json.loads(line) for line in result.write_rejected(tmp_path / "out").read_text().splitlines()]
    assert base64.b64decode(rows[0]["raw_base64"]) == bad
    assert rows[0]["raw"] == bad.decode("utf-8", "replace")


def test_column_map_for_csv_and_jsonl(tmp_path):
    csv_path = tmp_path / "export.csv"
    csv_path.write_text("article_id,published,headline,body\n7,Nov 4 2024,Warning,Iran warned Israel.\n")
    jsonl_path = tmp_path / "export.jsonl"
    jsonl_path.write_text(json.dumps({"article_id": 8, "body": "Israel struck Iran.", "published": "4 November 2024"}))
    mapping = parse_column_map("id=article_id, text=body,date=published,title=headline")
    assert mapping == {"id": "article_id", "text": "body", "date": "published", "title": "headline"}
    result = read_inputs([csv_path, jsonl_path], column_map=mapping)
    assert not result.rejected
    assert [(d.id, d.text, d.date, d.title) for d in result.documents] == [
        ("7", "Iran warned Israel.", dt.date(2024, 11, 4), "Warning"),
        ("8", "Israel struck Iran.", dt.date(2024, 11, 4), "")]
    # without the map the header problem says how to fix it
    rejected = read_inputs([csv_path]).rejected
    assert "lacks column(s) id, text" in rejected[0].reason and "--map" in rejected[0].reason


@pytest.mark.parametrize("spec", ["id", "id=", "=body", "txt=body", "id=a,text=a"])
def test_bad_column_map_is_an_input_error(spec):
    with pytest.raises(InputError):
        parse_column_map(spec)


# ------------------------------------------------------------------------------------- gzip and stdin
def test_gzipped_jsonl_and_csv(tmp_path):
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(b'{"id": "j", "text": "From JSONL."}\n'))
    (tmp_path / "b.csv.gz").write_bytes(gzip.compress(b"id;text\nk;From CSV.\n"))
    (tmp_path / "c.txt.gz").write_bytes(gzip.compress(b"From text."))
    (tmp_path / "d.jsonl.gz").write_bytes(b"not gzip at all")
    result = read_inputs([tmp_path])
    assert sorted((d.id, d.text) for d in result.documents) == [
        ("c", "From text."), ("j", "From JSONL."), ("k", "From CSV.")]
    assert [(r.file.rsplit("/", 1)[1], r.location) for r in result.rejected] == [("d.jsonl.gz", "whole file")]
    assert "gzip" in result.rejected[0].reason


def test_gzip_bomb_is_refused(tmp_path, monkeypatch):
    import engine.ingest as ingest

    monkeypatch.setattr(ingest, "MAX_GUNZIPPED_BYTES", 1000)
    (tmp_path / "bomb.jsonl.gz").write_bytes(gzip.compress(b"\n" * 10_000))
    result = read_inputs([tmp_path / "bomb.jsonl.gz"])
    assert not result.documents and "once uncompressed: refused" in result.rejected[0].reason


@pytest.mark.parametrize(("data", "ids"), [
    (b'{"id": "s1", "text": "Iran warned Israel."}\n{"id": "s2", "text": "More."}\n', ["s1", "s2"]),
    (b"\xef\xbb\xbfid\ttext\nx\tFrom a CSV on stdin.\n", ["x"]),
    (b"Just an article pasted in.\n", ["stdin"]),
])
def test_stdin(data, ids):
    result = read_inputs(["-"], stdin=io.BytesIO(data))
    assert [d.id for d in result.documents] == ids and not result.rejected
    assert result.documents[0].origin.startswith("<stdin>:")


# ------------------------------------------------------------------------------------------------ dates
@pytest.mark.parametrize(("text", "expected"), [
    ("2024-11-04", dt.date(2024, 11, 4)),
    ("2024-11-04T10:00:00Z", dt.date(2024, 11, 4)),
    ("2024-11-04 10:00:00+02:00", dt.date(2024, 11, 4)),
    ("4 November 2024", dt.date(2024, 11, 4)),
    ("4th November 2024", dt.date(2024, 11, 4)),
    ("Monday, 4 November 2024", dt.date(2024, 11, 4)),
    ("4 Nov 2024", dt.date(2024, 11, 4)),
    ("Nov 4, 2024", dt.date(2024, 11, 4)),
    ("Nov. 4, 2024", dt.date(2024, 11, 4)),
    ("November 4, 2024 10:30", dt.date(2024, 11, 4)),
    ("Sept 9, 2024", dt.date(2024, 9, 9)),
    ("Mon, 04 Nov 2024 10:00:00 GMT", dt.date(2024, 11, 4)),
    ("2024/11/04", dt.date(2024, 11, 4)),
    ("04/11/2024", dt.date(2024, 11, 4)),
    ("04.11.2024", dt.date(2024, 11, 4)),
    ("4-11-2024", dt.date(2024, 11, 4)),
])
def test_common_date_formats(text, expected):
    assert parse_date(text) == expected


def test_numeric_dates_are_day_first_unless_switched():
    assert parse_date("04/11/2024") == dt.date(2024, 11, 4)
    assert parse_date("04/11/2024", dayfirst=False) == dt.date(2024, 4, 11)
    assert parse_date("11/25/2024", dayfirst=False) == dt.date(2024, 11, 25)
    with pytest.raises(ValueError, match="--month-first"):
        parse_date("11/25/2024")  # never silently re-read month first


@pytest.mark.parametrize("text", ["first of November", "2024-13-45", "yesterday", "5", "x" * 500])
def test_unreadable_dates(text):
    with pytest.raises(ValueError, match="unparseable date"):
        parse_date(text)


def test_dates_outside_the_supported_range_are_rejected_at_ingest(tmp_path):
    path = tmp_path / "items.jsonl"
    dates = ["0001-01-01", "1677-09-21", "1899-12-31", "1900-01-01", "2100-12-31", "2101-01-01", "2300-01-01",
             "9999-12-31"]
    path.write_text("".join(json.dumps({"id": str(i), "text": "Text.", "date": d}) + "\n" for i, d in enumerate(dates)))
    result = read_inputs([path])
    assert [d.id for d in result.documents] == ["3", "4"]
    assert [r.location for r in result.rejected] == ["line 1", "line 2", "line 3", "line 6", "line 7", "line 8"]
    assert all("outside the supported range 1900-01-01..2100-12-31" in r.reason for r in result.rejected)


# ------------------------------------------------------------------------- records that once ended the run
def test_records_that_used_to_end_the_run_are_rejects(tmp_path):
    path = tmp_path / "items.jsonl"
    lines = [
        b"[" * 100_000 + b"]" * 100_000,                                   # 1: nested 100,000 deep
        b'{"id": ' + b"9" * 5_000 + b', "text": "Huge integer id."}',       # 2: accepted, id kept exact
        b'{"id": "s", "text": "lone \\ud800 surrogate"}',                 # 3
        b'{"id": "\\udc00x", "text": "Surrogate in the id."}',            # 4
        b'{"id": 0, "text": "Zero is an id."}',                             # 5
        b'{"id": false, "text": "So is false."}',                           # 6
        b'{"id": "n", "text": 42}',                                         # 7
        b'{"id": "m", "text": ["a", "list"]}',                              # 8
        b'{"id": "k"}',                                                     # 9
        b'{"id": {"nested": 1}, "text": "Object id."}',                     # 10
        b'{"id": "t", "text": "Bad \xff byte and", "date": "first"}',       # 11
        b'{"id": "big", "text": "' + b"y" * 5_000 + b'"}',                  # 12: too large, raw kept whole
        b'{"id": "d", "text": "Fine.", "date": ' + b"{" * 50_000 + b"}",    # 13: deep and broken
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    result = read_inputs([path], max_chars=1_000)
    assert [d.id for d in result.documents] == ["9" * 5_000, "0", "false"]
    reasons = dict(_reasons(result))
    assert reasons["line 1"] == "bad JSON: nested too deeply"
    assert "lone surrogate" in reasons["line 3"] and "text" in reasons["line 3"]
    assert "lone surrogate" in reasons["line 4"] and reasons["line 4"].startswith("id")
    assert reasons["line 7"] == "text is not a string (got number)"
    assert reasons["line 8"] == "text is not a string (got array)"
    assert reasons["line 9"] == "missing text"
    assert reasons["line 10"] == "id is not a string or a number (got object)"
    assert "wrong encoding" in reasons["line 11"]
    assert "too large" in reasons["line 12"]
    assert reasons["line 13"].startswith("bad JSON")
    assert result.files == {str(path): len(lines)}
    written = [json.loads(x) for x in result.write_rejected(tmp_path / "out").read_text().splitlines()]
    by_line = {w["location"]: w for w in written}
    assert by_line["line 12"]["raw"].encode() == lines[11]  # not cut at 2,000 characters
    assert base64.b64decode(by_line["line 11"]["raw_base64"]) == lines[10]
    assert by_line["line 1"]["raw"].encode() == lines[0]


# -------------------------------------------------------------------------------------------------- CLI
def _main(monkeypatch, capsys, *args):
    from engine import cli

    monkeypatch.setattr("sys.argv", ["escalation", *map(str, args)])
    with pytest.raises(SystemExit) as exc:
        cli.main()
    return exc.value.code, capsys.readouterr()


@pytest.mark.parametrize(("name", "reason"), [("missing.jsonl", "no such file or folder"),
                                             ("notes [draft].md", "unsupported file type '.md'")])
def test_cli_input_error_exits_1_with_a_message(tmp_path, monkeypatch, capsys, name, reason):
    path = tmp_path / name
    if name.endswith(".md"):
        path.write_text("# notes")
    code, captured = _main(monkeypatch, capsys, "extract", path, "--out", tmp_path / "out")
    message = captured.err.replace("\n", "")  # rich may wrap long lines
    assert code == 1 and message.startswith(f"error: {path}: {reason}")  # square brackets shown, not markup
    assert "Traceback" not in captured.err


def test_cli_bad_map_exits_1(tmp_path, monkeypatch, capsys):
    src = tmp_path / "in.csv"
    src.write_text("article_id,body\n1,Iran warned Israel.\n")
    code, captured = _main(monkeypatch, capsys, "extract", src, "--map", "ids=article_id", "--out", tmp_path / "o")
    assert code == 1 and "unknown field 'ids'" in captured.err and "did you mean 'id'" in captured.err


def test_cli_map_and_month_first(tmp_path):
    from typer.testing import CliRunner

    from engine.cli import app

    src = tmp_path / "export.csv"
    src.write_text("article_id;published;body\n7;11/04/2024;Iran warned Israel on Monday.\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["extract", str(src), "--map", "id=article_id,date=published,text=body",
                                      "--month-first", "--out", str(out)])
    assert result.exit_code == 0, result.output
    signals = (out / "signals.csv").read_text()
    assert "2024-11-04" in signals and ",7," in signals


LANGUAGE_SAMPLES = {
    "fr": "L'armée a frappé des positions dans le sud du pays mardi, selon un communiqué publié par le ministère "
          "qui affirme que les frappes visaient des dépôts d'armes et des rampes de lancement.",
    "de": "Die Armee hat am Dienstag Stellungen im Süden des Landes angegriffen, teilte das Ministerium in einer "
          "Erklärung mit; die Angriffe richteten sich gegen Waffenlager und Abschussrampen.",
    "ru": "Армия во вторник нанесла удары по позициям на юге страны, сообщило министерство обороны в заявлении.",
    "ar": "قصف الجيش يوم الثلاثاء مواقع في جنوب البلاد وفق بيان لوزارة الدفاع قال إن الضربات استهدفت مستودعات",
}


def test_non_english_documents_are_set_aside_with_a_reason(tmp_path):
    path = tmp_path / "feed.jsonl"
    lines = [{"id": lang, "text": text} for lang, text in LANGUAGE_SAMPLES.items()]
    lines.append({"id": "en", "text": "The army struck positions in the south of the country on Tuesday, the "
                                      "ministry said in a statement, adding that the strikes hit weapons depots."})
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    result = read_inputs([path])
    assert [d.id for d in result.documents] == ["en"]
    assert {r.location for r in result.rejected} == {"line 1", "line 2", "line 3", "line 4"}
    assert all("not English" in r.reason for r in result.rejected)
    assert [d.id for d in read_inputs([path], check_language=False).documents] == ["fr", "de", "ru", "ar", "en"]


def test_id_with_the_list_separator_is_rejected(tmp_path):
    path = tmp_path / "feed.jsonl"
    path.write_text(json.dumps({"id": "a;b", "text": "Iran warned Israel on Monday."}) + "\n", encoding="utf-8")
    result = read_inputs([path])
    assert not result.documents and "contains ';'" in result.rejected[0].reason


def test_cli_exits_1_when_every_record_is_rejected_and_keeps_them(tmp_path, monkeypatch, capsys):
    src = tmp_path / "feed.jsonl"
    src.write_text('{"id": "a", "text": ""}\n{"id": "b"}\n', encoding="utf-8")
    code, captured = _main(monkeypatch, capsys, "extract", src, "--out", tmp_path / "out")
    assert code == 1 and "Traceback" not in captured.err
    rejected = (tmp_path / "out" / "rejected.jsonl").read_text().splitlines()
    assert len(rejected) == 2


def test_cli_checks_the_window_before_any_work(tmp_path, monkeypatch, capsys):
    src = tmp_path / "feed.jsonl"
    src.write_text('{"id": "a", "text": "Iran warned Israel."}\n', encoding="utf-8")
    code, captured = _main(monkeypatch, capsys, "score", src, "--window", "fortnight", "--out", tmp_path / "out")
    assert code == 2 and "'fortnight' is not a window" in captured.err
    assert not (tmp_path / "out").exists()
