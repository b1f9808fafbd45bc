"""Shared fixtures. Tests that need ../shared skip when it is absent, unless CI demands it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.paths import SHARED_DIR

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
def seed_article_signals(extractor):
    import datetime as dt

    from engine.ingest import read_inputs

    result = read_inputs([shared_path("seeds")], default_date=dt.date(2024, 11, 1))
    assert result.documents and not result.rejected
    return extractor.extract(result.documents).signals
