"""Tuning invariants: out-of-fold only, resumable studies, names that change with the setup."""

import numpy as np
import pandas as pd
import pytest

from stages.features import fold_matrices
from stages.folds import empty_folds, make_folds
from stages.tuning import fingerprint, tune_theme
from tests.dvc_repo import ROOT

FEATURES = {"ngram_max": 1, "min_df": 1, "max_df": 1.0, "sublinear_tf": True, "max_features": None}
LOGREG = {
    "estimator": "logreg",
    "max_trials": None,
    "fixed": {"solver": "liblinear"},
    "space": {"C": {"type": "float", "low": 0.1, "high": 10.0, "log": True}},
}


@pytest.fixture(scope="module")
def sample():
    frame = pd.read_csv(ROOT / "data/train.csv", keep_default_na=False).head(400)
    labels = pd.DataFrame({t: frame["Themes"].str.contains(t).astype(int) for t in ("food", "staff", "price")})
    fold = make_folds(labels, 4, 0)
    return frame["Processed Text"].tolist(), labels, fold


def test_folds_are_disjoint_and_every_theme_is_in_every_fold(sample):
    texts, labels, fold = sample
    assert set(fold) == {0, 1, 2, 3} and empty_folds(labels, fold, 4) == {}
    mats = fold_matrices(texts, fold, FEATURES)
    for tr, va in zip(mats.train_idx, mats.valid_idx, strict=True):
        assert not set(tr) & set(va) and len(tr) + len(va) == len(texts)


def test_vectoriser_never_sees_validation_rows(sample):
    texts, _, fold = sample
    texts = list(texts)
    only_in_fold0 = np.flatnonzero(fold == 0)[0]
    texts[only_in_fold0] = "zzzuniqueword " + texts[only_in_fold0]
    mats = fold_matrices(texts, fold, FEATURES)
    row = list(mats.valid_idx[0]).index(only_in_fold0)
    before = mats.X_valid[0][row].nnz
    texts[only_in_fold0] = texts[only_in_fold0].replace("zzzuniqueword ", "")
    assert fold_matrices(texts, fold, FEATURES).X_valid[0][row].nnz == before  # the unseen word adds no feature


def test_resumed_study_adds_no_trials_and_changed_space_starts_afresh(sample, tmp_path):
    texts, labels, fold = sample
    mats = fold_matrices(texts, fold, FEATURES)
    y = labels["price"].to_numpy()
    tuning = {
        "n_trials": 3,
        "timeout": None,
        "pruner": "none",
        "storage": f"journal:{tmp_path}/j.log",
        "early_stop": {"min_precision": 1.01, "min_recall": 0.5},  # unreachable: the budget ends the study
    }
    first = tune_theme("price", "logreg", LOGREG, y, mats, tuning, 0, fingerprint("setup", LOGREG["space"]))
    assert (first["trials_complete"], first["trials_resumed"], first["stop_reason"]) == (3, 0, "n_trials")
    again = tune_theme("price", "logreg", LOGREG, y, mats, tuning, 0, fingerprint("setup", LOGREG["space"]))
    assert (again["trials_complete"], again["trials_resumed"]) == (3, 3)
    assert again["best_params"] == first["best_params"]
    np.testing.assert_allclose(again["oof"], first["oof"])
    more = tune_theme(
        "price", "logreg", LOGREG, y, mats, {**tuning, "n_trials": 5}, 0, fingerprint("setup", LOGREG["space"])
    )
    assert (more["trials_complete"], more["trials_resumed"]) == (5, 3)
    space = {"C": {"type": "float", "low": 0.1, "high": 1.0, "log": True}}
    other = tune_theme("price", "logreg", {**LOGREG, "space": space}, y, mats, tuning, 0, fingerprint("setup", space))
    assert other["study"] != first["study"] and other["trials_resumed"] == 0
