"""Tuning invariants: out-of-fold only, resumable studies, names that change with the setup,
and worker processes that share the matrices and give the same studies as one process."""

import os

import joblib
import numpy as np
import pandas as pd
import pytest

from harness.dvc_repo import ROOT
from themetag.data.folds import empty_folds, make_folds
from themetag.errors import InputError
from themetag.features.spaces import TfidfSpace
from themetag.fingerprint import fingerprint
from themetag.modelling.families import fit_model, score
from themetag.tuning.processes import run_unordered, workers
from themetag.tuning.trials import trial_value, tune_theme

FEATURES = {"kind": "tfidf", "ngram_max": 1, "min_df": 1, "max_df": 1.0, "sublinear_tf": True, "max_features": None}


def fold_matrices(texts, fold, conf):
    space = TfidfSpace("tfidf", conf)
    return space.fold_matrices(space.fold_data(texts, fold, {}))


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
    first = tune_theme("price", "logreg", LOGREG, y, tuning, 0, fingerprint("setup", LOGREG["space"]), mats=mats)
    assert (first["trials_complete"], first["trials_resumed"], first["stop_reason"]) == (3, 0, "n_trials")
    again = tune_theme("price", "logreg", LOGREG, y, tuning, 0, fingerprint("setup", LOGREG["space"]), mats=mats)
    assert (again["trials_complete"], again["trials_resumed"]) == (3, 3)
    assert again["best_params"] == first["best_params"]
    np.testing.assert_allclose(again["oof"], first["oof"])
    more = tune_theme(
        "price", "logreg", LOGREG, y, {**tuning, "n_trials": 5}, 0, fingerprint("setup", LOGREG["space"]), mats=mats
    )
    assert (more["trials_complete"], more["trials_resumed"]) == (5, 3)
    space = {"C": {"type": "float", "low": 0.1, "high": 1.0, "log": True}}
    other = tune_theme(
        "price", "logreg", {**LOGREG, "space": space}, y, tuning, 0, fingerprint("setup", space), mats=mats
    )
    assert other["study"] != first["study"] and other["trials_resumed"] == 0


def describe(name: str, mats) -> tuple[str, int, float, int]:
    return name, os.getpid(), float(mats.X_train[0].sum()), mats.k


def native_threads(name: str, mats) -> int:
    from threadpoolctl import threadpool_info

    return max(pool["num_threads"] for pool in threadpool_info())


def fail_on(name: str, mats) -> str:
    if name == "bad":
        raise ValueError(f"task {name} failed")
    return name


def test_workers_follow_joblib_convention():
    cores = joblib.cpu_count()
    assert workers(-1, 100) == cores
    assert workers(-2, 100) == max(1, cores - 1)
    assert workers(4, 2) == 2 and workers(1, 8) == 1


def test_workers_see_the_matrices_and_run_outside_this_process(sample):
    texts, _, fold = sample
    mats = fold_matrices(texts, fold, FEATURES)
    out = list(run_unordered(describe, [("a",), ("b",), ("c",)], mats, n_jobs=2))
    assert sorted(o[0] for o in out) == ["a", "b", "c"]
    assert all(o[1] != os.getpid() for o in out)
    assert {(o[2], o[3]) for o in out} == {(float(mats.X_train[0].sum()), mats.k)}
    inline = list(run_unordered(describe, [("a",)], mats, n_jobs=2))  # one task: no pool
    assert inline[0][1] == os.getpid()
    # each of 2 workers gets half the cores for its BLAS and OpenMP pools, never oversubscribing
    assert set(run_unordered(native_threads, [("a",), ("b",)], mats, n_jobs=2)) == {max(1, joblib.cpu_count() // 2)}


def test_a_failing_task_raises_its_own_error(sample):
    texts, _, fold = sample
    mats = fold_matrices(texts, fold, FEATURES)
    with pytest.raises(ValueError, match="task bad failed"):
        list(run_unordered(fail_on, [("ok",), ("bad",), ("ok2",)], mats, n_jobs=2))


def test_parallel_studies_equal_serial_ones(sample, tmp_path):
    texts, labels, fold = sample
    mats = fold_matrices(texts, fold, FEATURES)
    tuning = {
        "n_trials": 3,
        "timeout": None,
        "pruner": "wilcoxon",
        "early_stop": {"min_precision": 1.01, "min_recall": 0.5},
    }
    results = {}
    for n_jobs in (1, 2):
        tasks = [
            (
                t,
                "logreg",
                LOGREG,
                labels[t].to_numpy(),
                {**tuning, "storage": f"journal:{tmp_path}/{n_jobs}.log"},
                i,
                "fp",
            )
            for i, t in enumerate(labels.columns)
        ]
        results[n_jobs] = {r["theme"]: r for r in run_unordered(tune_theme, tasks, mats, n_jobs)}
    for t in labels.columns:
        assert results[2][t]["best_params"] == results[1][t]["best_params"]
        np.testing.assert_array_equal(results[2][t]["oof"], results[1][t]["oof"])


def test_select_k_fits_on_the_top_chi2_features_and_rejects_bad_values(sample):
    texts, labels, fold = sample
    mats = fold_matrices(texts, fold, FEATURES)
    ada = {"estimator": "adaboost", "fixed": {}, "select_k": 50}
    y = labels["food"].to_numpy()[mats.train_idx[0]]
    model = fit_model(ada, {"n_estimators": 10}, 0, mats.X_train[0], y)
    assert model[0].get_support().sum() == 50
    assert len(score(model, mats.X_valid[0])) == len(mats.valid_idx[0])
    wide = fit_model({**ada, "select_k": 10**9}, {"n_estimators": 10}, 0, mats.X_train[0], y)  # capped, no error
    assert wide[0].get_support().all()
    for bad in (0, -5, 2.5, "many", True):
        with pytest.raises(InputError, match="select_k"):
            fit_model({**ada, "select_k": bad}, {"n_estimators": 10}, 0, mats.X_train[0], y)


def ranked_folds(negatives_on_top: list[int], positives: int = 20, negatives: int = 60):
    """Out-of-fold scores where fold k ranks ``negatives_on_top[k]`` negatives above its positives."""
    ys, scores, folds = [], [], []
    for k, on_top in enumerate(negatives_on_top):
        y = [0] * on_top + [1] * positives + [0] * (negatives - on_top)
        ys.append(y)
        scores.append(np.linspace(1, 0, len(y)))
        folds.append(np.full(len(y), k))
    fold = np.concatenate(folds)
    return np.concatenate(ys), np.concatenate(scores), [np.flatnonzero(fold == k) for k in range(len(folds))]


def test_a_candidate_with_one_lucky_fold_loses_to_a_steady_one():
    steady = ranked_folds([1, 1, 1, 1, 1])  # every fold: one false positive among the top
    lucky = ranked_folds([0, 3, 3, 3, 3])  # one perfect fold, four worse ones
    # the per-fold mean pays fold 0 the precision-1.0 recall bonus, so luck wins there ...
    assert trial_value("fold_mean", *lucky, 0.5) > trial_value("fold_mean", *steady, 0.5)
    # ... while the pooled out-of-fold precision ranks the steady candidate first
    assert trial_value("pooled", *steady, 0.5) > trial_value("pooled", *lucky, 0.5)
    assert trial_value("pooled", *lucky, 0.5) < 1.0  # pooled precision is not 1.0: no bonus paid
    with pytest.raises(ValueError, match="tuning.objective"):
        trial_value("median", *steady, 0.5)


def test_changing_the_objective_changes_every_study_name(trained, monkeypatch):
    from themetag.modelling.candidates import candidate
    from themetag.pipeline.params import load_params
    from themetag.tuning.studies import study_setups

    monkeypatch.chdir(trained)
    params = load_params()
    cand = candidate(params, "logreg", "tfidf")
    pooled = [s[3] for s in study_setups(params, cand)[3]]
    params["tuning"]["objective"] = "fold_mean"
    before = [s[3] for s in study_setups(params, cand)[3]]
    assert params["tuning"]["objective"] != load_params()["tuning"]["objective"] == "pooled"
    assert not set(pooled) & set(before)  # no trial scored by the other objective is resumed
