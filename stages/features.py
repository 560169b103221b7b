"""Stage features@<space>: one feature space's fold data, shared by every theme, family and trial.

No vectoriser is fitted inside a trial. A space fitted per fold (TF-IDF) is fitted once per fold
on that fold's training rows; a fixed space (embeddings) stores the ``embed`` stage's vectors
once and the folds slice them when tuning loads them.
"""

from __future__ import annotations

import argparse
import sys

import joblib

from themetag.atomic import write_with
from themetag.errors import run_cli
from themetag.features.spaces import space_of
from themetag.pipeline import paths
from themetag.pipeline.artifacts import load_embeddings, load_folds, load_texts
from themetag.pipeline.params import load_params


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", required=True)
    name = parser.parse_args(argv).space
    params = load_params()
    space = space_of(params, name)
    fold, _ = load_folds()
    texts = load_texts()
    data = space.fold_data(texts, fold, load_embeddings() if space.encoders() else {})
    write_with(paths.features_file(name), lambda p: joblib.dump(data, p))
    mats = space.fold_matrices(data)
    print(f"features@{name}: {mats.k} folds, {mats.X_train[0].shape[1]} columns ({space.kind})")


if __name__ == "__main__":
    run_cli(lambda: main(sys.argv[1:]))
