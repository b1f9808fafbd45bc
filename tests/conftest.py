"""Shared fixtures. Tests that need ../shared skip when it is absent, unless CI demands it."""

from __future__ import annotations

import os
from pathlib import Path

# One thread per thread pool in the test processes (and the workers and commands they start), set
# before numpy, scipy or scikit-learn load their OpenBLAS and OpenMP pools: with two pools of two
# threads each on a 2-core machine that other work shares, the threads spin-wait for each other
# (measured: training on ICEWS18 took 3x the CPU time and wall time). Results do not depend on it.
for _pool in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_pool, "1")

import pytest  # noqa: E402

from engine.paths import SHARED_DIR  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def shared_path(*parts: str) -> Path:
    """Path inside ../shared; skips the test (or fails it under ESCALATION_REQUIRE_SHARED=1) if absent."""
    path = SHARED_DIR.joinpath(*parts)
    if not path.exists():
        message = f"{path} is absent: this test needs the shared data beside the repository"
        if os.environ.get("ESCALATION_REQUIRE_SHARED") == "1":
            pytest.fail(message + " (ESCALATION_REQUIRE_SHARED=1)")
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def extractor():
    from engine.nlp.extract import get_extractor

    return get_extractor()


@pytest.fixture(scope="session")
def rules_extractor():
    """The extractor without its trained components (sentence-type backstop, role ranker): the rules alone,
    for tests of what the rules decide."""
    from engine.nlp.extract import Extractor

    return Extractor(role_ranker=None, sentence_types=None)


@pytest.fixture
def ten_dev_articles(tmp_path):
    """A folder with the first ten labelled dev articles (a-d), to train a learned component on quickly."""
    import shutil

    dev = Path(__file__).parent / "data" / "articles" / "dev"
    folder = tmp_path / "articles"
    folder.mkdir()
    for meta in sorted(dev.glob("[abcd]*.yaml"))[:10]:
        shutil.copy(meta, folder)
        shutil.copy(meta.with_suffix(".txt"), folder)
    return folder


@pytest.fixture(scope="session")
def seed_article_signals(extractor):
    import datetime as dt

    from engine.ingest import read_inputs

    result = read_inputs([shared_path("seeds")], default_date=dt.date(2024, 11, 1))
    assert result.documents and not result.rejected
    return extractor.extract(result.documents).signals


# --------------------------------------------------------------------------- shared, read-only results
# Built once per session and shared by every module that needs them: tests must not modify them
# (copy a table before changing it).
@pytest.fixture(scope="session")
def scorer():
    """A Scorer with the shipped configuration."""
    from engine.scoring import Scorer

    return Scorer()


@pytest.fixture(scope="session")
def seed_result(scorer):
    """The shipped seeds (``seeds/``) scored with the shipped configuration."""
    from engine.ingest import read_inputs

    return scorer.score([], ingest=read_inputs([REPO / "seeds"]))


@pytest.fixture(scope="session")
def icews18_run():
    """What `escalation train` runs on ICEWS18 (the weekly model, its evaluation and volume checks),
    without the spread of the thinning check over other random draws (the card's range only)."""
    from engine.model.pipeline import train_and_evaluate

    return train_and_evaluate(shared_path("data", "events", "icews18_full.csv.gz"), spread=False)
