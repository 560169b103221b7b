"""Stage train_final: refit each theme's selected model on every training row.

It reads no threshold parameter, so editing a threshold never refits anything.
"""

from __future__ import annotations

import joblib
import pandas as pd
import sklearn

from stages import paths
from stages.atomic import read_json, write_with
from stages.errors import run_cli
from stages.families import fit_model
from stages.features import make_vectorizer
from stages.params import load_params


def main() -> None:
    params = load_params()
    labels = pd.read_csv(paths.LABELS, keep_default_na=False)
    selection = read_json(paths.SELECTION)
    vectorizer = make_vectorizer(params["features"])
    X = vectorizer.fit_transform(labels["text"].tolist()).tocsr()
    models = {}
    for theme, sel in selection.items():
        fam = params["families"][sel["family"]]
        models[theme] = fit_model(fam, sel["params"], sel["seed"], X, labels[theme].to_numpy(dtype=int))
    final = {
        "vectorizer": vectorizer,
        "models": models,
        "families": {t: s["family"] for t, s in selection.items()},
        "themes": list(selection),
        "sklearn_version": sklearn.__version__,
    }
    write_with(paths.FINAL_MODELS, lambda p: joblib.dump(final, p))
    print(f"train_final: {len(models)} models on {X.shape[0]} rows, {X.shape[1]} features")


if __name__ == "__main__":
    run_cli(main)
