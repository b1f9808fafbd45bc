"""Where extraction runs: in this process (``local``) or on a Dask cluster (``dask``).

``--executor dask`` maps extraction over contiguous partitions of the input's documents on Dask
workers (``distributed``): each worker process builds the spaCy pipeline once (cached per process and
rule-file content) and returns each partition's signals as a Parquet part; the parts are read back
and concatenated in document order, so the signals table is the one a local run makes (signal ids
depend on the document and its sentences only). Rules and scoring then run here as in a local run.

``--scheduler ADDRESS`` (``tcp://host:8786``) uses a running cluster; without it a ``LocalCluster``
of ``n_workers`` processes (default 2, one thread each) is started for the run and stopped after it.
Workers need the same engine version and the same rule files at the same paths (a checkout at the
same path or a shared folder): each task checks the sha256 of the actor dictionary and the signal
lexicon, and of the engine's extraction code, against the client's and fails with a clear error
when they differ. Every worker must load the same spaCy model (checked on the partitions' results).
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Callable, Sequence
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
    from engine.nlp.extract import Extraction
    from engine.schemas import SignalsTable, empty_frame, validate

    frames = [pd.read_parquet(io.BytesIO(p["signals"])) for p in parts]
    frames = [f for f in frames if len(f)]
    signals = validate(SignalsTable, pd.concat(frames, ignore_index=True), "signals") if frames else \
        empty_frame(SignalsTable)
    models = {p["model"].describe() for p in parts}
    if len(models) > 1:
        raise ExecutorError("workers loaded different spaCy models: " + "; ".join(sorted(models)))
    # unknown actors: counts summed; order as a local run's (most frequent first, ties in order of first sight)
    position = {d.id: i for i, d in enumerate(documents)}
    merged: dict[tuple[str, str], dict] = {}
    order = 0
    for part in parts:
        for row in part["unknown"]:
            key = (row["text"], row["label"])
            if key in merged:
                merged[key]["count"] += int(row["count"])
            else:
                merged[key] = {"text": row["text"], "label": row["label"], "count": int(row["count"]),
                               "example_doc": row["example_doc"], "_first": (position.get(row["example_doc"], 0), order)}
                order += 1
    rows = sorted(merged.values(), key=lambda r: (-r["count"], r["_first"]))
    unknown = pd.DataFrame([{k: v for k, v in r.items() if k != "_first"} for r in rows],
                           columns=["text", "label", "count", "example_doc"])
    model = parts[0]["model"] if parts else None
    return Extraction(signals=signals, unknown_actors=unknown, model=model,
                      n_documents=sum(p["n_documents"] for p in parts),
                      n_sentences=sum(p["n_sentences"] for p in parts), n_words=sum(p["n_words"] for p in parts))


def partitions(documents: Sequence, n_workers: int, size: int | None = None) -> list[list]:
    """Contiguous partitions: about four per worker (so a slow one does not hold the rest), at most
    ``size`` documents each (default 200)."""
    documents = list(documents)
    if not documents:
        return []
    per = size or min(200, max(1, math.ceil(len(documents) / (4 * max(n_workers, 1)))))
    return [documents[i : i + per] for i in range(0, len(documents), per)]


class LocalExecutor:
    """Extraction in this process (the default)."""

    name = "local"

    def __init__(self, spec: ExtractorSpec):
        self.spec = spec

    def extract(self, documents: Sequence, *, progress: Callable[[int], None] | None = None):
        from engine.nlp.extract import get_extractor

        return get_extractor(self.spec.actors_path, self.spec.signals_path, self.spec.degraded).extract(
            list(documents), progress=progress)

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

    def extract(self, documents: Sequence, *, progress: Callable[[int], None] | None = None):
        from distributed import as_completed

        documents = list(documents)
        parts = partitions(documents, self.n_workers, self.partition_size)
        if not parts:
            return LocalExecutor(self.spec).extract([], progress=progress)
        futures = [self.client.submit(extract_partition, self.spec, part, pure=False) for part in parts]
        index = {f.key: i for i, f in enumerate(futures)}
        results: list[dict | None] = [None] * len(parts)
        try:
            for future in as_completed(futures):
                i = index[future.key]
                results[i] = future.result()
                if progress:
                    progress(len(parts[i]))
        finally:
            for future in futures:
                future.release()
        return combine(results, documents)

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
    """``local`` or ``dask`` (``--scheduler`` applies to dask only)."""
    if name == "local":
        if scheduler:
            raise ExecutorError("--scheduler needs --executor dask")
        return LocalExecutor(spec)
    if name == "dask":
        return DaskExecutor(spec, scheduler, **options)
    raise ExecutorError(f"unknown executor {name!r} (local or dask)")
