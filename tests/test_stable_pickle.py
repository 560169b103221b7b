"""Fitted models pickle to bytes that depend on the models only."""

from __future__ import annotations

import pickle

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.feature_extraction.text import TfidfVectorizer

from themetag.tagging.stable_pickle import stable

TEXTS = ["the food was cold", "staff were rude", "great food and staff", "slow service", "nice place"] * 8


def padding(tree) -> np.ndarray:
    """The bytes of each node that no field covers."""
    nodes = tree.__getstate__()["nodes"]
    raw = np.frombuffer(nodes.tobytes(), dtype=np.uint8).reshape(len(nodes), nodes.dtype.itemsize)
    covered = np.zeros(nodes.dtype.itemsize, dtype=bool)
    for name in nodes.dtype.names:
        dtype, offset = nodes.dtype.fields[name][:2]
        covered[offset : offset + dtype.itemsize] = True
    return raw[:, ~covered]


def test_tree_padding_is_zeroed_and_predictions_are_unchanged():
    vec = TfidfVectorizer().fit(TEXTS)
    X, y = vec.transform(TEXTS), np.array([1, 0, 1, 0, 0] * 8)
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    before = forest.predict_proba(X)
    assert hasattr(vec, "_stop_words_id")  # a memory address, cached by fit and transform
    bundle = {"vectorizer": vec, "models": [forest]}
    assert stable(bundle) is bundle
    assert not hasattr(vec, "_stop_words_id")
    for tree in forest.estimators_:
        assert padding(tree.tree_).size and not padding(tree.tree_).any()
    np.testing.assert_array_equal(forest.predict_proba(X), before)
    clone = pickle.loads(pickle.dumps(bundle))
    np.testing.assert_array_equal(clone["models"][0].predict_proba(clone["vectorizer"].transform(TEXTS)), before)
