"""Feature spaces: how texts become the matrix a model is fitted on.

A space is one YAML file in ``conf/features/`` (composed at ``features.<name>``, with a
``kind``) plus one small class here, registered in ``KINDS``. Each class declares:

* ``per_fold``: fitted on each fold's training rows (TF-IDF), or fixed (a pretrained encoder,
  which has nothing to fit, so every text is encoded once and the folds slice that matrix);
* ``sparse``: whether its matrix is sparse;
* ``non_negative``: whether every value is >= 0 (naive Bayes and chi2 selection need it).

Each class does two jobs: ``fold_data`` (what the ``features`` stage stores per space, as
compactly as the space allows) and ``fold_matrices`` (that data as per-fold training and
validation matrices, for tuning). What the bundle tags with, a featurizer fitted on the model's
training rows, is ``themetag/features/featurizers.py``: tuning never runs the encoder, so this
module does not import it, and an edit to the encoder reruns only the stages that encode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import scipy.sparse as sp

from themetag.errors import InputError
from themetag.fingerprint import fingerprint

if TYPE_CHECKING:  # imported where a vectorizer is made: a stage that only reads the config starts faster
    from sklearn.feature_extraction.text import TfidfVectorizer


@dataclass
class FoldMatrices:
    """Per fold k: training rows' and validation rows' matrices, and their row indices."""

    train_idx: list[np.ndarray]
    valid_idx: list[np.ndarray]
    X_train: list[Any]
    X_valid: list[Any]

    @property
    def k(self) -> int:
        return len(self.train_idx)


def fold_indices(fold: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    ks = range(int(fold.max()) + 1)
    return [np.flatnonzero(fold != k) for k in ks], [np.flatnonzero(fold == k) for k in ks]


class Space:
    kind: ClassVar[str]
    per_fold: ClassVar[bool]
    sparse: ClassVar[bool]
    non_negative: ClassVar[bool]

    def __init__(self, name: str, conf: dict):
        self.name, self.conf = name, conf

    def fold_data(self, texts: list[str], fold: np.ndarray, embeddings: dict[str, np.ndarray]) -> dict:
        """``embeddings``: the ``embed`` stage's vectors of ``texts``, by ``encoder_key``."""
        raise NotImplementedError

    def fold_matrices(self, data: dict) -> FoldMatrices:
        raise NotImplementedError

    def encoders(self) -> list[dict]:
        """Settings of the pretrained encoders this space needs (the ``embed`` stage runs them)."""
        return []


# ---- TF-IDF: fitted per fold ----------------------------------------------------------------


def make_vectorizer(conf: dict) -> TfidfVectorizer:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        ngram_range=(1, int(conf["ngram_max"])),
        min_df=conf["min_df"],
        max_df=conf["max_df"],
        sublinear_tf=bool(conf["sublinear_tf"]),
        max_features=conf["max_features"],
        dtype=np.float32,
    )


class TfidfSpace(Space):
    """Word n-gram TF-IDF. Fitted on each fold's training rows only, so the validation rows'
    vocabulary and document frequencies never leak into the models scored on them."""

    kind, per_fold, sparse, non_negative = "tfidf", True, True, True

    def fold_data(self, texts, fold, embeddings):
        arr = np.asarray(texts, dtype=object)
        train_idx, valid_idx = fold_indices(fold)
        X_train, X_valid = [], []
        for tr, va in zip(train_idx, valid_idx, strict=True):
            vec = make_vectorizer(self.conf)
            X_train.append(vec.fit_transform(arr[tr]).tocsr())
            X_valid.append(vec.transform(arr[va]).tocsr())
        return {"train_idx": train_idx, "valid_idx": valid_idx, "X_train": X_train, "X_valid": X_valid}

    def fold_matrices(self, data):
        return FoldMatrices(data["train_idx"], data["valid_idx"], data["X_train"], data["X_valid"])


# ---- sentence embeddings: fixed -------------------------------------------------------------


def encoder_settings(conf: dict) -> dict:
    """The settings that change the vectors (the batch size and device do not change them)."""
    return {"model": conf["model"], "max_tokens": conf["max_tokens"]}


def encoder_key(conf: dict) -> str:
    """One encoder's name among the ``embed`` stage's outputs and in a chunk's transform cache:
    spaces with the same model and length share it, so each text is encoded once per encoder."""
    return "embeddings:" + fingerprint(encoder_settings(conf))


class EmbeddingSpace(Space):
    """A pretrained sentence encoder's vectors (``themetag/features/encoder.py``). Nothing is fitted, so
    the ``embed`` stage encodes each training text once and every fold slices that matrix."""

    kind, per_fold, sparse, non_negative = "embeddings", False, False, False

    def encoders(self):
        return [self.conf]

    def fold_data(self, texts, fold, embeddings):
        vectors = embeddings.get(encoder_key(self.conf))
        if vectors is None or len(vectors) != len(texts):
            raise InputError(
                f"artifacts/embeddings/: no up-to-date vectors from {self.conf['model']}; run `dvc repro embed`"
            )
        return {"fold": fold, "vectors": vectors}

    def fold_matrices(self, data):
        E = data["vectors"]
        train_idx, valid_idx = fold_indices(data["fold"])
        return FoldMatrices(train_idx, valid_idx, [E[i] for i in train_idx], [E[i] for i in valid_idx])


# ---- two or more spaces side by side ---------------------------------------------------------


class ConcatSpace(Space):
    """The columns of its ``parts`` side by side (e.g. TF-IDF next to embeddings). Both halves
    are rows of unit length, so neither drowns the other. The parts' settings are copied into
    this space's config by interpolation, so a change to a part reruns this space too."""

    kind, per_fold, sparse = "concat", True, True

    def __init__(self, name, conf):
        super().__init__(name, conf)
        parts = conf.get("parts") or {}
        if not parts:
            raise InputError(f"conf/features/{name}.yaml: a concat space needs parts, e.g. parts: {{tfidf: ...}}")
        self.parts = [make_space(f"{name}.{part}", part_conf) for part, part_conf in parts.items()]

    @property
    def non_negative(self) -> bool:  # type: ignore[override]
        return all(p.non_negative for p in self.parts)

    def encoders(self):
        return [e for p in self.parts for e in p.encoders()]

    def fold_data(self, texts, fold, embeddings):
        return {"parts": [p.fold_data(texts, fold, embeddings) for p in self.parts]}

    def fold_matrices(self, data):
        mats = [p.fold_matrices(d) for p, d in zip(self.parts, data["parts"], strict=True)]

        def side_by_side(blocks):
            return sp.hstack([sp.csr_matrix(b) for b in blocks], format="csr")

        first = mats[0]
        return FoldMatrices(
            first.train_idx,
            first.valid_idx,
            [side_by_side([m.X_train[k] for m in mats]) for k in range(first.k)],
            [side_by_side([m.X_valid[k] for m in mats]) for k in range(first.k)],
        )


KINDS: dict[str, type[Space]] = {cls.kind: cls for cls in (TfidfSpace, EmbeddingSpace, ConcatSpace)}


def make_space(name: str, conf: dict) -> Space:
    kind = (conf or {}).get("kind")
    if kind not in KINDS:
        raise InputError(f"conf/features/{name}.yaml: kind={kind!r}; use one of {sorted(KINDS)}")
    return KINDS[kind](name, conf)


def space_of(params: dict, name: str) -> Space:
    if name not in params.get("features", {}):
        raise InputError(
            f"models.spaces lists {name!r}, but conf/features/{name}.yaml is not composed; add the file and "
            f"a `features@features.{name}: {name}` line to conf/config.yaml's defaults"
        )
    return make_space(name, params["features"][name])


def needs_encoders(params: dict) -> list[dict]:
    """The settings of each distinct encoder the listed spaces use (by ``encoder_key``), in order."""
    found: dict[str, dict] = {}
    for name in params["models"]["spaces"]:
        for conf in space_of(params, name).encoders():
            found.setdefault(encoder_key(conf), conf)
    return list(found.values())


def load_fold_matrices(params: dict, space: str) -> FoldMatrices:
    """A space's fold matrices from the ``features`` stage's file for it."""
    import joblib

    from themetag.pipeline import paths

    path = paths.features_file(space)
    if not path.exists():
        raise InputError(f"{path}: missing; run `dvc repro features` first")
    return space_of(params, space).fold_matrices(joblib.load(path))
