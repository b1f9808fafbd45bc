"""Streaming runs (issue 13, item 1): inputs read record by record, signals written in Parquet parts as
extraction goes, extraction in worker processes with the same result, and the CLI's --batch-size /
--n-process. Peak memory itself is measured by `make bench` (engine/bench.py: peak_rss_mb), not here."""

from __future__ import annotations

import gzip
import io
import json

import pandas as pd
import pytest

from engine.ingest import DocumentInfo, read_inputs, stream_inputs
from tests.conftest import REPO

SEED = REPO / "seeds" / "items.jsonl"


def _mixed_inputs(folder):
    """One folder with every kind of input and of problem the readers know."""
    folder.mkdir()
    lines = [json.dumps({"id": "a", "text": "Iran warned Israel.", "date": "2024-11-01", "title": "T", "url": "u"}),
             "{not json", json.dumps({"id": "a", "text": "Same id again."}), "",
             json.dumps({"id": "b", "text": "x" * 300}), json.dumps({"id": "c", "text": "Israel struck Iran."})]
    (folder / "feed.jsonl").write_bytes(("\n".join(lines) + "\r\n").encode() + b'{"id": "e", "text": "caf\xe9"}\r')
    (folder / "items.csv").write_bytes(b'\xef\xbb\xbfid;text;date\n1;"two\nlines";04/11/2024\n\n2;;\n3;Fine.;\n')
    (folder / "more.jsonl.gz").write_bytes(gzip.compress(b'{"id": "g", "text": "From a gzip file."}\n'))
    (folder / "note.txt").write_text("A text file of its own.")
    (folder / "empty.jsonl").write_text("\n  \n")
    return folder


def test_the_stream_reads_what_read_inputs_reads_without_keeping_texts(tmp_path):
    folder = _mixed_inputs(tmp_path / "in")
    whole = read_inputs([folder], max_chars=200)
    stream = stream_inputs([folder], max_chars=200)
    streamed = list(stream)
    assert [d.id for d in whole.documents] == ["a", "c", "1", "3", "g", "note"]
    assert streamed == whole.documents  # the same Documents, in the same order
    # the run keeps their metadata only, hashed as the history stores them
    assert stream.result.documents == [d.info() for d in whole.documents]
    assert all(isinstance(d, DocumentInfo) and not hasattr(d, "text") for d in stream.result.documents)
    assert [r.message() for r in stream.result.rejected] == [r.message() for r in whole.rejected]
    assert len(whole.rejected) == 6 and stream.result.files == whole.files
    assert all(r.raw == "" for r in stream.result.rejected)  # raw records wait in a temporary file ...
    kept = stream.result.write_rejected(tmp_path / "a").read_bytes()
    assert kept == whole.write_rejected(tmp_path / "b").read_bytes()  # ... and rejected.jsonl is the same
    assert stream.result.write_rejected(tmp_path / "c").read_bytes() == kept  # (written twice: report + run)
    assert stream.bytes_read == stream.total_bytes == sum(p.stat().st_size for p in folder.iterdir())
    with pytest.raises(RuntimeError, match="read once"):
        list(stream)


def test_the_stream_yields_each_record_before_reading_the_rest():
    class Feed(io.RawIOBase):
        """Standard input that says how much of it was read."""

        def __init__(self, data: bytes):
            self.data, self.given = data, 0

        def readable(self):
            return True

        def readinto(self, buffer):
            n = min(len(buffer), 1000, len(self.data) - self.given)
            buffer[:n] = self.data[self.given : self.given + n]
            self.given += n
            return n

    records = b"".join(json.dumps({"id": f"d{i}", "text": "Iran said that it would answer the strike. " * 10}).encode() + b"\n"
                       for i in range(2_000))
    feed = Feed(records)
    seen = []
    stream = stream_inputs(["-"], stdin=feed, on_reject=seen.append)
    first = next(iter(stream))
    assert first.id == "d0" and feed.given < len(records) / 10
    assert stream.total_bytes is None and not seen


def test_a_gzip_file_damaged_part_way_keeps_the_records_before_it(tmp_path):
    lines = b"".join(json.dumps({"id": f"d{i}", "text": f"Record number {i} of the feed."}).encode() + b"\n"
                     for i in range(20_000))
    packed = gzip.compress(lines)
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(packed[: len(packed) // 2])  # a download that stopped half-way
    result = read_inputs([path])
    assert 1_000 < len(result.documents) < 20_000
    [rejected] = result.rejected
    assert rejected.location == f"line {len(result.documents) + 1}"
    assert "gzip" in rejected.reason and "records before it were read" in rejected.reason
    assert result.files[str(path)] == len(result.documents) + 1  # accepted + rejected = records read


# --------------------------------------------------------------------------- extraction (spaCy)
def test_signal_parts_are_written_as_extraction_goes(tmp_path, extractor):
    documents = read_inputs([SEED]).documents
    whole = extractor.extract(documents)
    parts = tmp_path / "signals.parts"
    written = []
    streamed = extractor.extract(iter(documents), parts_dir=parts, part_documents=2,
                                 progress=lambda n: written.append(len(list(parts.glob("part-*.parquet")))))
    assert written[1] >= 1  # a part file exists after the first two documents, before the others are read
    assert written == sorted(written) and written[-1] == len(list(parts.iterdir())) >= 3
    pd.testing.assert_frame_equal(whole.signals, streamed.signals)
    pd.testing.assert_frame_equal(whole.unknown_actors, streamed.unknown_actors)
    assert (whole.n_documents, whole.n_sentences, whole.n_words) == (
        streamed.n_documents, streamed.n_sentences, streamed.n_words)
    # a small extraction (one part) stays in memory
    extractor.extract(documents[:2], parts_dir=tmp_path / "small")
    assert not (tmp_path / "small").exists()


@pytest.mark.processes
def test_worker_processes_give_the_signals_of_one_process(extractor):
    texts = ["Iran fired missiles at Israel on Tuesday. Israel vowed to respond.",
             "Hezbollah threatened to strike Haifa, the group said.",
             "The weather was mild and the markets were calm.",
             "Israeli jets struck targets in Lebanon. Lebanon called for a ceasefire.",
             "Iraqi militias said they would attack American bases.",
             "The United States moved a carrier group to the eastern Mediterranean."]
    from engine.ingest import documents_from_texts

    documents = documents_from_texts(texts)
    one = extractor.extract(documents, batch_size=2)
    two = extractor.extract(iter(documents), batch_size=2, n_process=2)  # 3 chunks over 2 workers
    assert len(one.signals) >= 4
    pd.testing.assert_frame_equal(one.signals, two.signals)
    pd.testing.assert_frame_equal(one.unknown_actors, two.unknown_actors)
    assert (one.n_documents, one.n_sentences, one.n_words) == (two.n_documents, two.n_sentences, two.n_words)


def test_stream_partitions_cut_small_inputs_like_partitions_and_large_ones_in_blocks():
    from engine.executor import MAX_PARTITION, partitions, stream_partitions

    small = list(range(23))
    assert list(stream_partitions(iter(small), 2)) == partitions(small, 2)
    large = list(range(8 * MAX_PARTITION + 5))
    parts = list(stream_partitions(iter(large), 2))
    assert [d for p in parts for d in p] == large and max(map(len, parts)) == MAX_PARTITION
    assert list(stream_partitions(iter(small), 2, size=10)) == [small[:10], small[10:20], small[20:]]


def test_score_with_history_reads_a_stream(tmp_path):
    from engine.history import History, score_with_history
    from engine.scoring import Scorer

    scorer = Scorer()
    with History.open(tmp_path / "h.duckdb") as history:
        run = score_with_history(scorer, history, stream_inputs([SEED]))
    plain = scorer.score([], ingest=read_inputs([SEED]))
    assert [d.id for d in run.check.new] == [d.id for d in read_inputs([SEED]).documents]
    assert all(isinstance(d, DocumentInfo) for d in run.check.new)
    pd.testing.assert_frame_equal(plain.pair_scores.drop(columns="run_id"),
                                  run.result.pair_scores.drop(columns="run_id"))


# --------------------------------------------------------------------------- CLI
def test_cli_batch_size_and_parts_folder(tmp_path):
    from typer.testing import CliRunner

    from engine.cli import app

    out = tmp_path / "out"
    (out / "signals.parts").mkdir(parents=True)
    (out / "signals.parts" / "part-00007.parquet").write_bytes(b"left by a killed run")
    result = CliRunner().invoke(app, ["score", str(SEED), "--out", str(out), "--batch-size", "3"])
    assert result.exit_code == 0, result.output
    assert not (out / "signals.parts").exists()  # joined into signals.parquet, then removed
    local = pd.read_parquet(out / "signals.parquet")
    assert len(local) > 10
    bad = CliRunner().invoke(app, ["score", str(SEED), "--out", str(tmp_path / "o2"), "--n-process", "0"])
    assert bad.exit_code == 2
