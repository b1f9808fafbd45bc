"""The learned sentence-type backstop (engine/nlp/sentence_types.py): where it reads, what it adds, its file."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import skops.io as sio
from sklearn.dummy import DummyClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline

from engine.errors import ModelFileError
from engine.ingest import Document
from engine.nlp.sentence_types import load_sentence_types, term_span
from engine.paths import SENTENCE_TYPES_FILE
from engine.schemas import SIGNAL_TYPES

pytestmark = pytest.mark.xdist_group("sentence_types")

# a title-case headline: the parser reads "Strike" as part of a name, so no trigger matches
HEADLINE_STORY = ("U.S. Forces Strike Militia Weapons Depots in Eastern Syria\n\n"
                  "WASHINGTON (AP) -- U.S. warplanes struck two weapons depots used by Iran-backed militias in "
                  "eastern Syria on Sunday, the Pentagon said.")


def _signals(extractor, text: str) -> list:
    return next(extractor.iter_signals([Document("t", text, None)])).signals


def test_committed_classifier_loads_and_its_card_names_file_and_command():
    classifier = load_sentence_types(SENTENCE_TYPES_FILE)
    assert set(classifier.thresholds) == set(SIGNAL_TYPES)
    card = SENTENCE_TYPES_FILE.with_suffix(".md").read_text(encoding="utf-8")
    assert hashlib.sha256(SENTENCE_TYPES_FILE.read_bytes()).hexdigest() in card
    assert "python -m engine.nlp.type_training --articles tests/data/articles/dev" in card


def test_fast_probabilities_are_the_pipelines_own():
    classifier = load_sentence_types(SENTENCE_TYPES_FILE)
    texts = ["Iran warned Israel on Monday.", "The striker scored twice.", "Troops massed on the border."]
    expected = np.column_stack([p[:, 1] for p in classifier.model.predict_proba(texts)])
    np.testing.assert_allclose(classifier.probabilities(texts), expected, rtol=1e-9, atol=1e-12)


def test_a_file_with_types_off_the_list_is_refused(tmp_path):
    model = Pipeline([("words", TfidfVectorizer()), ("types", DummyClassifier())]).fit(["aa bb", "cc dd"], [0, 1])
    path = tmp_path / "sneaky.skops"
    sio.dump({"model": model, "thresholds": dict.fromkeys(SIGNAL_TYPES, 0.9), "types": list(SIGNAL_TYPES)}, path)
    with pytest.raises(ModelFileError, match="DummyClassifier"):
        load_sentence_types(path)


def test_a_sentence_no_trigger_reads_gets_a_learned_signal_with_its_evidence(extractor, rules_extractor):
    assert [s.sent_index for s in _signals(rules_extractor, HEADLINE_STORY)] == [2]  # the body only
    learned = [s for s in _signals(extractor, HEADLINE_STORY) if s.pattern_id.startswith("learned-")]
    assert [(s.signal, s.sent_index, s.trigger) for s in learned] == [("ATTACK", 0, "Strike")]
    assert learned[0].cameo == "19" and learned[0].confidence < 0.5


def test_where_a_trigger_matched_the_rules_decide(extractor):
    """A collapsed truce is no de-escalation: the rules matched "ceasefire" and turned it down, and the
    classifier, which reads the word "ceasefire", is not asked."""
    found = _signals(extractor, "The ceasefire between Israel and Hezbollah collapsed on Sunday.")
    assert not [s for s in found if s.signal == "DEESCALATE"]


def test_term_span_finds_a_word_pair_across_punctuation(extractor):
    doc = extractor.nlp("Tehran warned, again, that it would respond.")
    sent = next(doc.sents)
    assert term_span(sent, "warned").text == "warned"
    assert term_span(sent, "warned again").text == "warned, again"


def test_training_writes_a_classifier_the_engine_loads(ten_dev_articles, tmp_path, capsys):
    from engine.nlp.type_training import main

    out = tmp_path / "types.skops"
    assert main(["--articles", str(ten_dev_articles), "--out", str(out)]) == 0
    classifier = load_sentence_types(out)
    assert all(0.5 <= v <= 1.1 for v in classifier.thresholds.values())
    assert "| macro |" in out.with_suffix(".md").read_text(encoding="utf-8")
    assert "cross-validated sentence F1" in capsys.readouterr().out
