"""Stage features@<space>: one feature space's fold data, shared by every theme, family and trial.

No vectoriser is fitted inside a trial. A space fitted per fold (TF-IDF) is fitted once per fold
on that fold's training rows; a fixed space (embeddings) stores the ``embed`` stage's vectors
once and the folds slice them when tuning loads them.
"""

from __future__ import annotations

import argparse
import sys

import joblib
import numpy as np
import pandas as pd

from stages import paths
from stages.atomic import write_with
from stages.errors import InputError, run_cli
from stages.folds import load_folds
from stages.params import load_params
from stages.spaces import FoldMatrices, space_of


def load_texts() -> list[str]:
    return pd.read_csv(paths.TEXTS, keep_default_na=False)["text"].tolist()


def load_embeddings() -> np.ndarray | None:
    return np.load(paths.EMBEDDINGS) if paths.EMBEDDINGS.exists() else None


def load_fold_matrices(params: dict, space: str) -> FoldMatrices:
    path = paths.features_file(space)
    if not path.exists():
        raise InputError(f"{path}: missing; run `dvc repro features@{space}` first")
    return space_of(params, space).fold_matrices(joblib.load(path))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", required=True)
    name = parser.parse_args(argv).space
    params = load_params()
    space = space_of(params, name)
    fold, _ = load_folds()
    texts = load_texts()
    data = space.fold_data(texts, fold, load_embeddings() if space.encoders() else None)
    write_with(paths.features_file(name), lambda p: joblib.dump(data, p))
    mats = space.fold_matrices(data)
    print(f"features@{name}: {mats.k} folds, {mats.X_train[0].shape[1]} columns ({space.kind})")


if __name__ == "__main__":
    run_cli(lambda: main(sys.argv[1:]))
