"""Where extraction runs: in this process (``local``) or on a Dask cluster (``dask``).

``local`` extracts here, or in ``n_process`` worker processes of this machine (``Extractor.extract``).

``--executor dask`` maps extraction over contiguous partitions of the input's documents on Dask
workers (``distributed``): each worker process builds the spaCy pipeline once (cached per process and
rule-file content) and returns each partition's signals as a Parquet part; the parts are taken back
in document order (``engine.nlp.extract.SignalParts``), so the signals table is the one a local run
makes (signal ids depend on the document and its sentences only). The input is read as it goes: a
few partitions per worker are on their way at a time. Rules and scoring then run here as in a local run.

``--scheduler ADDRESS`` (``tcp://host:8786``) uses a running cluster; without it a ``LocalCluster``
of ``n_workers`` processes (default 2, one thread each) is started for the run and stopped after it.
Workers need the same engine version and the same rule files at the same paths (a checkout at the
same path or a shared folder): each task checks the sha256 of the actor dictionary and the signal
lexicon, and of the engine's extraction code, against the client's and fails with a clear error
when they differ. Every worker must load the same spaCy model (checked on the partitions' results).
"""

from __future__ import annotations

import collections
import hashlib
import io
import itertools
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from engine.errors import EngineError

EXECUTORS = ("local", "dask")


class ExecutorError(EngineError):
    """The executor cannot run: no cluster at the address, or workers that differ from the client."""


@dataclass(frozen=True)
class ExtractorSpec:
    """What a worker needs to build the client's extractor, with the hashes it must find."""

    actors_path: str
    signals_path: str
    degraded: bool = False
    actors_sha256: str = ""
    signals_sha256: str = ""
    code_sha256: str = ""  # the engine's extraction code (EXTRACTION_CODE)

    @classmethod
    def of(cls, actors_path: str | Path, signals_path: str | Path, degraded: bool = False) -> ExtractorSpec:
        return cls(str(actors_path), str(signals_path), degraded, _sha256(actors_path), _sha256(signals_path),
                   engine_code_sha256())


def _sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


_CODE_SHA: dict[str, str] = {}
# the engine modules extraction runs (engine.nlp.extract and what it imports), plus this one
EXTRACTION_CODE = ("nlp/*.py", "ingest.py", "schemas.py", "paths.py", "errors.py", "yamlio.py", "executor.py")


def engine_code_sha256() -> str:
    """One sha256 of the engine's extraction code (names and bytes, ``EXTRACTION_CODE``), computed once
    per process: a worker whose extraction code differs from the client's would extract differently."""
    root = Path(__file__).resolve().parent
    if str(root) not in _CODE_SHA:
        digest = hashlib.sha256()
        for path in sorted({p for pattern in EXTRACTION_CODE for p in root.glob(pattern)}):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
        _CODE_SHA[str(root)] = digest.hexdigest()
    return _CODE_SHA[str(root)]


_EXTRACTOR: dict[tuple, object] = {}


def _worker_extractor(spec: ExtractorSpec):
    """The worker process's extractor, built once per rule files *content* (a long-lived ``dask worker``
    whose rule files were edited builds a new one instead of reusing the old dictionaries)."""
    from engine.nlp.extract import Extractor

    key = (spec.actors_path, spec.signals_path, spec.degraded, spec.actors_sha256, spec.signals_sha256)
    if key not in _EXTRACTOR:
        _EXTRACTOR.clear()
        _EXTRACTOR[key] = Extractor(spec.actors_path, spec.signals_path, spec.degraded)
    return _EXTRACTOR[key]


def extract_partition(spec: ExtractorSpec, documents: Sequence) -> dict:
    """Run on a worker: extract one partition; the signals come back as Parquet bytes."""
    import socket

    for path, expected in ((spec.actors_path, spec.actors_sha256), (spec.signals_path, spec.signals_sha256)):
        try:
            found = _sha256(path)
        except OSError as exc:
            raise ExecutorError(f"worker {socket.gethostname()}: cannot read {path} ({exc}); workers need the "
                                "same rule files at the same paths as the client") from None
        if expected and found != expected:
            raise ExecutorError(f"worker {socket.gethostname()}: {path} differs from the client's (sha256 "
                                f"{found[:12]} vs {expected[:12]}); give every worker the same rules")
    if spec.code_sha256 and engine_code_sha256() != spec.code_sha256:
        raise ExecutorError(f"worker {socket.gethostname()}: its engine code differs from the client's; install the "
                            "same engine version (same checkout) on every worker")
    extractor = _worker_extractor(spec)
    extraction = extractor.extract(list(documents))
    buffer = io.BytesIO()
    extraction.signals.to_parquet(buffer, index=False)
    return {"signals": buffer.getvalue(), "unknown": extraction.unknown_actors.to_dict("records"),
            "model": extraction.model, "n_documents": extraction.n_documents,
            "n_sentences": extraction.n_sentences, "n_words": extraction.n_words}


def combine(parts: list[dict], documents: Sequence):
    """The Extraction of a whole input from its partitions' results (given in document order)."""
    from engine.nlp.extract import SignalParts

    models = {p["model"].describe() for p in parts}
    if len(models) > 1:
        raise ExecutorError("workers loaded different spaCy models: " + "; ".join(sorted(models)))
    sink = SignalParts()
    start = 0
    for part in parts:
        doc_ids = [d.id for d in documents[start : start + part["n_documents"]]]
        start += part["n_documents"]
        sink.add_table(pd.read_parquet(io.BytesIO(part["signals"])), part["unknown"], doc_ids,
                       part["n_sentences"], part["n_words"])
    return sink.extraction(parts[0]["model"] if parts else None)


MAX_PARTITION = 200


def partitions(documents: Sequence, n_workers: int, size: int | None = None) -> list[list]:
    """Contiguous partitions: about four per worker (so a slow one does not hold the rest), at most
    ``size`` documents each (default 200)."""
    documents = list(documents)
    if not documents:
        return []
    per = size or min(MAX_PARTITION, max(1, math.ceil(len(documents) / (4 * max(n_workers, 1)))))
    return [documents[i : i + per] for i in range(0, len(documents), per)]


def stream_partitions(documents: Iterable, n_workers: int, size: int | None = None) -> Iterator[list]:
    """``partitions`` of a stream: the first ``4 * n_workers`` full partitions are read ahead, so a small
    input is cut as ``partitions`` cuts it; a larger one goes on in partitions of ``size`` (default 200)."""
    iterator = iter(documents)
    if size:
        while part := list(itertools.islice(iterator, size)):
            yield part
        return
    ahead = list(itertools.islice(iterator, 4 * max(n_workers, 1) * MAX_PARTITION))
    if len(ahead) < 4 * max(n_workers, 1) * MAX_PARTITION:
        yield from partitions(ahead, n_workers)
        return
    yield from partitions(ahead, n_workers, MAX_PARTITION)
    del ahead
    while part := list(itertools.islice(iterator, MAX_PARTITION)):
        yield part


class LocalExecutor:
    """Extraction on this machine (the default): in this process, or in ``n_process`` worker processes."""

    name = "local"

    def __init__(self, spec: ExtractorSpec, *, batch_size: int = 16, n_process: int = 1):
        self.spec = spec
        self.batch_size, self.n_process = batch_size, n_process

    def extract(self, documents: Iterable, *, progress: Callable[[int], None] | None = None,
                parts_dir: str | Path | None = None):
        from engine.nlp.extract import get_extractor

        return get_extractor(self.spec.actors_path, self.spec.signals_path, self.spec.degraded).extract(
            documents, progress=progress, batch_size=self.batch_size, n_process=self.n_process,
            parts_dir=parts_dir)

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class DaskExecutor:
    """Extraction on a Dask cluster: ``scheduler`` is its address, or None for a LocalCluster of
    ``n_workers`` processes with ``threads_per_worker`` threads each (started here, closed by ``close``)."""

    name = "dask"

    def __init__(self, spec: ExtractorSpec, scheduler: str | None = None, *, n_workers: int = 2,
                 threads_per_worker: int = 1, partition_size: int | None = None, client=None):
        from distributed import Client, LocalCluster

        self.spec = spec
        self.partition_size = partition_size
        self._cluster = None
        self._own_client = client is None
        if client is not None:
            self.client = client
        elif scheduler:
            try:
                self.client = Client(scheduler, timeout="20s")
            except (OSError, TimeoutError) as exc:
                raise ExecutorError(f"--scheduler {scheduler}: no Dask scheduler answers there ({exc}); start one "
                                    "with `dask scheduler` (see the README)") from None
        else:
            self._cluster = LocalCluster(n_workers=n_workers, threads_per_worker=threads_per_worker, processes=True,
                                         dashboard_address=None)
            self.client = Client(self._cluster)

    @property
    def n_workers(self) -> int:
        return max(1, len(self.client.scheduler_info(n_workers=-1).get("workers", {})))

    def extract(self, documents: Iterable, *, progress: Callable[[int], None] | None = None,
                parts_dir: str | Path | None = None):
        """The Extraction of the documents (read as they come), partitions in order into ``SignalParts``."""
        from engine.nlp.extract import SignalParts

        n_workers = self.n_workers
        sink = SignalParts(parts_dir)
        models: set[str] = set()
        model = None
        # (future, partition's document ids); at most two partitions per worker wait or run at a time
        pending: collections.deque = collections.deque()

        def take(block: bool) -> None:
            nonlocal model
            while pending and (block or pending[0][0].done()):
                future, doc_ids = pending.popleft()
                try:
                    part = future.result()
                finally:
                    future.release()
                models.add(part["model"].describe())
                if len(models) > 1:
                    raise ExecutorError("workers loaded different spaCy models: " + "; ".join(sorted(models)))
                model = model or part["model"]
                sink.add_table(pd.read_parquet(io.BytesIO(part["signals"])), part["unknown"], doc_ids,
                               part["n_sentences"], part["n_words"])
                if progress:
                    progress(len(doc_ids))
                block = False

        try:
            for part in stream_partitions(documents, n_workers, self.partition_size):
                pending.append((self.client.submit(extract_partition, self.spec, part, pure=False),
                                [d.id for d in part]))
                del part
                while len(pending) > 2 * n_workers:
                    take(block=True)
                take(block=False)
            while pending:
                take(block=True)
        finally:
            for future, _ in pending:
                future.release()
        if model is None:
            return LocalExecutor(self.spec).extract([], progress=progress)
        return sink.extraction(model)

    def close(self) -> None:
        if self._own_client:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def make_executor(name: str, spec: ExtractorSpec, scheduler: str | None = None, **options):
    """``local`` or ``dask`` (``--scheduler`` applies to dask only); ``options`` go to the executor's class."""
    if name == "local":
        if scheduler:
            raise ExecutorError("--scheduler needs --executor dask")
        return LocalExecutor(spec, **options)
    if name == "dask":
        return DaskExecutor(spec, scheduler, **options)
    raise ExecutorError(f"unknown executor {name!r} (local or dask)")
