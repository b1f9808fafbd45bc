"""The classifier loader: every type in the file is checked against our allow-list (skops' own default-trusted
types included), and the model must take exactly the engine's features."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from engine.errors import ModelFileError
from engine.model.features import FEATURES
from engine.model.train import load_model, model_file_types
from engine.scoring import MODEL_FILE

RNG = np.random.default_rng(0)


def _xy(n_features: int = len(FEATURES), names=FEATURES):
    X = pd.DataFrame(RNG.random((40, n_features)), columns=list(names)[:n_features])
    return X, np.arange(40) % 2


def test_committed_model_loads_and_scores():
    model = load_model(MODEL_FILE)
    X, _ = _xy()
    p = model.predict_proba(X)[:, 1]
    assert p.shape == (40,) and ((0 <= p) & (p <= 1)).all()


def test_default_trusted_types_are_refused_unless_on_our_list(tmp_path):
    """skops trusts FunctionTransformer, DummyClassifier and numpy functions by default; we do not."""
    X, y = _xy()
    path = tmp_path / "sneaky.skops"
    sio.dump(Pipeline([("f", FunctionTransformer(np.negative)), ("d", DummyClassifier())]).fit(X, y), path)
    assert sio.get_untrusted_types(file=path) == []  # skops alone would load it without a word
    with pytest.raises(ModelFileError, match="not on the allow-list") as exc:
        load_model(path)
    for name in ("FunctionTransformer", "numpy.negative", "DummyClassifier"):
        assert name in str(exc.value)


def test_dummy_classifier_alone_is_refused(tmp_path):
    X, y = _xy()
    path = tmp_path / "dummy.skops"
    sio.dump(DummyClassifier(strategy="constant", constant=1).fit(X, y), path)
    with pytest.raises(ModelFileError, match="sklearn.dummy.DummyClassifier"):
        load_model(path)


def test_wrong_feature_count_is_refused_at_load(tmp_path):
    X, y = _xy(5)
    path = tmp_path / "five.skops"
    sio.dump(Pipeline([("scale", StandardScaler()), ("logit", LogisticRegression())]).fit(X, y), path)
    with pytest.raises(ModelFileError, match=f"takes 5 features, the engine computes {len(FEATURES)}"):
        load_model(path)


def test_wrong_feature_names_are_refused_at_load(tmp_path):
    X, y = _xy(names=[f"x{i}" for i in range(len(FEATURES))])
    path = tmp_path / "renamed.skops"
    sio.dump(Pipeline([("scale", StandardScaler()), ("logit", LogisticRegression())]).fit(X, y), path)
    with pytest.raises(ModelFileError, match="features are not the engine's"):
        load_model(path)


def test_allowed_shape_with_our_features_loads(tmp_path):
    X, y = _xy()
    path = tmp_path / "plain.skops"
    sio.dump(Pipeline([("scale", StandardScaler()), ("logit", LogisticRegression())]).fit(X, y), path)
    assert load_model(path).predict_proba(X).shape == (40, 2)


def test_type_list_covers_the_whole_schema(tmp_path):
    """A type hidden deep in the schema (here edited in by hand) is found and refused."""
    with zipfile.ZipFile(MODEL_FILE) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    schema = json.loads(members["schema.json"])
    schema["content"]["content"]["__hidden__"] = {"__class__": "system", "__module__": "os",
                                                   "__loader__": "FunctionNode", "__id__": 1}
    members["schema.json"] = json.dumps(schema).encode()
    path = tmp_path / "edited.skops"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    assert "os.system" in model_file_types(path)
    with pytest.raises(ModelFileError, match="os.system"):
        load_model(path)


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 truncated zip", b"\x80\x04\x95 a pickle"])
def test_unreadable_files_are_a_clear_error(tmp_path, content):
    path = tmp_path / "model.skops"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match="not a readable skops model file"):
        load_model(path)
