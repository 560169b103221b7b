"""Stage folds: one multi-label-stratified K-fold assignment, shared by every theme and family.

Sharing it makes out-of-fold scores comparable across families, and lets the threshold stage
re-use the same folds for its honest (nested) estimate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from themetag.atomic import write_json
from themetag.data.folds import empty_folds, make_folds
from themetag.errors import run_cli
from themetag.pipeline import paths
from themetag.pipeline.params import load_params


def main() -> None:
    params = load_params()
    k, seed = params["folds"]["k"], params["folds"]["seed"]
    labels = pd.read_csv(paths.LABELS).drop(columns="text")
    fold = make_folds(labels, k, seed)
    left_out = empty_folds(labels, fold, k)
    themes = [t for t in labels.columns if t not in left_out]
    write_json(paths.FOLDS, {"k": k, "seed": seed, "themes": themes, "left_out": left_out, "fold": fold.tolist()})
    sizes = np.bincount(fold, minlength=k).tolist()
    print(f"folds: k={k}, rows per fold {sizes}" + (f"; left out: {left_out}" if left_out else ""))


if __name__ == "__main__":
    run_cli(main)
