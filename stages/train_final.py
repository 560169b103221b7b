"""Stage train_final: the models that tag, for each theme's selected candidate.

``final.model`` chooses what they are:

* ``bag`` (default): the K fold models of the selected trial, each with its fold's featurizer,
  scored by their mean, as AutoGluon predicts with its bagged models. Each member is exactly a
  model whose out-of-fold scores chose the threshold (same folds, parameters and seeds).
* ``refit``: one model refitted on every training row. No one has scored it out of sample, and
  its scores drift from a threshold chosen on the fold models' (tree ensembles most).

Measured on mams_acsa (3 seeds), semeval25 and goemotions (``bench/recall_holds.py``), the bag
gave more macro test precision on each (+0.006, +0.007, +0.012) and less recall (-0.030,
-0.013, -0.011). Its recall stayed closer to the nested estimate on two of the three. Every theme
with >= 30 test positives kept test recall >= 0.45 under both. The refit's extra recall lands
above the recall that was asked for, and it costs precision, which a precision-first user ranks
first. So the bag is the default. Its price is K featurizer transforms and K scorings per chunk
at predict time, and a bundle about K times larger.

Each featurizer is fitted once per set of rows (a TF-IDF shared by two spaces is fitted once),
and the encoder's vectors come from the embed stage, not a second encode. It reads no
threshold parameter, so editing a threshold never refits anything. It writes the bundle's pickle
(``models/bundle.joblib``, without thresholds) and what the package stage's manifest says of it.
"""

from __future__ import annotations

from functools import partial

import joblib
import numpy as np
import pandas as pd

from themetag.atomic import read_json, write_json
from themetag.errors import InputError, run_cli
from themetag.features.featurizers import fit_featurizer, leaves
from themetag.features.spaces import fold_indices, space_of
from themetag.modelling.candidates import family_conf
from themetag.modelling.families import fit_model, thread_safe
from themetag.modelling.parallel_fits import fit_all
from themetag.pipeline import paths
from themetag.pipeline.artifacts import load_embeddings, load_folds
from themetag.pipeline.params import load_params
from themetag.tagging.bundle import ThemeTagger, save_models
from themetag.tagging.pickles import load_pickle
from themetag.tuning.record import SETTING

MODES = ("bag", "refit")


def members(mode: str, n_rows: int) -> list[np.ndarray]:
    """The training rows of each model that tags: every fold's training rows, or all rows."""
    if mode == "refit":
        return [np.arange(n_rows)]
    if mode == "bag":
        return fold_indices(load_folds()[0])[0]
    raise InputError(f"final.model={mode!r}; use one of {MODES}")


def refitted(selection: dict, k: int) -> dict[str, list]:
    """The fold models the reuse stage fitted for the themes whose selection is the setting it
    refitted: the very models whose out-of-fold scores chose their thresholds (fitting them here
    again gives the same models up to float32 round-off). A theme tuned this run is fitted here."""
    kept = load_pickle(paths.REUSE_MODELS) if paths.REUSE_MODELS.is_file() else {}
    out = {}
    for theme, sel in selection.items():
        entry = kept.get(theme)
        if entry and len(entry["models"]) == k and all(same(key, entry[key], sel[key]) for key in SETTING):
            out[theme] = entry["models"]
    return out


def same(key: str, a, b) -> bool:
    return int(a) == int(b) if key == "seed" else a == b


def main() -> None:
    params = load_params()
    mode = params["final"]["model"]
    labels = pd.read_csv(paths.LABELS, keep_default_na=False)
    texts = np.asarray(labels["text"].tolist(), dtype=object)
    selection = read_json(paths.SELECTION)
    vectors = load_embeddings()
    spaces = {sel["space"]: space_of(params, sel["space"]) for sel in selection.values()}
    fitted: dict = {}
    member_rows = members(mode, len(texts))
    taken = refitted(selection, len(member_rows)) if mode == "bag" else {}
    to_fit = {sel["space"] for theme, sel in selection.items() if theme not in taken}  # spaces that need matrices
    featurizers, matrices = [], []
    for m, rows in enumerate(member_rows):
        member = {
            name: fit_featurizer(space, list(texts[rows]), fitted, tag=f"@{mode}{m}") for name, space in spaces.items()
        }
        # each encoder's vectors of these rows are already in artifacts/embeddings/
        cache = {f.key: vectors[f.key][rows] for top in member.values() for f in leaves(top) if hasattr(f, "encoder")}
        featurizers.append(member)
        X = {name: f.transform(list(texts[rows]), cache) for name, f in member.items() if name in to_fit}
        matrices.append((rows, X))
    jobs = []
    for theme, sel in selection.items():
        if theme in taken:
            continue
        fam, y = family_conf(params, sel["family"], sel["space"]), labels[theme].to_numpy(dtype=int)
        for m, (rows, X) in enumerate(matrices):
            fit = partial(fit_model, fam, sel["params"], sel["seed"], X[sel["space"]], y[rows])
            jobs.append(((theme, m), fit, thread_safe(fam, sel["params"], *X[sel["space"]].shape)))
    fitted_models = fit_all(jobs, joblib.effective_n_jobs(params["tuning"]["n_jobs"]))
    models = {theme: taken.get(theme) or [fitted_models[theme, m] for m in range(len(matrices))] for theme in selection}
    tagger = ThemeTagger(
        featurizers,
        models,
        {},  # the package stage adds the thresholds, in the manifest
        {t: s["family"] for t, s in selection.items()},
        {t: s["space"] for t, s in selection.items()},
        params["data"]["text_column"],
        mode,
    )
    write_json(paths.FINAL_MODELS, save_models(tagger, paths.BUNDLE))
    took = f"; {len(taken)} theme(s) taken from the reuse stage's refits" if taken else ""
    print(f"train_final: {len(models)} themes x {len(featurizers)} model(s) each ({mode}) on {len(texts)} rows{took}")


if __name__ == "__main__":
    run_cli(main)
