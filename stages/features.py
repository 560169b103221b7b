"""Stage features: each feature space's fold data, shared by every theme, family and trial.

No vectoriser is fitted inside a trial. A space fitted per fold (TF-IDF) is fitted once per fold
on that fold's training rows; a fixed space (embeddings) stores the ``embed`` stage's vectors
once and the folds slice them when tuning loads them. One process writes every space in
``models.spaces`` (one file each): a space whose file comes out unchanged reruns nothing after
it, so an edit to one space's settings still retunes that space alone.
"""

from __future__ import annotations

import shutil

import joblib

from themetag.atomic import write_with
from themetag.errors import run_cli
from themetag.features.spaces import space_of
from themetag.pipeline import paths
from themetag.pipeline.artifacts import load_embeddings, load_folds, load_texts
from themetag.pipeline.params import load_params


def main() -> None:
    params = load_params()
    fold, _ = load_folds()
    texts = load_texts()
    spaces = [space_of(params, name) for name in params["models"]["spaces"]]
    vectors = load_embeddings() if any(space.encoders() for space in spaces) else {}
    shutil.rmtree(paths.FEATURES_DIR, ignore_errors=True)
    paths.FEATURES_DIR.mkdir(parents=True)
    for name, space in zip(params["models"]["spaces"], spaces, strict=True):
        data = space.fold_data(texts, fold, vectors if space.encoders() else {})
        write_with(paths.features_file(name), lambda p, d=data: joblib.dump(d, p))
        mats = space.fold_matrices(data)
        print(f"features: {name}: {mats.k} folds, {mats.X_train[0].shape[1]} columns ({space.kind})")


if __name__ == "__main__":
    run_cli(main)
