"""One multi-label-stratified K-fold assignment (``iterative-stratification``), shared by every
theme and family: sharing it makes out-of-fold scores comparable across families, and lets the
threshold stage re-use the same folds for its nested estimate."""

from __future__ import annotations

import numpy as np
import pandas as pd
from iterstrat.ml_stratifiers import MultilabelStratifiedKFold


def make_folds(labels: pd.DataFrame, k: int, seed: int) -> np.ndarray:
    """Fold id (0..k-1) of each row, stratified on all themes at once."""
    fold = np.full(len(labels), -1, dtype=int)
    splitter = MultilabelStratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    for i, (_, valid) in enumerate(splitter.split(np.zeros(len(labels)), labels.to_numpy())):
        fold[valid] = i
    return fold


def empty_folds(labels: pd.DataFrame, fold: np.ndarray, k: int) -> dict[str, str]:
    """Themes with no positive in some fold: they cannot be scored on that fold."""
    out = {}
    for theme in labels.columns:
        per_fold = np.bincount(fold[labels[theme].to_numpy() == 1], minlength=k)
        if (per_fold == 0).any():
            out[theme] = f"no positive in fold(s) {np.flatnonzero(per_fold == 0).tolist()} of folds.k={k}"
    return out


def fold_record(labels: pd.DataFrame, k: int, seed: int) -> dict:
    """What ``artifacts/folds.json`` holds: the fold of each row and the themes every fold can score."""
    fold = make_folds(labels, k, seed)
    left_out = empty_folds(labels, fold, k)
    themes = [t for t in labels.columns if t not in left_out]
    return {"k": k, "seed": seed, "themes": themes, "left_out": left_out, "fold": fold.tolist()}
