"""Stage train_final: refit each theme's selected model on every training row, in its own space.

Each space's featurizer is fitted once on all training rows (a TF-IDF shared by two spaces is
fitted once), and each row is transformed once per featurizer. It reads no threshold
parameter, so editing a threshold never refits anything.
"""

from __future__ import annotations

import joblib
import pandas as pd
import sklearn

from stages import paths
from stages.atomic import read_json, write_with
from stages.errors import run_cli
from stages.families import fit_model
from stages.params import load_params
from stages.spaces import space_of


def main() -> None:
    params = load_params()
    labels = pd.read_csv(paths.LABELS, keep_default_na=False)
    texts = labels["text"].tolist()
    selection = read_json(paths.SELECTION)
    fitted: dict = {}
    featurizers = {}
    for sel in selection.values():
        if sel["space"] not in featurizers:
            featurizers[sel["space"]] = space_of(params, sel["space"]).fit(texts, fitted)
    cache: dict = {}
    X = {space: f.transform(texts, cache) for space, f in featurizers.items()}
    models = {}
    for theme, sel in selection.items():
        fam = params["families"][sel["family"]]
        models[theme] = fit_model(fam, sel["params"], sel["seed"], X[sel["space"]], labels[theme].to_numpy(dtype=int))
    final = {
        "featurizers": featurizers,
        "models": models,
        "families": {t: s["family"] for t, s in selection.items()},
        "spaces": {t: s["space"] for t, s in selection.items()},
        "themes": list(selection),
        "sklearn_version": sklearn.__version__,
    }
    write_with(paths.FINAL_MODELS, lambda p: joblib.dump(final, p))
    shapes = ", ".join(f"{s} {m.shape[1]} columns" for s, m in X.items())
    print(f"train_final: {len(models)} models on {len(texts)} rows ({shapes})")


if __name__ == "__main__":
    run_cli(main)
