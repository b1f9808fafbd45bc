"""Ingest: read .txt files, folders, JSONL and CSV (optionally gzipped, or from stdin) into documents; keep every
bad record aside.

Two kinds of problems, never mixed up:

- **Input errors** (``engine.errors.InputError``, exit 1 in the CLI, raised before any record is read): a path
  that does not exist, a file of an unknown kind given by name (``.md``, ``.json``, ``.pdf`` ...), a file or
  folder that cannot be read, a FIFO / socket / device, a folder that links back into itself, a bad column map
  or a ``max_chars`` above what spaCy accepts. Files of an unknown kind found *inside* a folder are not read
  and are listed in ``IngestResult.skipped``; hidden files and folders (``.git``, ``.DS_Store``) are ignored.
- **Rejected records**: every problem with one record (bad JSON, a missing, duplicate or wrongly typed id,
  empty or non-string text, invalid UTF-8, a lone surrogate, a date that cannot be read or lies outside
  1900-01-01..2100-12-31, a wrong CSV shape, a document over ``max_chars``, or anything unexpected) is kept in
  ``IngestResult.rejected`` with its file, line and reason and the raw record whole (base64 when its bytes are
  not UTF-8); ``write_rejected`` puts them in ``rejected.jsonl``. One bad record never stops the others: for
  every file, accepted + rejected records == the records read (``IngestResult.files``).

Streaming: ``stream_inputs`` reads one record at a time (JSONL and CSV line by line, gzip decompressed as it
goes) and yields each document as soon as it is read; its ``result`` fills as it goes with the rejects and, per
document, a ``DocumentInfo`` (id, date, source, url, title, content hash: no text), so a run's memory does not
grow with the texts it read. Duplicate ids are found from the ids seen so far. ``read_inputs`` is the same
stream collected into a list of whole ``Document`` objects.

Formats:

- ``.txt``: one document; its id is the file name without ``.txt`` or, inside a folder, the path relative to
  that folder (``a/news.txt`` -> ``a/news``, ``b/news.txt`` -> ``b/news``).
- ``.jsonl``: one JSON object per line.
- ``.csv``: a header line, then one record per row (quoted fields may span lines); a UTF-8 byte-order mark is
  dropped and the delimiter is found from the header line (comma, semicolon or tab).
- ``.txt.gz``, ``.jsonl.gz``, ``.csv.gz``: the same, gzip-compressed.
- ``-``: standard input; read as JSONL when it starts with ``{``, as CSV when its first line is a header with the
  id and text columns, otherwise as one text document with id ``stdin``.

Fields: ``id``, ``text``, optional ``date``, ``source``, ``url``, ``title``. ``column_map`` names other columns:
``{"id": "article_id", "text": "body", "date": "published", "title": "headline"}``.

Dates (``parse_date``): ISO ``2024-11-04``, ISO date-times ``2024-11-04T10:00:00Z``, ``4 November 2024``,
``4 Nov 2024``, ``November 4, 2024``, ``Nov 4, 2024`` (a weekday before and a time after are allowed),
``2024/11/04``, e-mail/RSS dates (``Mon, 04 Nov 2024 10:00:00 GMT``) and numeric dates ``04/11/2024``,
``04.11.2024``, ``04-11-2024``, which are read **day first** (4 November 2024) unless ``dayfirst=False``
(CLI: ``--month-first``). A numeric date that is impossible in the chosen order is rejected, never re-read in
the other order.
"""

from __future__ import annotations

import base64
import codecs
import csv
import datetime as dt
import email.utils
import gzip
import hashlib
import io
import itertools
import json
import os
import re
import stat
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, BinaryIO

from engine.errors import InputError, did_you_mean

DEFAULT_MAX_CHARS = 200_000
# spaCy's nlp.max_length (1,000,000 by default): a longer text stops the parser with error E088, so no
# document may be longer, whatever --max-chars says.
MAX_CHARS_LIMIT = 1_000_000
MAX_GUNZIPPED_BYTES = 2**30  # a .gz input may unpack to at most 1 GiB (a small "zip bomb" file cannot fill memory)
FIELDS = ("id", "text", "date", "source", "url", "title")
DATE_MIN = dt.date(1900, 1, 1)
DATE_MAX = dt.date(2100, 12, 31)
# File kinds by (lower-case) name ending; the longest ending wins.
KINDS = {".jsonl.gz": "jsonl", ".csv.gz": "csv", ".txt.gz": "txt", ".jsonl": "jsonl", ".csv": "csv", ".txt": "txt"}
KNOWN_ENDINGS = ", ".join(KINDS)
STDIN = "-"
_LINE_BREAKS = {ord(c): f"\\u{ord(c):04x}" for c in "\x85\u2028\u2029"}
STDIN_NAME = "<stdin>"
SNIFF_BYTES = 65536  # how much of standard input is looked at to tell JSONL, CSV and text apart
# a CSV field may be as long as the file; a stream's length is not known beforehand
CSV_FIELD_LIMIT = 2**31 - 1


@dataclass(frozen=True)
class Document:
    id: str
    text: str
    date: dt.date | None
    source: str = ""
    url: str = ""
    title: str = ""
    origin: str = ""  # FILE:LINE the record came from

    @property
    def sha256(self) -> str:
        """The content hash a run history stores a document under (its text, date, source, url and title)."""
        return content_sha256(self.text, self.date, self.source, self.url, self.title)

    def info(self) -> DocumentInfo:
        return DocumentInfo(self.id, self.date, self.source, self.url, self.title, self.origin, self.sha256)


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    """A document without its text: what a streaming run keeps of each document it has read."""

    id: str
    date: dt.date | None
    source: str = ""
    url: str = ""
    title: str = ""
    origin: str = ""
    sha256: str = ""


def content_sha256(text: str, date: dt.date | None, source: str, url: str, title: str) -> str:
    payload = json.dumps([text, date.isoformat() if date else "", source, url, title], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Rejected:
    file: str
    location: str  # "line 7", "whole file"
    reason: str
    raw: str = ""  # the record as read (whole); invalid bytes shown as U+FFFD ...
    raw_base64: str = ""  # ... and then kept exactly here, base64-encoded

    def message(self) -> str:
        return f"{self.file}: {self.location}: {self.reason}"

    def as_json(self) -> dict:
        row = {"file": self.file, "location": self.location, "reason": self.reason, "raw": self.raw}
        if self.raw_base64:
            row["raw_base64"] = self.raw_base64
        return row


@dataclass
class IngestResult:
    # read_inputs: whole Documents; a stream (stream_inputs): a DocumentInfo (no text) per document yielded
    documents: list[Document | DocumentInfo] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    files: dict[str, int] = field(default_factory=dict)  # file -> records read (accepted + rejected)
    skipped: list[str] = field(default_factory=list)  # files of an unknown kind found inside input folders
    # a stream writes each reject's line of rejected.jsonl here (raw record included) and keeps only the
    # file, line and reason in ``rejected``: a feed full of oversized records must not fill memory
    spool: IO[str] | None = field(default=None, repr=False)

    def write_rejected(self, out_dir: Path) -> Path:
        """Write every rejected record (with its reason) to ``out_dir/rejected.jsonl``."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / "rejected.jsonl"
        # backslashreplace: a reason quoting a lone surrogate must not stop the writing
        with path.open("w", encoding="utf-8", errors="backslashreplace") as fh:
            if self.spool is not None:
                self.spool.seek(0)
                for line in self.spool:
                    fh.write(line)
                self.spool.seek(0, io.SEEK_END)
            else:
                for rej in self.rejected:
                    fh.write(rejected_line(rej))
        return path


def rejected_line(rej: Rejected) -> str:
    """One line of rejected.jsonl."""
    line = json.dumps(rej.as_json(), ensure_ascii=False)
    # characters that str.splitlines() takes for line breaks stay escaped: one record, one line
    return line.translate(_LINE_BREAKS) + "\n"


# ----------------------------------------------------------------------------------------------------- dates
_NUMERIC_DATE = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})")
_YEAR_FIRST_DATE = re.compile(r"(\d{4})([/.])(\d{1,2})\2(\d{1,2})")
_WEEKDAY = re.compile(r"^(mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)[a-z]*\.?,?\s+", re.IGNORECASE)
_TIME_SUFFIX = re.compile(r"(,?\s+|T)\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*([ap]\.?m\.?)?\s*(Z|UTC|GMT|[A-Z]{2,4}|[+-]\d{2}:?\d{2})?$",
                          re.IGNORECASE)
_ORDINAL = re.compile(r"\b(\d{1,2})(st|nd|rd|th)\b", re.IGNORECASE)
_NAMED_FORMATS = ("%d %B %Y", "%d %b %Y", "%B %d %Y", "%b %d %Y")
DATE_FORMATS_HELP = ("expected e.g. 2024-11-04, 2024-11-04T10:00:00Z, 4 November 2024, Nov 4, 2024 "
                     "or 04/11/2024 (day first)")


def parse_date(value: object, *, dayfirst: bool = True) -> dt.date:
    """Read a date in one of the formats listed in this module's docstring; raise ValueError with a readable
    message otherwise, or when the date lies outside 1900-01-01..2100-12-31."""
    if isinstance(value, dt.datetime):
        date = value.date()
    elif isinstance(value, dt.date):
        date = value
    else:
        date = _parse_date_text(str(value).strip(), dayfirst)
    if not DATE_MIN <= date <= DATE_MAX:
        raise ValueError(f"date {str(value).strip()!r} is outside the supported range "
                         f"{DATE_MIN.isoformat()}..{DATE_MAX.isoformat()}")
    return date


def _parse_date_text(text: str, dayfirst: bool) -> dt.date:
    if len(text) > 100:
        raise ValueError(f"unparseable date {text[:40]!r}... ({DATE_FORMATS_HELP})")
    for parse in (dt.date.fromisoformat, lambda t: dt.datetime.fromisoformat(t).date()):
        try:
            return parse(text)
        except ValueError:
            pass
    if m := _NUMERIC_DATE.fullmatch(text):
        first, second, year = int(m[1]), int(m[3]), int(m[4])
        day, month = (first, second) if dayfirst else (second, first)
        try:
            return dt.date(year, month, day)
        except ValueError:
            order = "day first (DD/MM/YYYY)" if dayfirst else "month first (MM/DD/YYYY)"
            other = "--month-first" if dayfirst else "the default day-first reading"
            raise ValueError(f"unparseable date {text!r}: not a valid date read {order}; use {other} if the "
                             f"file writes dates the other way") from None
    if m := _YEAR_FIRST_DATE.fullmatch(text):
        try:
            return dt.date(int(m[1]), int(m[3]), int(m[4]))
        except ValueError:
            pass
    cleaned = _ORDINAL.sub(r"\1", _TIME_SUFFIX.sub("", _WEEKDAY.sub("", text)))
    cleaned = re.sub(r"\bsept\b", "sep", cleaned.replace(",", " ").replace(".", " "), flags=re.IGNORECASE)
    cleaned = " ".join(cleaned.split())
    for fmt in _NAMED_FORMATS:
        try:
            return dt.datetime.strptime(cleaned, fmt).date()
        except ValueError:
            pass
    try:  # RFC 2822 (e-mail, RSS): "Mon, 04 Nov 2024 10:00:00 GMT"
        return email.utils.parsedate_to_datetime(text).date()
    except (TypeError, ValueError, IndexError, OverflowError):
        pass
    raise ValueError(f"unparseable date {text!r} ({DATE_FORMATS_HELP})")


# ---------------------------------------------------------------------------------------------- column maps
def parse_column_map(spec: str | None) -> dict[str, str]:
    """``"id=article_id,text=body"`` -> ``{"id": "article_id", "text": "body"}`` (the CLI's ``--map``)."""
    if not spec:
        return {}
    mapping = {}
    for part in spec.split(","):
        if not part.strip():
            continue
        ours, sep, theirs = part.partition("=")
        if not sep or not ours.strip() or not theirs.strip():
            raise InputError(f"--map: {part.strip()!r} is not FIELD=COLUMN (e.g. --map id=article_id,text=body)")
        mapping[ours.strip()] = theirs.strip()
    return check_column_map(mapping)


def check_column_map(column_map: dict[str, str] | None) -> dict[str, str]:
    column_map = dict(column_map or {})
    for ours, theirs in column_map.items():
        if ours not in FIELDS:
            raise InputError(f"column map: unknown field {ours!r}{did_you_mean(ours, FIELDS)}; "
                             f"fields are {', '.join(FIELDS)}")
        if not isinstance(theirs, str) or not theirs:
            raise InputError(f"column map: the column for {ours!r} must be a non-empty name, got {theirs!r}")
    columns = list(column_map.values())
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise InputError(f"column map: column(s) {', '.join(map(repr, repeated))} given for more than one field")
    return column_map


# -------------------------------------------------------------------------------------------------- sources
@dataclass(frozen=True)
class _Source:
    name: str  # as shown in messages and in IngestResult.files
    path: Path | None  # None: standard input
    kind: str  # txt, jsonl, csv or stdin
    gz: bool = False
    txt_id: str = ""  # the id of a .txt document


def _kind(path: Path) -> tuple[str, str] | None:
    name = path.name.lower()
    for ending, kind in KINDS.items():
        if name.endswith(ending) and len(name) > len(ending):
            return kind, ending
    return None


def _source(path: Path, txt_id: str) -> _Source | None:
    found = _kind(path)
    if found is None:
        return None
    kind, ending = found
    return _Source(str(path), path, kind, ending.endswith(".gz"), txt_id[: len(txt_id) - len(ending)])


def _os_reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _sources(paths: Iterable[str | Path], skipped: list[str]) -> list[_Source]:
    """Every file to read, in order; raises InputError for any path that cannot be read as input."""
    sources: list[_Source] = []
    for given in paths:
        if str(given) == STDIN:
            if any(s.kind == "stdin" for s in sources):
                raise InputError("'-' (standard input) is given more than once")
            sources.append(_Source(STDIN_NAME, None, "stdin", txt_id="stdin"))
            continue
        path = Path(given)
        try:
            st = path.stat()
        except FileNotFoundError:
            what = "broken symbolic link" if path.is_symlink() else "no such file or folder"
            raise InputError(f"{path}: {what}") from None
        except OSError as exc:
            raise InputError(f"{path}: cannot be read ({_os_reason(exc)})") from None
        if stat.S_ISDIR(st.st_mode):
            sources.extend(_walk(path, skipped))
        elif stat.S_ISREG(st.st_mode):
            source = _source(path, path.name)
            if source is None:
                raise InputError(f"{path}: unsupported file type {''.join(path.suffixes[-2:]) or path.name!r} "
                                 f"(inputs are {KNOWN_ENDINGS} files, folders of them, or - for standard input)")
            sources.append(source)
        else:
            raise InputError(f"{path}: not a regular file or folder (a FIFO, socket or device cannot be read "
                             "as input; use - to read standard input)")
    return sources


def _walk(root: Path, skipped: list[str]) -> Iterator[_Source]:
    """Files under ``root`` in name order, following symbolic links; a link back into an enclosing folder is an
    InputError, as is anything that is neither a file nor a folder."""
    stack: list[tuple[Path, str, dict]] = []
    root_stat = root.stat()
    stack.append((root, "", {(root_stat.st_dev, root_stat.st_ino): root}))
    while stack:
        folder, rel, ancestors = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            raise InputError(f"{folder}: folder cannot be read ({_os_reason(exc)})") from None
        subfolders = []
        for entry in entries:
            if entry.name.startswith("."):
                continue  # hidden files and folders: .git, .DS_Store, editor swap files
            path = Path(entry.path)
            rel_name = f"{rel}{entry.name}"
            try:
                st = os.stat(entry.path)  # follows symbolic links
            except FileNotFoundError:
                raise InputError(f"{path}: broken symbolic link inside input folder {root}") from None
            except OSError as exc:
                raise InputError(f"{path}: cannot be read ({_os_reason(exc)})") from None
            if stat.S_ISDIR(st.st_mode):
                key = (st.st_dev, st.st_ino)
                if key in ancestors:
                    raise InputError(f"{path}: folder loop: it links back to {ancestors[key]}")
                subfolders.append((path, rel_name + "/", {**ancestors, key: path}))
            elif stat.S_ISREG(st.st_mode):
                source = _source(path, rel_name)
                if source is None:
                    skipped.append(str(path))
                else:
                    yield source
            else:
                raise InputError(f"{path}: not a regular file (a FIFO, socket or device) inside input folder {root}")
        stack.extend(reversed(subfolders))


# -------------------------------------------------------------------------------------------------- reading
class _JsonInt(str):
    """A JSON integer kept as its digits: ids of any length stay exact (int() stops at 4,300 digits)."""


def _lone_surrogate(value: str) -> int:
    """Index of the first surrogate code point in ``value`` (invalid Unicode, cannot be written), or -1."""
    for i, ch in enumerate(value):
        if "\ud800" <= ch <= "\udfff":
            return i
    return -1


def _escaped_bytes(value: str) -> bool:
    """True if ``value`` holds bytes that were not UTF-8 (decoded with surrogateescape)."""
    return any("\udc80" <= ch <= "\udcff" for ch in value)


def _type_name(value: object) -> str:
    return {dict: "object", list: "array", bool: "boolean", _JsonInt: "number", int: "number", float: "number",
            type(None): "null"}.get(type(value), type(value).__name__)


class _TooLarge(Exception):
    """A gzipped input unpacked past MAX_GUNZIPPED_BYTES."""


_GZIP_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error)


class _Bytes(io.RawIOBase):
    """A source's bytes, read as needed: ``head`` looks at the start without using it up; a gzipped source
    may unpack to at most ``limit`` bytes (a small "zip bomb" file cannot run on for ever). Standard input
    given as a text stream is encoded back to bytes."""

    def __init__(self, stream, limit: int | None = None):
        self.stream, self.limit = stream, limit
        self.pending = b""
        self.unpacked = 0

    def readable(self) -> bool:
        return True

    def _more(self, size: int) -> bytes:
        data = self.stream.read(size)
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        self.unpacked += len(data)
        if self.limit is not None and self.unpacked > self.limit:
            raise _TooLarge
        return data

    def head(self, size: int) -> bytes:
        while len(self.pending) < size and (data := self._more(size - len(self.pending))):
            self.pending += data
        return self.pending[:size]

    def skip(self, size: int) -> None:
        self.pending = self.pending[size:]

    def readinto(self, buffer) -> int:
        if not self.pending:
            self.pending = self._more(len(buffer))
        n = min(len(buffer), len(self.pending))
        buffer[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        return n


class _Reader:
    """Reads sources record by record, checking ids and sizes as it goes: ``read`` yields each accepted
    document and records rejects (and counts) in ``result``."""

    def __init__(self, default_date: dt.date | None, max_chars: int, column_map: dict[str, str], dayfirst: bool,
                 check_language: bool = True, on_reject: Callable[[Rejected], None] | None = None,
                 spool: bool = False):
        self.check_language = check_language
        self.default_date = default_date
        self.max_chars = max_chars
        self.columns = {f: column_map.get(f, f) for f in FIELDS}
        self.dayfirst = dayfirst
        self.on_reject = on_reject
        self.result = IngestResult()
        if spool:
            self.result.spool = tempfile.TemporaryFile("w+", encoding="utf-8", errors="backslashreplace")
        self.seen_ids: dict[str, str] = {}  # id -> where it was first seen (no text is kept)
        self.file = None  # the open file being read (its position drives a progress bar)

    # -- bookkeeping
    def reject(self, file: str, location: str, reason: str, raw: bytes | str = b"") -> None:
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            text, b64 = raw.decode("utf-8"), ""
        except UnicodeDecodeError:
            text, b64 = raw.decode("utf-8", "replace"), base64.b64encode(raw).decode("ascii")
        rejected = Rejected(file, location, reason, text, b64)
        if self.result.spool is not None:
            self.result.spool.write(rejected_line(rejected))
            rejected = Rejected(file, location, reason)
        self.result.rejected.append(rejected)
        self.result.files[file] = self.result.files.get(file, 0) + 1
        if self.on_reject is not None:
            self.on_reject(rejected)

    def add(self, file: str, location: str, record: dict, raw: bytes) -> Document | None:
        """Accept ``record`` as a document or reject it with its reason; never raises."""
        try:
            outcome = self._add(file, location, record)
        except Exception as exc:  # noqa: BLE001 - any record-level failure is a reject, never the end of the run
            outcome = f"cannot read record: {type(exc).__name__}: {exc}"
        if isinstance(outcome, str):
            self.reject(file, location, outcome, raw)
            return None
        return outcome

    def _add(self, file: str, location: str, record: dict) -> Document | str:
        """The document of a record, or what is wrong with it."""
        col = self.columns
        raw_id = record.get(col["id"])
        if isinstance(raw_id, bool):
            doc_id = "true" if raw_id else "false"  # JSON's spelling: false is an id like any other
        elif isinstance(raw_id, str | int | float):
            doc_id = str(raw_id).strip()
        elif raw_id is None:
            doc_id = ""
        else:
            return f"id is not a string or a number (got {_type_name(raw_id)})"
        if not doc_id:
            return "missing id"
        if (i := _lone_surrogate(doc_id)) >= 0:
            return f"id has an invalid character {ascii(doc_id[i])} (a lone surrogate) at position {i + 1}"
        if doc_id in self.seen_ids:
            return f"duplicate id {doc_id!r} (first seen at {self.seen_ids[doc_id]})"
        text = record.get(col["text"])
        if text is None:
            return "missing text"
        if not isinstance(text, str) or isinstance(text, _JsonInt):
            return f"text is not a string (got {_type_name(text)})"
        if not text.strip():
            return "empty text"
        if (i := _lone_surrogate(text)) >= 0:
            return f"text has an invalid character {ascii(text[i])} (a lone surrogate) at character {i + 1}"
        if len(text) > self.max_chars:
            return f"document too large: {len(text)} characters (limit {self.max_chars})"
        if self.check_language and (not_english := not_english_reason(text)):
            return not_english
        if ";" in doc_id:
            return f"id {doc_id!r} contains ';', which separates signal ids in rule_hits.csv"
        extra = {}
        for name in ("source", "url", "title"):
            value = record.get(col[name])
            value = "" if value is None else value if isinstance(value, str) else json.dumps(value)
            if (i := _lone_surrogate(value)) >= 0:
                return f"{name} has an invalid character {ascii(value[i])} (a lone surrogate)"
            extra[name] = value
        date = self.default_date
        raw_date = record.get(col["date"])
        if raw_date not in (None, ""):
            if isinstance(raw_date, dict | list | bool):
                return f"date is not a string (got {_type_name(raw_date)})"
            try:
                date = parse_date(raw_date, dayfirst=self.dayfirst)
            except ValueError as exc:
                return str(exc)
        self.seen_ids[doc_id] = f"{file}:{location}"
        self.result.files[file] = self.result.files.get(file, 0) + 1
        return Document(id=doc_id, text=text, date=date, origin=f"{file}:{location}", **extra)

    # -- files
    def read(self, source: _Source, stdin: BinaryIO | None) -> Iterator[Document]:
        """The documents of one source, as they are read."""
        name = source.name
        self.result.files.setdefault(name, 0)
        if source.path is None:
            self.file = None
            yield from self._read(source, stdin if stdin is not None else sys.stdin.buffer)
            return
        try:
            self.file = source.path.open("rb")
        except OSError as exc:
            raise InputError(f"{name}: cannot be read ({_os_reason(exc)})") from None
        try:
            yield from self._read(source, self.file)
        finally:
            self.file.close()
            self.file = None

    def _read(self, source: _Source, stream) -> Iterator[Document]:
        name = source.name
        data = _Bytes(gzip.GzipFile(fileobj=stream, mode="rb") if source.gz else stream,
                      MAX_GUNZIPPED_BYTES if source.gz else None)
        try:
            head = data.head(SNIFF_BYTES)
        except Exception as exc:  # noqa: BLE001 - unreadable before any record: the whole file is one reject
            return self._stopped(name, "whole file", exc)
        kind = _sniff(head, self.columns) if source.kind == "stdin" else source.kind
        if head.startswith(codecs.BOM_UTF8):
            data.skip(len(codecs.BOM_UTF8))
        if kind == "txt":
            try:
                whole = data.readall()
            except Exception as exc:  # noqa: BLE001
                return self._stopped(name, "whole file", exc)
            document = self.read_txt(name, whole, source.txt_id)
            if document is not None:
                yield document
            return
        lines = self._lines(name, io.BufferedReader(data))
        try:
            yield from getattr(self, f"read_{kind}")(name, lines)
        except InputError:
            raise
        except Exception as exc:  # noqa: BLE001 - a reader bug must not lose the other files
            self.reject(name, "whole file", f"cannot read file: {type(exc).__name__}: {exc}")

    def _lines(self, name: str, data: io.BufferedReader) -> Iterator[bytes]:
        """The lines of a source with their endings, split where ``bytes.splitlines`` splits (\\n, \\r\\n and
        \\r); a read that fails part-way (a damaged or oversized gzip file) rejects the rest of the file
        from the line it reached."""
        count = 0
        try:
            for physical in data:  # at \\n, however long the line
                for line in physical.splitlines(keepends=True):
                    count += 1
                    yield line
        except Exception as exc:  # noqa: BLE001
            self._stopped(name, f"line {count + 1}", exc, part_way=count > 0)

    def _stopped(self, name: str, location: str, exc: Exception, part_way: bool = False) -> None:
        """A source that cannot be read on: a reject (gzip) or an InputError (the file system)."""
        rest = "; the records before it were read" if part_way else ""
        if isinstance(exc, _TooLarge):
            return self.reject(name, location, f"larger than {MAX_GUNZIPPED_BYTES:,} bytes once uncompressed: "
                                               f"refused (split the file){rest}")
        if isinstance(exc, _GZIP_ERRORS):
            return self.reject(name, location, f"not a readable gzip file ({exc}){rest}")
        if isinstance(exc, OSError):
            raise InputError(f"{name}: cannot be read ({_os_reason(exc)})") from None
        raise exc

    def read_txt(self, name: str, data: bytes, txt_id: str) -> Document | None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            return self.reject(name, f"line {line}", f"wrong encoding: not valid UTF-8 at byte {exc.start}", data)
        return self.add(name, "whole file", {self.columns["id"]: txt_id, self.columns["text"]: text.strip()}, data)

    def read_jsonl(self, name: str, lines: Iterator[bytes]) -> Iterator[Document]:
        any_record = False
        for lineno, line in enumerate(lines, start=1):
            raw = line.removesuffix(b"\n").removesuffix(b"\r")
            if not raw.strip():
                continue
            any_record = True
            location = f"line {lineno}"
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                self.reject(name, location, f"wrong encoding: not valid UTF-8 at column {exc.start + 1}", raw)
                continue
            try:
                record = json.loads(text, parse_int=_JsonInt)
            except json.JSONDecodeError as exc:
                self.reject(name, location, f"bad JSON: {exc.msg} at column {exc.colno}", raw)
                continue
            except RecursionError:
                self.reject(name, location, "bad JSON: nested too deeply", raw)
                continue
            except (ValueError, MemoryError) as exc:
                self.reject(name, location, f"bad JSON: {exc}", raw)
                continue
            if not isinstance(record, dict):
                self.reject(name, location, f"bad JSON: expected an object, got {_type_name(record)}", raw)
                continue
            if (document := self.add(name, location, record, raw)) is not None:
                yield document
        if not any_record and not self.result.files.get(name):
            self.reject(name, "whole file", "empty file: no records")

    def read_csv(self, name: str, lines: Iterator[bytes]) -> Iterator[Document]:
        # the header is the first line that is not blank; it also tells the delimiter
        before_header: list[bytes] = []
        first = None
        for raw_line in lines:
            before_header.append(raw_line)
            if (decoded := raw_line.decode("utf-8", "surrogateescape")).strip():
                first = decoded
                break
        if first is None:
            if not self.result.files.get(name):
                self.reject(name, "whole file", "empty file: no header line")
            return
        delimiter = _sniff_delimiter(first)
        csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))
        consumed: list[bytes] = []
        position = 0

        def feed() -> Iterator[str]:
            nonlocal position
            for raw_line in itertools.chain(before_header, lines):
                consumed.append(raw_line)
                position += 1
                yield raw_line.decode("utf-8", "surrogateescape")

        reader = csv.reader(feed(), delimiter=delimiter)
        header: list[str] | None = None
        while True:
            start = position + 1
            consumed.clear()
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                self.reject(name, f"line {start}", f"bad CSV: {exc}", b"".join(consumed))
                continue
            raw = b"".join(consumed)
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line
            location = f"line {start}"
            if header is None:
                header = [h.strip() for h in row]
                problem = self._check_header(header, delimiter)
                if problem:
                    return self.reject(name, location, problem, raw)
                continue
            if len(row) > len(header):
                self.reject(name, location, f"CSV row has more fields than the header ({len(row)}, expected "
                                            f"{len(header)})", raw)
            elif len(row) < len(header):
                self.reject(name, location, f"CSV row has fewer fields than the header ({len(row)}, expected "
                                            f"{len(header)})", raw)
            elif any(_escaped_bytes(v) for v in row):
                self.reject(name, location, "wrong encoding: not valid UTF-8", raw)
            elif (document := self.add(name, location, dict(zip(header, row, strict=True)), raw)) is not None:
                yield document

    def _check_header(self, header: list[str], delimiter: str) -> str | None:
        missing = [self.columns[f] for f in ("id", "text") if self.columns[f] not in header]
        if missing:
            shown = "tab" if delimiter == "\t" else repr(delimiter)
            return (f"CSV header lacks column(s) {', '.join(missing)}; found {header} (delimiter {shown}); "
                    "name other columns with --map, e.g. --map id=article_id,text=body")
        wanted = {self.columns[f] for f in FIELDS}
        repeated = sorted({h for h in header if h in wanted and header.count(h) > 1})
        if repeated:
            return f"CSV header repeats column(s) {', '.join(repeated)}"
        return None


def _sniff_delimiter(header_line: str) -> str:
    """The delimiter (comma, semicolon or tab) that splits the header line into the most fields; comma on a tie."""
    best, best_count = ",", 0
    for delimiter in (",", ";", "\t"):
        try:
            count = len(next(csv.reader([header_line], delimiter=delimiter)))
        except (csv.Error, StopIteration):
            continue
        if count > best_count:
            best, best_count = delimiter, count
    return best


def _sniff(data: bytes, columns: dict[str, str]) -> str:
    """The kind of standard input: jsonl, csv (a header naming the id and text columns) or txt."""
    head = data[:65536].removeprefix(codecs.BOM_UTF8).lstrip()
    if head.startswith(b"{"):
        return "jsonl"
    first = next(iter(head.splitlines()), b"").decode("utf-8", "replace").strip()  # \r ends a line too
    if first:
        fields = [f.strip() for f in next(csv.reader([first], delimiter=_sniff_delimiter(first)), [])]
        if columns["id"] in fields and columns["text"] in fields:
            return "csv"
    return "txt"


def read_inputs(
    paths: Iterable[str | Path] | str | Path,
    *,
    default_date: dt.date | None = None,
    max_chars: int = DEFAULT_MAX_CHARS,
    column_map: dict[str, str] | None = None,
    dayfirst: bool = True,
    stdin: BinaryIO | None = None,
    check_language: bool = True,
) -> IngestResult:
    """Read every input path (files, folders or ``-`` for standard input) into documents plus rejected records.

    ``default_date`` is used for records that carry no date (e.g. a ``.txt`` file); ``column_map`` maps our
    fields to the file's column (or JSON key) names; ``dayfirst=False`` reads ``04/11/2024`` as April 11;
    ``stdin`` replaces ``sys.stdin.buffer`` for ``-``; ``check_language=False`` keeps documents that do not
    look English (by default they are set aside as rejected records: the English model would extract junk
    from them). Raises ``InputError`` (before reading any record) for inputs that cannot be read at all;
    every record-level problem becomes a ``Rejected``. Every text is kept: for large inputs use
    ``stream_inputs``.
    """
    stream = stream_inputs(paths, default_date=default_date, max_chars=max_chars, column_map=column_map,
                           dayfirst=dayfirst, stdin=stdin, check_language=check_language, keep_text=True)
    for _ in stream:
        pass
    return stream.result


def stream_inputs(
    paths: Iterable[str | Path] | str | Path,
    *,
    default_date: dt.date | None = None,
    max_chars: int = DEFAULT_MAX_CHARS,
    column_map: dict[str, str] | None = None,
    dayfirst: bool = True,
    stdin: BinaryIO | None = None,
    check_language: bool = True,
    on_reject: Callable[[Rejected], None] | None = None,
    keep_text: bool = False,
) -> InputStream:
    """The documents of every input path, read one record at a time: iterate the returned ``InputStream``
    (once). Same arguments and checks as ``read_inputs``; the paths are checked here, before any record is
    read (``InputError``). ``on_reject`` is called with each rejected record as it is found.

    Its ``result`` (an ``IngestResult``) fills as the stream is read: rejects, counts per file and, per
    document yielded, a ``DocumentInfo`` without the text (``keep_text=True``: the Document itself). The
    raw records of rejects go to a temporary file that ``write_rejected`` copies (unless ``keep_text``)."""
    if isinstance(paths, str | Path):
        paths = [paths]
    if isinstance(max_chars, bool) or not isinstance(max_chars, int) or not 1 <= max_chars <= MAX_CHARS_LIMIT:
        raise InputError(f"max_chars (--max-chars) must be a whole number from 1 to {MAX_CHARS_LIMIT:,} "
                         f"(spaCy's limit on one document), got {max_chars!r}")
    reader = _Reader(default_date, max_chars, check_column_map(column_map), dayfirst, check_language,
                     on_reject=on_reject, spool=not keep_text)
    return InputStream(reader, _sources(paths, reader.result.skipped), stdin, keep_text)


class InputStream:
    """Documents read one record at a time from checked sources (``stream_inputs``); iterate it once.

    ``result`` fills as it is read; ``bytes_read`` / ``total_bytes`` (None when standard input is read)
    measure how far it got in the input files (compressed bytes for .gz files), for a progress bar."""

    def __init__(self, reader: _Reader, sources: list[_Source], stdin: BinaryIO | None, keep_text: bool):
        self._reader, self._sources, self._stdin, self._keep_text = reader, sources, stdin, keep_text
        self.result = reader.result
        self._sizes = [s.path.stat().st_size if s.path is not None else None for s in sources]
        self.total_bytes = None if None in self._sizes else sum(self._sizes)
        self._done = 0  # bytes of the sources already read whole
        self._started = False

    def __iter__(self) -> Iterator[Document]:
        if self._started:
            raise RuntimeError("an InputStream can be read once")
        self._started = True
        for source, size in zip(self._sources, self._sizes, strict=True):
            for document in self._reader.read(source, self._stdin):
                self.result.documents.append(document if self._keep_text else document.info())
                yield document
            self._done += size or 0

    @property
    def bytes_read(self) -> int:
        current = self._reader.file
        try:
            return self._done + (current.tell() if current is not None else 0)
        except (OSError, ValueError):  # closed in the meantime
            return self._done


def chunked(items: Iterable, size: int) -> Iterator[list]:
    """Lists of ``size`` items (the last may be shorter), taken from ``items`` as they come."""
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


# The commonest English function words: they make up a third or more of any English news text and a few
# per cent of French, German, Spanish, Russian or Arabic text (which often has no Latin letters at all).
ENGLISH_FUNCTION_WORDS = frozenset(
    "the of and to in a is that for on was with as by at it from he his said be has have are were an its "
    "not but which had this they their been who will would after also more than over about into".split())
LANGUAGE_SAMPLE_CHARS = 3_000
MIN_WORDS_TO_JUDGE = 12
MIN_ENGLISH_SHARE = 0.12


def not_english_reason(text: str) -> str:
    """Why a text does not look English ('' when it does, or when it is too short to judge)."""
    sample = text[:LANGUAGE_SAMPLE_CHARS]
    letters = [c for c in sample if c.isalpha()]
    if len(letters) < 40:
        return ""
    non_latin = sum(1 for c in letters if ord(c) > 0x24F)
    if non_latin / len(letters) > 0.3:
        return (f"not English: {non_latin / len(letters):.0%} of its letters are not Latin script "
                "(set aside; the engine reads English only)")
    words = re.findall(r"[a-z]+(?:'[a-z]+)?", sample.lower())
    if len(words) < MIN_WORDS_TO_JUDGE:
        return ""
    share = sum(1 for w in words if w in ENGLISH_FUNCTION_WORDS) / len(words)
    if share < MIN_ENGLISH_SHARE:
        return (f"not English: only {share:.0%} of its words are common English words "
                "(set aside; the engine reads English only)")
    return ""


def documents_from_texts(texts: Iterable[str], *, date: dt.date | None = None) -> list[Document]:
    """Wrap plain strings as documents with ids ``text-1``, ``text-2``, ... (Python API helper)."""
    return [Document(id=f"text-{i}", text=t, date=date, origin=f"<text {i}>") for i, t in enumerate(texts, 1)]
