"""TF-IDF features, fitted once per fold (on that fold's training rows) and shared.

Every theme, family and trial re-uses these matrices: no vectoriser is fitted inside a trial.
The vectoriser is fitted on the training part of each fold only, so the validation rows'
vocabulary and document frequencies never leak into the models scored on them.
"""

from __future__ import annotations

from dataclasses import dataclass

import joblib
import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from stages import paths
from stages.atomic import write_with
from stages.errors import run_cli
from stages.folds import load_folds
from stages.params import load_params


def make_vectorizer(features: dict) -> TfidfVectorizer:
    return TfidfVectorizer(
        ngram_range=(1, int(features["ngram_max"])),
        min_df=features["min_df"],
        max_df=features["max_df"],
        sublinear_tf=bool(features["sublinear_tf"]),
        max_features=features["max_features"],
        dtype=np.float32,
    )


@dataclass
class FoldMatrices:
    """Per fold k: training rows' and validation rows' matrices, and their row indices."""

    train_idx: list[np.ndarray]
    valid_idx: list[np.ndarray]
    X_train: list[sp.csr_matrix]
    X_valid: list[sp.csr_matrix]

    @property
    def k(self) -> int:
        return len(self.train_idx)


def fold_matrices(texts: list[str], fold: np.ndarray, features: dict) -> FoldMatrices:
    texts_arr = np.asarray(texts, dtype=object)
    out = FoldMatrices([], [], [], [])
    for k in range(int(fold.max()) + 1):
        tr, va = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
        vec = make_vectorizer(features)
        out.train_idx.append(tr)
        out.valid_idx.append(va)
        out.X_train.append(vec.fit_transform(texts_arr[tr]).tocsr())
        out.X_valid.append(vec.transform(texts_arr[va]).tocsr())
    return out


def load_fold_matrices() -> FoldMatrices:
    return FoldMatrices(**joblib.load(paths.FEATURES))


def main() -> None:
    params = load_params()
    texts = pd.read_csv(paths.LABELS, usecols=["text"], keep_default_na=False)["text"].tolist()
    fold, _ = load_folds()
    mats = fold_matrices(texts, fold, params["features"])
    # A plain dict: a pickled dataclass would be bound to ``__main__`` under ``python -m``.
    write_with(paths.FEATURES, lambda p: joblib.dump(vars(mats), p))
    print(f"features: {mats.k} folds, vocabulary sizes {[m.shape[1] for m in mats.X_train]}")


if __name__ == "__main__":
    run_cli(main)
