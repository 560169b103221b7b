"""Idle cores fit a theme's folds in threads: the same bits as one fold at a time, and never for a
solver that shares one random generator across threads."""

import pickle

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from harness.dvc_repo import ROOT
from themetag.data.folds import make_folds
from themetag.features.spaces import FoldMatrices, TfidfSpace
from themetag.modelling.families import thread_safe
from themetag.tagging.stable_pickle import stable
from themetag.tuning import processes, trials
from themetag.tuning.processes import run_unordered

FEATURES = {"kind": "tfidf", "ngram_max": 2, "min_df": 1, "max_df": 1.0, "sublinear_tf": True, "max_features": None}
FAMILIES = {
    "logreg": ({"estimator": "logreg", "fixed": {"solver": "liblinear"}}, {"C": 3.0, "class_weight": None}),
    "rf": ({"estimator": "rf", "fixed": {"n_jobs": 1}}, {"n_estimators": 30, "min_samples_leaf": 1}),
    "nb": ({"estimator": "nb", "fixed": {}}, {"alpha": 0.5}),
    "adaboost": ({"estimator": "adaboost", "fixed": {}}, {"n_estimators": 20, "learning_rate": 1.0}),
    "linsvm": ({"estimator": "linsvm", "fixed": {"max_iter": 5000}}, {"C": 0.5, "class_weight": None}),
}


@pytest.fixture(scope="module")
def problem():
    frame = pd.read_csv(ROOT / "data/train.csv", keep_default_na=False).head(300)
    labels = pd.DataFrame({t: frame["Themes"].str.contains(t).astype(int) for t in ("food", "price")})
    space = TfidfSpace("tfidf", FEATURES)
    mats = space.fold_matrices(space.fold_data(frame["Processed Text"].tolist(), make_folds(labels, 5, 0), {}))
    return labels["food"].to_numpy(), mats


def test_a_linear_svm_threads_only_where_it_solves_the_primal():
    svm = FAMILIES["linsvm"][0]
    assert not thread_safe(svm, {}, 240, 2000)  # dual="auto" picks the dual: liblinear's shared shuffle
    assert thread_safe(svm, {}, 2000, 384)  # the primal (more rows than features) has no randomness
    assert thread_safe({**svm, "fixed": {"dual": False}}, {}, 240, 2000)
    assert not thread_safe(svm, {"dual": True}, 2000, 384)
    assert all(thread_safe(FAMILIES[f][0], {}, 240, 2000) for f in ("logreg", "rf", "nb", "adaboost"))


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_folds_fitted_in_threads_give_the_bits_of_one_fold_at_a_time(problem, family, monkeypatch):
    y, mats = problem
    conf, params = FAMILIES[family]
    monkeypatch.setattr(trials, "fold_threads", lambda: 1)
    one = trials.oof_scores(conf, params, y, mats, seed=7)
    widths = []
    real = trials.ThreadPoolExecutor

    def counting(width):
        widths.append(width)
        return real(width)

    monkeypatch.setattr(trials, "fold_threads", lambda: 3)
    monkeypatch.setattr(trials, "ThreadPoolExecutor", counting)
    three = trials.oof_scores(conf, params, y, mats, seed=7)
    assert np.array_equal(one, three)
    # the linear SVM on 240 rows x ~2,000 TF-IDF columns solves the dual: it must not thread;
    # a forest builds its trees in threads inside each fold instead
    assert widths == ([] if family in ("linsvm", "rf") else [3, 2])


def test_a_forest_builds_its_trees_on_the_free_cores_and_pickles_as_if_on_one(problem, monkeypatch):
    y, mats = problem
    conf, params = FAMILIES["rf"]
    monkeypatch.setattr(trials, "fold_threads", lambda: 1)
    alone = []
    one = trials.oof_scores(conf, params, y, mats, seed=7, models=alone)
    monkeypatch.setattr(trials, "fold_threads", lambda: 2)
    built = []
    real = trials.fit_model

    def watched(*args):
        built.append(args[-1])  # the threads each fold was given
        return real(*args)

    monkeypatch.setattr(trials, "fit_model", watched)
    both = []
    assert np.array_equal(trials.oof_scores(conf, params, y, mats, seed=7, models=both), one)
    assert built == [2] * mats.k
    assert [pickle.dumps(stable(m)) for m in both] == [pickle.dumps(stable(m)) for m in alone]  # n_jobs is 1 again


def test_a_theme_widens_when_the_cores_beside_it_come_free(problem, monkeypatch):
    y, mats = problem
    conf, params = FAMILIES["adaboost"]
    monkeypatch.setattr(trials, "fold_threads", lambda: 1)
    one = trials.oof_scores(conf, params, y, mats, seed=7)
    free = iter([1, 2, 2])  # the theme starts beside another, which then finishes
    widths = []
    real = trials.ThreadPoolExecutor

    def counting(width):
        widths.append(width)
        return real(width)

    monkeypatch.setattr(trials, "fold_threads", lambda: next(free))
    monkeypatch.setattr(trials, "ThreadPoolExecutor", counting)
    models = []
    assert np.array_equal(trials.oof_scores(conf, params, y, mats, seed=7, models=models), one)
    assert widths == [2, 2] and len(models) == mats.k


def test_folds_are_yielded_in_order_so_a_pruner_sees_the_same_reports(problem, monkeypatch):
    y, mats = problem
    conf, params = FAMILIES["rf"]
    monkeypatch.setattr(trials, "fold_threads", lambda: 2)
    out = np.empty(len(y))
    seen = [k for k, _, _ in trials.fold_scores(conf, params, y, mats, 7, out)]
    assert seen == [0, 1, 2, 3, 4]
    # a caller that stops after fold 2 (a pruned trial) leaves no thread behind
    early = trials.fold_scores(conf, params, y, mats, 7, np.empty(len(y)))
    assert [next(early)[0], next(early)[0], next(early)[0]] == [0, 1, 2]
    early.close()


def _threads_now(*_, mats):
    return processes.fold_threads()


def test_a_task_gets_the_cores_the_running_tasks_leave():
    mats = FoldMatrices([np.arange(2)], [np.arange(2)], [sparse.eye(2)], [sparse.eye(2)])
    # alone in the stage's process: every core the stage may use (tuning.n_jobs)
    assert list(run_unordered(_threads_now, [()], mats, 2)) == [2]
    assert list(run_unordered(_threads_now, [()], mats, 1)) == [1]
    # two workers on two cores: a task running beside another gets one; none ever gets more than two
    got = list(run_unordered(_threads_now, [()] * 6, mats, 2))
    assert len(got) == 6 and set(got) <= {1, 2}


def test_models_fitted_side_by_side_match_one_at_a_time_and_dual_solvers_never_overlap(problem):
    import threading
    import time
    from functools import partial

    from themetag.modelling.families import fit_model
    from themetag.modelling.parallel_fits import fit_all

    y, mats = problem
    running, overlaps, lock = [0], [0], threading.Lock()

    def watched(fit):
        with lock:
            running[0] += 1
            overlaps[0] = max(overlaps[0], running[0])
        time.sleep(0.02)  # long enough that two lanes would meet
        try:
            return fit()
        finally:
            with lock:
                running[0] -= 1

    jobs = []
    for family, (conf, params) in FAMILIES.items():
        for k in range(mats.k):
            X = mats.X_train[k]
            fit = partial(fit_model, conf, params, 3, X, y[mats.train_idx[k]])
            safe = thread_safe(conf, params, *X.shape)
            jobs.append(((family, k), partial(watched, fit) if not safe else fit, safe))
    one = fit_all(jobs, cores=1)
    four = fit_all(jobs, cores=4)
    assert list(four) == list(one)
    for key, model in one.items():
        X = mats.X_valid[key[1]]
        assert np.array_equal(trials.score(model, X), trials.score(four[key], X)), key
    assert overlaps[0] == 1  # the five dual fits ran in one lane
