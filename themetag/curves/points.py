"""A theme's learning curve, measured: its selected setting refitted on nested, stratified
subsets of each fold's training rows, every fit scored on the fold's whole held-out part.

The held-out rows are the same at every size, so the points differ by what the model learned,
not by which rows scored it. Each fold's featurizer is the one the features stage fitted on all of
the fold's training rows: a TF-IDF vocabulary from more text than a subset had (unsupervised, and
more labels bring more text too), so small points may be a little high and the slope a little low.
"""

from __future__ import annotations

import numpy as np

from themetag.features.spaces import FoldMatrices
from themetag.modelling.families import fit_model, score


def nested_order(y: np.ndarray, seed: int) -> np.ndarray:
    """The rows in a seeded order whose every prefix holds positives at their overall share:
    a prefix is a stratified subset, and a shorter prefix is a subset of a longer one."""
    rng = np.random.default_rng(seed)
    key = np.empty(len(y), dtype=float)
    for cls in (0, 1):
        idx = np.flatnonzero(y == cls)
        key[idx[rng.permutation(len(idx))]] = (np.arange(len(idx)) + rng.random(len(idx))) / max(len(idx), 1)
    return np.argsort(key, kind="stable")


def subset_oof(
    family_conf: dict, params: dict, seed: int, y: np.ndarray, mats: FoldMatrices, keep: np.ndarray
) -> np.ndarray:
    """Out-of-fold scores of every row, each fold's model fitted only on its kept training rows."""
    out = np.empty(len(y), dtype=float)
    for k in range(mats.k):
        mask = keep[mats.train_idx[k]]
        yk = y[mats.train_idx[k]][mask]
        if yk.min() == yk.max():  # one class left: nothing learned, every row scored alike
            out[mats.valid_idx[k]] = float(yk[0])
            continue
        model = fit_model(family_conf, params, seed, mats.X_train[k][mask], yk)
        out[mats.valid_idx[k]] = score(model, mats.X_valid[k])
    return out
