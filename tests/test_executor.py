"""Extraction executors (engine/executor.py): partitions, merging partition results, checks on the
workers, and a Dask LocalCluster run (2 worker processes, tiny input) whose tables equal a local run's."""

from __future__ import annotations

import dataclasses
import io

import pandas as pd
import pytest

from engine.executor import (
    ExecutorError,
    ExtractorSpec,
    combine,
    extract_partition,
    make_executor,
    partitions,
)
from engine.ingest import read_inputs
from engine.nlp.model import ModelInfo
from engine.paths import ACTORS_FILE, SIGNALS_FILE
from tests.conftest import REPO

SEED = REPO / "seeds" / "items.jsonl"


def test_partitions_are_contiguous_and_cover_every_document():
    docs = list(range(23))
    parts = partitions(docs, n_workers=2)
    assert [d for p in parts for d in p] == docs
    assert len(parts) == 8 and max(map(len, parts)) == 3
    assert partitions(docs, 2, size=10) == [docs[:10], docs[10:20], docs[20:]]
    assert partitions([], 2) == []


def test_combine_keeps_document_order_and_sums_unknown_actors():
    from engine.schemas import SignalsTable, empty_frame

    documents = [dataclasses.make_dataclass("D", ["id"])(i) for i in ("d1", "d2", "d3")]
    model = ModelInfo("pkg", "name", "1.0", False)
    empty = io.BytesIO()
    empty_frame(SignalsTable).to_parquet(empty, index=False)

    def part(unknown, n):
        return {"signals": empty.getvalue(), "unknown": unknown, "model": model, "n_documents": n,
                "n_sentences": 2 * n, "n_words": 10 * n}

    parts = [part([{"text": "Foo", "label": "ORG", "count": 1, "example_doc": "d1"},
                   {"text": "Bar", "label": "GPE", "count": 1, "example_doc": "d2"}], 2),
             part([{"text": "Bar", "label": "GPE", "count": 1, "example_doc": "d3"},
                   {"text": "Baz", "label": "ORG", "count": 1, "example_doc": "d3"}], 1)]
    merged = combine(parts, documents)
    assert merged.unknown_actors.values.tolist() == [["Bar", "GPE", 2, "d2"], ["Foo", "ORG", 1, "d1"],
                                                     ["Baz", "ORG", 1, "d3"]]
    assert (merged.n_documents, merged.n_sentences, merged.n_words) == (3, 6, 30)
    assert merged.signals.empty
    parts[1]["model"] = ModelInfo("pkg", "name", "2.0", False)
    with pytest.raises(ExecutorError, match="different spaCy models"):
        combine(parts, documents)


def test_a_worker_with_other_rules_or_code_refuses_to_extract(tmp_path):
    spec = ExtractorSpec.of(ACTORS_FILE, SIGNALS_FILE)
    with pytest.raises(ExecutorError, match="differs from the client's"):
        extract_partition(dataclasses.replace(spec, actors_sha256="0" * 64), [])
    with pytest.raises(ExecutorError, match="engine code differs"):
        extract_partition(dataclasses.replace(spec, code_sha256="0" * 64), [])
    with pytest.raises(ExecutorError, match="cannot read"):
        extract_partition(dataclasses.replace(spec, signals_path=str(tmp_path / "missing.yaml")), [])


def test_executor_names():
    spec = ExtractorSpec.of(ACTORS_FILE, SIGNALS_FILE)
    assert make_executor("local", spec).name == "local"
    with pytest.raises(ExecutorError, match="unknown executor"):
        make_executor("spark", spec)
    with pytest.raises(ExecutorError, match="needs --executor dask"):
        make_executor("local", spec, scheduler="tcp://127.0.0.1:8786")


@pytest.fixture(scope="module")
def dask_executor():
    """A LocalCluster of 2 worker processes with one thread each, for the whole module."""
    from engine.executor import DaskExecutor

    with DaskExecutor(ExtractorSpec.of(ACTORS_FILE, SIGNALS_FILE), n_workers=2, threads_per_worker=1,
                      partition_size=3) as executor:
        yield executor


@pytest.mark.dask
def test_dask_tables_equal_the_local_run(dask_executor):
    from engine.history import score_signals
    from engine.scoring import Scorer

    ingest = read_inputs([SEED])
    assert 5 <= len(ingest.documents) <= 12  # a tiny input: the cluster test must stay fast
    scorer = Scorer()
    local = scorer.score([], ingest=ingest)
    progressed = []
    remote = dask_executor.extract(ingest.documents, progress=progressed.append)
    assert sum(progressed) == len(ingest.documents) and len(progressed) == 3  # one call per partition
    pd.testing.assert_frame_equal(local.signals, remote.signals)
    pd.testing.assert_frame_equal(local.extraction.unknown_actors, remote.unknown_actors)
    assert (remote.n_documents, remote.n_sentences, remote.n_words) == (
        local.extraction.n_documents, local.extraction.n_sentences, local.extraction.n_words)
    reference = max(d.date for d in ingest.documents)
    hits, scores = score_signals(scorer, remote.signals, "dask-run", reference)
    pd.testing.assert_frame_equal(local.rule_hits.drop(columns="run_id"), hits.drop(columns="run_id"))
    pd.testing.assert_frame_equal(local.pair_scores.drop(columns="run_id"), scores.drop(columns="run_id"))


@pytest.mark.dask
def test_score_with_the_dask_executor_writes_the_local_tables(dask_executor, tmp_path):
    """`score --executor dask --scheduler ADDRESS` (the fixture's LocalCluster) against `score`."""
    from typer.testing import CliRunner

    from engine.cli import app

    address = dask_executor.client.scheduler.address
    runs = {}
    for name, extra in (("local", []), ("dask", ["--executor", "dask", "--scheduler", address])):
        result = CliRunner().invoke(app, ["score", str(SEED), "--out", str(tmp_path / name), *extra])
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code == 0, result.output
        runs[name] = tmp_path / name
    for table in ("signals", "rule_hits", "pair_scores"):
        local = pd.read_parquet(runs["local"] / f"{table}.parquet")
        remote = pd.read_parquet(runs["dask"] / f"{table}.parquet")
        if "run_id" in local:
            local, remote = local.drop(columns="run_id"), remote.drop(columns="run_id")
        pd.testing.assert_frame_equal(local, remote)
