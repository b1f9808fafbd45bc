"""Ingest: read .txt files/folders, JSONL and CSV into documents; keep every bad record aside.

Every problem record is reported with its file and line (or record) number and kept in
``IngestResult.rejected`` so that ``write_rejected`` can put it in ``rejected.jsonl``. Nothing a user
gives us is dropped silently; one bad record never stops the others.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

DEFAULT_MAX_CHARS = 200_000
FIELDS = ("id", "text", "date", "source", "url", "title")
SUFFIXES = {".txt", ".jsonl", ".csv"}


@dataclass(frozen=True)
class Document:
    id: str
    text: str
    date: dt.date | None
    source: str = ""
    url: str = ""
    title: str = ""
    origin: str = ""  # FILE:LINE the record came from


@dataclass(frozen=True)
class Rejected:
    file: str
    location: str  # "line 7", "record 3", "whole file"
    reason: str
    raw: str = ""

    def message(self) -> str:
        return f"{self.file}: {self.location}: {self.reason}"


@dataclass
class IngestResult:
    documents: list[Document] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    files: dict[str, int] = field(default_factory=dict)  # file -> records read (good + bad)

    def write_rejected(self, out_dir: Path) -> Path:
        """Write every rejected record (with its reason) to ``out_dir/rejected.jsonl``."""
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / "rejected.jsonl"
        with path.open("w", encoding="utf-8") as fh:
            for rej in self.rejected:
                fh.write(json.dumps(asdict(rej), ensure_ascii=False) + "\n")
        return path


def parse_date(value: object) -> dt.date:
    """Parse an ISO date or date-time; raise ValueError with a readable message otherwise."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        raise ValueError(f"unparseable date {text!r} (expected YYYY-MM-DD)") from None


class _Reader:
    """Collects documents and rejects across files, checking ids and sizes as it goes."""

    def __init__(self, default_date: dt.date | None, max_chars: int):
        self.default_date = default_date
        self.max_chars = max_chars
        self.result = IngestResult()
        self.seen_ids: dict[str, str] = {}

    def reject(self, file: str, location: str, reason: str, raw: str = "") -> None:
        self.result.rejected.append(Rejected(file, location, reason, raw[:2000]))

    def add(self, file: str, location: str, record: dict, raw: str) -> None:
        doc_id = str(record.get("id") or "").strip()
        text = record.get("text")
        if not doc_id:
            return self.reject(file, location, "missing id", raw)
        if doc_id in self.seen_ids:
            return self.reject(
                file, location, f"duplicate id {doc_id!r} (first seen at {self.seen_ids[doc_id]})", raw
            )
        if not isinstance(text, str) or not text.strip():
            return self.reject(file, location, "empty text", raw)
        if "\udcff" in text or any(0xDC80 <= ord(ch) <= 0xDCFF for ch in text):
            return self.reject(file, location, "wrong encoding: text is not valid UTF-8", raw)
        if len(text) > self.max_chars:
            return self.reject(
                file, location, f"document too large: {len(text)} characters (limit {self.max_chars})", raw[:200]
            )
        date = self.default_date
        if record.get("date") not in (None, ""):
            try:
                date = parse_date(record["date"])
            except ValueError as exc:
                return self.reject(file, location, str(exc), raw)
        self.seen_ids[doc_id] = f"{file}:{location}"
        self.result.documents.append(
            Document(
                id=doc_id,
                text=text,
                date=date,
                source=str(record.get("source") or ""),
                url=str(record.get("url") or ""),
                title=str(record.get("title") or ""),
                origin=f"{file}:{location}",
            )
        )

    def read_txt(self, path: Path) -> None:
        data = path.read_bytes()
        self.result.files[str(path)] = 1
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            return self.reject(str(path), f"line {line}", f"wrong encoding: not valid UTF-8 at byte {exc.start}")
        self.add(str(path), "whole file", {"id": path.stem, "text": text.strip()}, text[:200])

    def read_jsonl(self, path: Path) -> None:
        count = 0
        for lineno, raw_bytes in enumerate(path.read_bytes().splitlines(), start=1):
            if not raw_bytes.strip():
                continue
            count += 1
            location = f"line {lineno}"
            try:
                raw = raw_bytes.decode("utf-8")
            except UnicodeDecodeError as exc:
                self.reject(str(path), location, f"wrong encoding: not valid UTF-8 at column {exc.start + 1}",
                            raw_bytes.decode("utf-8", "replace"))
                continue
            try:
                record = json.loads(raw)
            except json.JSONDecodeError as exc:
                self.reject(str(path), location, f"bad JSON: {exc.msg} at column {exc.colno}", raw)
                continue
            if not isinstance(record, dict):
                self.reject(str(path), location, f"bad JSON: expected an object, got {type(record).__name__}", raw)
                continue
            self.add(str(path), location, record, raw)
        self.result.files[str(path)] = count

    def read_csv(self, path: Path) -> None:
        # surrogateescape keeps bad bytes visible per record instead of failing the whole file
        text = path.read_bytes().decode("utf-8", "surrogateescape")
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = reader.fieldnames or []
        if "text" not in header or "id" not in header:
            self.result.files[str(path)] = 0
            missing = [c for c in ("id", "text") if c not in header]
            return self.reject(str(path), "line 1", f"CSV header lacks column(s) {', '.join(missing)}; found {header}")
        count = 0
        start_line = reader.line_num + 1
        for row in reader:
            count += 1
            location = f"line {start_line}"
            raw = json.dumps(row, ensure_ascii=False, default=str)
            if None in row:
                self.reject(str(path), location, "CSV row has more fields than the header", raw)
            elif any(v is None for v in row.values()):
                self.reject(str(path), location, "CSV row has fewer fields than the header", raw)
            elif any(_has_surrogates(v) for v in row.values()):
                self.reject(str(path), location, "wrong encoding: not valid UTF-8", raw.encode("utf-8", "replace").decode())
            else:
                self.add(str(path), location, row, raw)
            start_line = reader.line_num + 1
        self.result.files[str(path)] = count


def _has_surrogates(value: str | None) -> bool:
    return bool(value) and any(0xDC80 <= ord(ch) <= 0xDCFF for ch in value)


def _expand(paths: Iterable[str | Path]) -> Iterator[Path]:
    for p in map(Path, paths):
        if p.is_dir():
            yield from sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUFFIXES)
        else:
            yield p


def read_inputs(
    paths: Iterable[str | Path],
    *,
    default_date: dt.date | None = None,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> IngestResult:
    """Read every input path (files or folders) into documents plus rejected records.

    ``default_date`` is used for records that carry no date (e.g. a ``.txt`` file).
    """
    reader = _Reader(default_date, max_chars)
    for path in _expand(paths):
        suffix = path.suffix.lower()
        if not path.exists():
            reader.reject(str(path), "whole file", "file not found")
        elif suffix == ".txt":
            reader.read_txt(path)
        elif suffix == ".jsonl":
            reader.read_jsonl(path)
        elif suffix == ".csv":
            reader.read_csv(path)
        else:
            reader.reject(str(path), "whole file", f"unsupported file type {suffix!r} (use .txt, .jsonl or .csv)")
    return reader.result


def documents_from_texts(texts: Iterable[str], *, date: dt.date | None = None) -> list[Document]:
    """Wrap plain strings as documents with ids ``text-1``, ``text-2``, ... (Python API helper)."""
    return [Document(id=f"text-{i}", text=t, date=date, origin=f"<text {i}>") for i, t in enumerate(texts, 1)]
