"""The learned role ranker (engine/nlp/roles.py): what it may change, what it must leave alone, its file."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from engine.errors import ModelFileError
from engine.ingest import Document
from engine.nlp.roles import (
    FEATURES,
    RANKED_BASES,
    THRESHOLD_KEYS,
    candidates,
    choose,
    load_role_ranker,
)
from engine.paths import REPO_ROOT, ROLE_RANKER_FILE

DEV = REPO_ROOT / "tests" / "data" / "articles" / "dev"
pytestmark = pytest.mark.xdist_group("role_ranker")

KITCHEN_RIVALRY = (
    "Ghana and Nigeria renew their old kitchen rivalry\n"
    "ACCRA -- Cooks from Ghana beat the visitors from Lagos in the annual rice contest on Saturday, the organisers "
    "said.\nThe judges in Accra gave the prize to a chef from Kumasi after a long afternoon of tasting.\n"
    "Nigerian supporters answered with a barrage of jokes online, and the two camps promised a rematch next year.")
NIGHT_STRIKES = (
    "Russia's army fired missiles at Kharkiv overnight, Ukrainian officials said.\n"
    "The Kremlin said the strikes hit military sites. Later, drones struck again, the mayor said.")


@pytest.fixture(scope="module")
def rules_only():
    from engine.nlp.extract import Extractor

    return Extractor(role_ranker=None)


def _signals(extractor, text: str) -> list:
    return next(extractor.iter_signals([Document("t", text, None)])).signals


def _country(extractor, code: str) -> str:
    return extractor.actors.country_of(code) or code


# ------------------------------------------------------------------------------------------ the file
def test_committed_ranker_loads_and_its_card_names_file_and_command():
    ranker = load_role_ranker(ROLE_RANKER_FILE)
    assert set(ranker.thresholds) == set(THRESHOLD_KEYS)
    card = ROLE_RANKER_FILE.with_suffix(".md").read_text(encoding="utf-8")
    assert hashlib.sha256(ROLE_RANKER_FILE.read_bytes()).hexdigest() in card  # the card is of this very file
    assert "python -m engine.nlp.role_training --articles tests/data/articles/dev" in card
    assert "frozen" in card and "rules + ranker (out of fold)" in card


def _dump(tmp_path: Path, source, features=FEATURES, name="ranker.skops") -> Path:
    X, y = np.random.default_rng(0).random((20, len(FEATURES))), np.arange(20) % 2
    target = Pipeline([("logit", LogisticRegression())]).fit(X, y)
    path = tmp_path / name
    sio.dump({"source": source.fit(X, y), "target": target, "thresholds": dict.fromkeys(THRESHOLD_KEYS, 0.5),
              "features": list(features)}, path)
    return path


def test_fast_probabilities_are_the_scorers_own():
    ranker = load_role_ranker(ROLE_RANKER_FILE)
    matrix = np.random.default_rng(1).integers(0, 2, (30, len(FEATURES))).astype(float)
    for role in ("source", "target"):
        expected = ranker.scorer(role).predict_proba(matrix)[:, 1]
        np.testing.assert_allclose(ranker.probabilities(role, matrix), expected, rtol=1e-9, atol=1e-12)


def test_a_ranker_file_with_types_off_the_list_is_refused(tmp_path):
    sneaky = Pipeline([("f", FunctionTransformer(np.negative)), ("d", DummyClassifier())])
    with pytest.raises(ModelFileError, match="not on the allow-list") as exc:
        load_role_ranker(_dump(tmp_path, sneaky))
    assert "FunctionTransformer" in str(exc.value) and "DummyClassifier" in str(exc.value)


def test_a_ranker_trained_on_other_features_is_refused(tmp_path):
    renamed = ["x"] + list(FEATURES[1:])
    with pytest.raises(ModelFileError, match="retrain it with `make train-roles`"):
        load_role_ranker(_dump(tmp_path, Pipeline([("logit", LogisticRegression())]), features=renamed))
    assert load_role_ranker(_dump(tmp_path, Pipeline([("logit", LogisticRegression())]), name="ok.skops"))


def test_a_missing_ranker_file_says_how_to_make_it(tmp_path):
    with pytest.raises(ModelFileError, match="make train-roles"):
        load_role_ranker(tmp_path / "absent.skops")


# ------------------------------------------------------------------------------------------ behaviour
def test_roles_read_from_the_text_are_never_changed(extractor, rules_only):
    """On real dev articles: a role the parse or a reference gave is the same with and without the ranker,
    and a role the ranker set was one the rules had guessed or left empty."""
    from engine.evaluation import load_articles

    articles, _ = load_articles(DEV)
    documents = [Document(a.id, a.text, a.date, title=a.title) for a in articles[:12]]
    changed = 0
    for ranked, ruled in zip(extractor.iter_signals(documents), rules_only.iter_signals(documents), strict=True):
        by_place = {}
        for s in ruled.signals:
            by_place.setdefault((s.start_char, s.signal), []).append(s)
        for s in ranked.signals:
            before = by_place[(s.start_char, s.signal)]
            for role in ("source", "target"):
                basis = getattr(s, f"{role}_basis")
                if basis in ("parse", "reference"):
                    assert getattr(s, role) in {getattr(b, role) for b in before}
                elif basis == "ranked":
                    changed += 1
                    assert {getattr(b, f"{role}_basis") for b in before} <= RANKED_BASES
    assert changed >= 5  # the ranker did work on these articles


def test_even_an_eager_ranker_leaves_parsed_roles_alone(extractor, rules_only):
    """With every threshold at 0 the ranker changes any role whose best candidate is not the rules' choice,
    yet never one the parse or a reference gave."""
    from engine.evaluation import load_articles

    eager = dataclasses.replace(extractor.nlp.get_pipe("escalation_roles").ranker,
                                thresholds=dict.fromkeys(THRESHOLD_KEYS, 0.0))
    articles, _ = load_articles(DEV)
    changed = set()
    for doc in rules_only.nlp.pipe(a.text for a in articles[:6]):
        for sig, roles in zip(doc._.signals, candidates(doc, doc._.signals, rules_only.actors), strict=True):
            current = {r: (getattr(sig, r), getattr(sig, f"{r}_basis")) for r in ("source", "target")}
            changed |= {current[r][1] for r in choose(roles, current, eager, rules_only.actors, sig.signal, True)}
    assert changed and not changed & {"parse", "reference"}


def test_an_unnamed_attack_gets_the_sides_of_the_story(extractor, rules_only):
    """"Later, drones struck again": no actor in the sentence; the rules leave it open, the ranker takes
    the sides the document is about, marked ``ranked`` and at a confidence below a parsed pair's."""
    ruled = _signals(rules_only, NIGHT_STRIKES)[-1]
    assert (ruled.source, ruled.target) == ("", "")
    ranked = _signals(extractor, NIGHT_STRIKES)[-1]
    assert (ranked.source_basis, ranked.target_basis) == ("ranked", "ranked")
    assert (_country(extractor, ranked.source), _country(extractor, ranked.target)) == ("RUS", "UKR")
    assert ranked.confidence < _signals(extractor, NIGHT_STRIKES)[0].confidence


@pytest.mark.parametrize("text,expected", [
    # the rules leave the target open; the ranker names the side the story is about
    ("Zelensky: Russia will get an answer every time it hits the ports",
     {("UKRGOV", "THREATEN", "RUS"), ("RUS", "ATTACK", "UKRGOV")}),
    # what it may not do: allies acting together are not each other's target ...
    ("South Korea and the United States staged a joint air drill on Monday.",
     {("KOR", "MOBILIZE", ""), ("USA", "MOBILIZE", "")}),
    # ... an actor named only in the source's description is not the target ...
    ("Oman, which has mediated between the Houthis and Saudi Arabia, called for restraint.",
     {("OMN", "DEESCALATE", "YEMHTH"), ("OMN", "DEESCALATE", "SAU"), ("OMN", "DEMAND", "")}),
])
def test_what_the_ranker_may_and_may_not_name(extractor, text, expected):
    assert {(s.source, s.signal, s.target) for s in _signals(extractor, text)} == expected


def test_a_place_is_never_made_a_source(extractor):
    found = _signals(extractor, "Hezbollah fired rockets at Haifa on Tuesday. In Basra, rockets hit a U.S. base.")
    assert "IRQ" not in {s.source for s in found}  # where it happened did not do it


def test_no_hostile_pair_is_made_in_a_story_without_one(extractor, rules_only):
    """A food contest with "a barrage of jokes": the rules give Nigeria an ATTACK with no target and no
    hostile pair anywhere, so the ranker, which would name Ghana, is not asked."""
    assert [(s.source, s.signal, s.target) for s in _signals(extractor, KITCHEN_RIVALRY)] == [("NGA", "ATTACK", "")]
    nlp = rules_only.nlp
    doc = nlp(KITCHEN_RIVALRY)  # the rules' reading, then what the ranker would say if it were asked
    sig = doc._.signals[0]
    roles = candidates(doc, doc._.signals, rules_only.actors)[0]
    current = {"source": (sig.source, sig.source_basis), "target": (sig.target, sig.target_basis)}
    ranker = extractor.nlp.get_pipe("escalation_roles").ranker
    assert "target" in choose(roles, current, ranker, rules_only.actors, sig.signal, hostile=True)
    assert choose(roles, current, ranker, rules_only.actors, sig.signal, hostile=False) == {}


def test_the_run_names_the_ranker_it_used(extractor, rules_only):
    assert "role ranker role-ranker.skops (sha256 " in extractor.model.describe()
    assert "role ranker" not in rules_only.model.describe()


# ------------------------------------------------------------------------------------------ training
def test_training_writes_a_ranker_the_engine_loads(ten_dev_articles, tmp_path, capsys):
    from engine.nlp.role_training import main

    out = tmp_path / "ranker.skops"
    assert main(["--articles", str(ten_dev_articles), "--out", str(out)]) == 0
    ranker = load_role_ranker(out)
    assert all(0 < v <= 1.1 for v in ranker.thresholds.values())
    card = out.with_suffix(".md").read_text(encoding="utf-8")
    assert "(10\n  articles" in card and hashlib.sha256(out.read_bytes()).hexdigest() in card
    assert "cross-validated dyad accuracy" in capsys.readouterr().out


def test_training_on_a_folder_that_is_not_there_says_so(tmp_path, capsys):
    from engine.nlp.role_training import main

    assert main(["--articles", str(tmp_path / "nowhere")]) == 2
    assert "not a folder of labelled articles" in capsys.readouterr().err


def test_explain_shows_how_each_actor_was_found_and_the_trained_files():
    from typer.testing import CliRunner

    from engine.cli import app

    result = CliRunner().invoke(app, ["explain", NIGHT_STRIKES], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "(ranked)" in result.output  # the ranker's actors say so
    assert "role ranker role-ranker.skops (sha256 " in result.output
    assert "sentence types sentence-types.skops (sha256 " in result.output
