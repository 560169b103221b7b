"""Featurizers: a space fitted on a model's training rows, as the bundle applies it to new texts.

``fit_featurizer`` fits one per space kind (``themetag/features/spaces.py``, ``KINDS``): a TF-IDF
vectoriser fitted on the rows, the sentence encoder (nothing to fit), or the parts side by side.
Featurizers share one transform per chunk through a cache keyed by their settings, so TF-IDF runs
once and the encoder once per chunk, whichever spaces and bag members use them. Tuning never
needs these (it reads the ``features@`` stages' matrices), which is why they live apart from the
spaces: an edit to the encoder reruns the stages that encode, not the tuning.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from themetag.features.encoder import Encoder
from themetag.features.spaces import ConcatSpace, EmbeddingSpace, Space, TfidfSpace, encoder_key, make_vectorizer
from themetag.fingerprint import fingerprint


class FittedTfidf:
    def __init__(self, key: str, vectorizer: TfidfVectorizer):
        self.key, self.vectorizer = key, vectorizer

    def transform(self, texts: list[str], cache: dict) -> sp.csr_matrix:
        if self.key not in cache:
            cache[self.key] = self.vectorizer.transform(texts).tocsr()
        return cache[self.key]


class FittedEncoder:
    def __init__(self, key: str, encoder: Encoder):
        self.key, self.encoder = key, encoder

    def transform(self, texts: list[str], cache: dict) -> np.ndarray:
        if self.key not in cache:
            cache[self.key] = self.encoder.encode(texts)
        return cache[self.key]


class FittedConcat:
    def __init__(self, parts: list):
        self.parts = parts

    def transform(self, texts: list[str], cache: dict) -> sp.csr_matrix:
        return sp.hstack([sp.csr_matrix(p.transform(texts, cache)) for p in self.parts], format="csr")


def leaves(featurizer: Any):
    """The featurizer and, for a concatenation, its parts, recursively."""
    yield featurizer
    for part in getattr(featurizer, "parts", []):
        yield from leaves(part)


def _fit_tfidf(space: TfidfSpace, texts: list[str], fitted: dict, tag: str) -> FittedTfidf:
    key = f"tfidf:{fingerprint(space.conf)}{tag}"
    if key not in fitted:
        fitted[key] = FittedTfidf(key, make_vectorizer(space.conf).fit(texts))
    return fitted[key]


def _fit_encoder(space: EmbeddingSpace, texts: list[str], fitted: dict, tag: str) -> FittedEncoder:
    key = encoder_key(space.conf)  # nothing to fit, so one encoder serves every tag
    if key not in fitted:
        fitted[key] = FittedEncoder(key, Encoder.from_conf(space.conf))
    return fitted[key]


def _fit_concat(space: ConcatSpace, texts: list[str], fitted: dict, tag: str) -> FittedConcat:
    return FittedConcat([fit_featurizer(p, texts, fitted, tag) for p in space.parts])


FIT: dict[str, Callable[..., Any]] = {"tfidf": _fit_tfidf, "embeddings": _fit_encoder, "concat": _fit_concat}


def fit_featurizer(space: Space, texts: list[str], fitted: dict[str, Any], tag: str = "") -> Any:
    """A featurizer of ``space`` fitted on ``texts``; ``fitted`` holds those already fitted, by settings.

    ``tag`` names the rows it is fitted on (a fold, or all): two spaces that share a part
    fitted on the same rows share one featurizer, so it runs once per chunk."""
    return FIT[space.kind](space, texts, fitted, tag)
