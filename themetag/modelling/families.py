"""Model families: how to build an estimator from a search space, and how to score with it.

Every family ranks rows by a continuous score, and the threshold is applied to that score.
Linear models use ``decision_function`` (no probability calibration: ``SVC(probability=True)``
would run an extra 5-fold fit on every fit, and a threshold on the margin ranks the same).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

import numpy as np

from themetag.errors import InputError

if TYPE_CHECKING:  # tagging (the slim install) scores with these models and has no Optuna
    import optuna

# scikit-learn's classes by name, imported when a model is built: a stage that only reads the
# config (a skipped candidate's) does not pay a second for importing every estimator
ESTIMATORS: dict[str, str] = {
    "logreg": "sklearn.linear_model:LogisticRegression",
    "linsvm": "sklearn.svm:LinearSVC",
    "nb": "sklearn.naive_bayes:MultinomialNB",
    "rf": "sklearn.ensemble:RandomForestClassifier",
    "adaboost": "sklearn.ensemble:AdaBoostClassifier",
}


def estimator_class(key: str) -> type:
    module, _, name = ESTIMATORS[key].partition(":")
    return getattr(import_module(module), name)


_SEEDED = {"logreg", "linsvm", "rf", "adaboost"}
# Every family takes sparse and dense input; these need it non-negative (naive Bayes models
# counts). Chi2 feature selection (``select_k``) needs it too, whatever the estimator.
NEEDS_NON_NEGATIVE = {"nb"}


def input_problem(family_conf: dict, non_negative_input: bool) -> str | None:
    """Why this family cannot take a space's input, or None when it can."""
    if non_negative_input:
        return None
    if family_conf["estimator"] in NEEDS_NON_NEGATIVE:
        return f"{family_conf['estimator']} needs non-negative input"
    if family_conf.get("select_k") is not None:
        return "its chi2 feature selection (select_k) needs non-negative input"
    return None


def suggest(trial: optuna.Trial, space: dict[str, dict]) -> dict[str, Any]:
    """Draw one point of a search space written as in conf/families/*.yaml."""
    params: dict[str, Any] = {}
    for name, spec in space.items():
        kind = spec["type"]
        if kind == "float":
            params[name] = trial.suggest_float(name, spec["low"], spec["high"], log=spec.get("log", False))
        elif kind == "int":
            params[name] = trial.suggest_int(name, spec["low"], spec["high"], step=spec.get("step", 1))
        elif kind == "categorical":
            params[name] = trial.suggest_categorical(name, list(spec["choices"]))
        else:
            raise InputError(f"conf/families: parameter {name!r} has type {kind!r}; use float, int or categorical")
    return params


def build(
    family_conf: dict, params: dict[str, Any], seed: int, n_features: int | None = None, n_rows: int | None = None
):
    """An unfitted estimator of this family with ``params`` on top of its fixed settings.

    With ``max_rows`` (random forest), each tree is fitted on a bootstrap sample of at most
    that many rows, so a fit costs the same at 5,000 rows and at 50,000.

    With ``select_k``, the estimator sees only the ``select_k`` features with the highest chi2
    score on the rows it is fitted on (so, per fold, never the validation rows): boosted stumps
    use a few hundred features at most, and scanning all of them made AdaBoost the slowest family.
    """
    key = family_conf["estimator"]
    if key not in ESTIMATORS:
        raise InputError(f"conf/families: estimator {key!r} is unknown; use one of {sorted(ESTIMATORS)}")
    kwargs = {**(family_conf.get("fixed") or {}), **params}
    if key in _SEEDED:
        kwargs.setdefault("random_state", seed)
    if key == "adaboost":
        from sklearn.tree import DecisionTreeClassifier

        kwargs.setdefault("estimator", DecisionTreeClassifier(max_depth=1))
    cap = family_conf.get("max_rows")
    if cap is not None and key != "rf":
        raise InputError(f"conf/families ({key}): max_rows is for rf only (bootstrap samples); remove it")
    if cap is not None and n_rows is not None and n_rows > int(cap):
        kwargs["max_samples"] = int(cap)
    model = estimator_class(key)(**kwargs)
    k = family_conf.get("select_k")
    if k is None:
        return model
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise InputError(
            f"conf/families ({key}): select_k={k!r}; use a positive whole number, or null for all features"
        )
    from sklearn.feature_selection import SelectKBest, chi2
    from sklearn.pipeline import make_pipeline

    return make_pipeline(SelectKBest(chi2, k=min(k, n_features) if n_features else k), model)


def thread_safe(family_conf: dict, params: dict[str, Any], n_rows: int, n_features: int) -> bool:
    """Whether fits of this family may run in threads side by side and give the bits they give
    one at a time. Not so for liblinear's dual solvers: they shuffle with one process-wide
    random generator, which two threads would share (a linear SVM picks the dual when a fold
    has fewer rows than features, ``dual="auto"``). The others keep their randomness in their
    own ``RandomState`` and release the GIL in their native loops."""
    if family_conf["estimator"] != "linsvm":
        return family_conf["estimator"] in ESTIMATORS
    dual = {**(family_conf.get("fixed") or {}), **params}.get("dual", "auto")
    return dual is False or (dual == "auto" and n_rows >= n_features)


# Families whose one fit can use several cores (``n_jobs``) and still give the same model: a
# forest draws every tree's seed before it builds any, and builds each tree on its own.
TREES_IN_THREADS = {"rf"}


def fit_model(family_conf: dict, params: dict[str, Any], seed: int, X, y: np.ndarray, threads: int = 1):
    """``build`` and fit on ``X``, ``y``. ``threads`` > 1: a forest builds its trees on that many
    cores, and keeps its own ``n_jobs`` afterwards, so it pickles and scores as if fitted on one
    (a forest scoring in threads adds its trees' votes in the order they finish)."""
    model = build(family_conf, params, seed, X.shape[1], X.shape[0])
    if threads <= 1 or family_conf["estimator"] not in TREES_IN_THREADS:
        return model.fit(X, y)
    own = model.get_params()["n_jobs"]
    model.set_params(n_jobs=threads).fit(X, y)
    return model.set_params(n_jobs=own)


def score(model, X) -> np.ndarray:
    """A continuous score per row, higher meaning more likely positive."""
    if hasattr(model, "decision_function"):
        return np.asarray(model.decision_function(X), dtype=float)
    if hasattr(model, "predict_joint_log_proba"):  # naive Bayes: log-likelihood ratio, no ties at 0/1
        jll = model.predict_joint_log_proba(X)
        return np.asarray(jll[:, 1] - jll[:, 0], dtype=float)
    return np.asarray(model.predict_proba(X)[:, 1], dtype=float)
