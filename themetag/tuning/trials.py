"""Tuning one theme: the cross-validated objective, the pruner table and the run loop.

The objective is computed only on out-of-fold predictions. The study mechanics (names,
storage, exact budgets, dead-trial clean-up) are in ``themetag/tuning/studies.py``.
"""

from __future__ import annotations

import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import optuna
from optuna.trial import TrialState

from themetag.features.spaces import FoldMatrices
from themetag.modelling.families import TREES_IN_THREADS, fit_model, score, suggest, thread_safe
from themetag.thresholds.pr_sweep import precision_first
from themetag.tuning.budget import Budget, study_budget
from themetag.tuning.processes import fold_threads
from themetag.tuning.studies import (
    WORKER,
    Surplus,
    claim,
    early_stop_met,
    fail_dead_local_trials,
    finished,
    make_storage,
    study_name,
)

# Heartbeats, retries and the Wilcoxon pruner are marked experimental in Optuna; they are used on purpose.
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


# Per pruner: how to make it, and the first fold (0-based step) after which it can prune at all.
# Asking it earlier only costs a storage read and, for Wilcoxon, a test that cannot reject.
PRUNERS: dict[str, tuple[Any, int | None]] = {
    # A one-sided Wilcoxon test on n paired folds cannot give p below 2**-n, so p < 0.1 needs
    # at least 4 folds compared: from step 3.
    "wilcoxon": (lambda: optuna.pruners.WilcoxonPruner(p_threshold=0.1, n_startup_steps=4), 3),
    "median": (lambda: optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1), 1),
    "none": (optuna.pruners.NopPruner, None),
}


def make_pruner(name: str) -> optuna.pruners.BasePruner:
    if name in PRUNERS:
        return PRUNERS[name][0]()
    raise ValueError(f"tuning.pruner={name!r}; use wilcoxon, median or none")


def budget_of(family_conf: dict, tuning: dict, mats: FoldMatrices) -> Budget:
    """The study's trial budget from the cost model (``themetag/tuning/budget.py``)."""
    return study_budget(family_conf, tuning, mats.k, max(len(t) for t in mats.train_idx))


def fold_scores(
    family_conf: dict,
    params: dict,
    y: np.ndarray,
    mats: FoldMatrices,
    seed: int,
    out: np.ndarray,
    models: list | None = None,
):
    """The one model-fitting fold loop: fit on fold k's training rows, score its held-out rows
    into ``out``, and yield (k, the held-out rows, seconds), fold by fold, so a caller can stop.
    ``models``, when given, gets each fold's fitted model, in fold order.

    With idle cores (``processes.fold_threads``) and a thread-safe family, folds are fitted a
    few at a time in threads; they are still yielded in order, so a pruner sees the same
    reports and the scores are the same bits. The cores are asked again before each few
    folds: a theme that started beside others takes the cores they leave when they finish
    (a stage's last, slowest theme, such as a forest, had run its folds on one core). A forest
    takes them inside each fold instead (``families.fit_model``): its trees are many and even,
    where five folds two at a time leave a core idle for the last one.
    """

    def fit_fold(k: int, threads: int = 1) -> tuple[np.ndarray, float, Any]:
        start = time.perf_counter()
        model = fit_model(family_conf, params, seed, mats.X_train[k], y[mats.train_idx[k]], threads)
        return score(model, mats.X_valid[k]), time.perf_counter() - start, model

    safe = thread_safe(family_conf, params, *mats.X_train[0].shape)
    trees = family_conf["estimator"] in TREES_IN_THREADS

    def chunks():
        k = 0
        while k < mats.k:
            free = fold_threads() if safe else 1
            width = 1 if trees else min(free, mats.k - k)
            if width == 1:
                chunk = [fit_fold(k, free if trees else 1)]
            else:
                from threadpoolctl import threadpool_limits

                # one BLAS thread per fold thread: the cores are the threads'
                with threadpool_limits(limits=1), ThreadPoolExecutor(width) as pool:
                    chunk = list(pool.map(fit_fold, range(k, k + width)))
            yield chunk
            k += width

    k = 0
    for chunk in chunks():
        for scores, seconds, model in chunk:
            out[mats.valid_idx[k]] = scores
            if models is not None:
                models.append(model)
            yield k, mats.valid_idx[k], seconds
            k += 1


def oof_scores(
    family_conf: dict, params: dict, y: np.ndarray, mats: FoldMatrices, seed: int, models: list | None = None
) -> np.ndarray:
    """Out-of-fold scores: each row scored by the model fitted on the other folds (``models``,
    when given, gets those models in fold order)."""
    out = np.empty(len(y), dtype=float)
    for _ in fold_scores(family_conf, params, y, mats, seed, out, models):
        pass
    return out


OBJECTIVES = ("pooled", "fold_mean")


def policy_score(y: np.ndarray, s: np.ndarray, min_recall: float) -> float:
    """Precision at the precision-first threshold for ``min_recall`` (no confidence margin), plus
    the recall once precision is 1.0; 0 when the recall cannot be reached.

    The rule's own core as the objective keeps tuning, selection and thresholds aligned; it is
    the same whatever ``thresholds.rule`` is (see README: tuning and threshold recall).
    """
    c = precision_first(y, s, min_recall, 0.0, "best_f1")
    if not c.met_target:
        return 0.0
    return c.precision + (c.recall if c.precision >= 1.0 else 0.0)


def trial_value(
    objective: str, y: np.ndarray, oof: np.ndarray, valid_idx: list[np.ndarray], min_recall: float
) -> float:
    """A trial's value from its out-of-fold scores (``tuning.objective``).

    ``pooled`` (the default): the rule's precision at ``min_recall`` on all out-of-fold scores
    pooled, plus the recall only when that pooled precision is 1.0. ``fold_mean``: the same per
    fold, averaged (the rule before; kept to compare). On small folds a handful of tagged rows can
    all be right by chance, and the mean then pays the precision-1.0 recall bonus for that luck,
    so a candidate with one lucky fold beat a steady one.
    """
    if objective == "pooled":
        return policy_score(y, oof, min_recall)
    if objective == "fold_mean":
        return float(np.mean([policy_score(y[va], oof[va], min_recall) for va in valid_idx]))
    raise ValueError(f"tuning.objective={objective!r}; use one of {OBJECTIVES}")


class Objective:
    """``trial_value`` on the trial's out-of-fold scores; pruned on the per-fold values."""

    def __init__(self, family_conf: dict, y: np.ndarray, mats: FoldMatrices, tuning: dict, seed: int, budget: int):
        self.family_conf, self.y, self.mats, self.seed, self.budget = family_conf, y, mats, seed, budget
        self.min_precision = tuning["early_stop"]["min_precision"]
        self.min_recall = tuning["early_stop"]["min_recall"]
        self.objective = tuning.get("objective", "pooled")
        first = PRUNERS[tuning["pruner"]][1] if tuning["pruner"] in PRUNERS else None
        # after the last fold there is nothing left to save, so no pruning test is paid for
        self.prune_steps = set(range(first, self.mats.k - 1)) if first is not None else set()
        self.surplus = False
        self.best: tuple[float, int, np.ndarray] | None = None  # (value, trial number, out-of-fold scores)

    def __call__(self, trial: optuna.Trial) -> float:
        try:
            claim(trial, self.budget)
        except Surplus:
            self.surplus = True
            trial.set_user_attr("surplus", True)
            raise
        params = suggest(trial, self.family_conf["space"])
        oof = np.empty(len(self.y), dtype=float)
        fold_values, fit_seconds = [], 0.0
        for k, va, seconds in fold_scores(self.family_conf, params, self.y, self.mats, self.seed, oof):
            fold_values.append(policy_score(self.y[va], oof[va], self.min_recall))  # for the pruner only
            fit_seconds += seconds  # fitting, and scoring the fold's rows
            trial.report(fold_values[-1], k)
            if k in self.prune_steps and trial.should_prune():
                trial.set_user_attr("fit_seconds", fit_seconds)
                raise optuna.TrialPruned()
        pooled = precision_first(self.y, oof, self.min_recall, 0.0, "best_f1")
        trial.set_user_attr("fit_seconds", fit_seconds)
        # one attribute, not three: every attribute is a separate (fsynced) storage write
        met = bool(pooled.met_target and pooled.precision >= self.min_precision)
        trial.set_user_attr("oof", {"precision": pooled.precision, "recall": pooled.recall, "early_stop_met": met})
        value = trial_value(self.objective, self.y, oof, self.mats.valid_idx, self.min_recall)
        if self.best is None or value > self.best[0]:  # ties keep the earlier trial, as tune_theme does
            self.best = (value, trial.number, oof)
        return value

    def oof_of(self, number: int) -> np.ndarray | None:
        """The out-of-fold scores of trial ``number`` if it is this process's best, else None."""
        return self.best[2] if self.best is not None and self.best[1] == number else None


def run_trials(study: optuna.Study, objective: Objective, budget: int, timeout: float | None, wait: bool) -> str:
    """Work on ``study`` until it holds ``budget`` finished trials or the early-stop rule holds.

    With ``wait`` (the DVC stage), keep going while other workers hold the remaining trials, so
    the stage ends with the whole budget finished; without it (a worker), stop then.
    Returns why it stopped: early_stop, n_trials, timeout or budget_taken.
    """
    from optuna.storages import fail_stale_trials
    from optuna.storages._heartbeat import is_heartbeat_enabled

    deadline = time.monotonic() + timeout if timeout else None
    while True:
        trials = study.get_trials(deepcopy=False)
        if early_stop_met(trials):
            return "early_stop"
        if finished(trials) >= budget:
            return "n_trials"
        if deadline is not None and time.monotonic() > deadline:
            return "timeout"
        objective.surplus = False
        study.optimize(objective, n_trials=1, catch=(Surplus,), gc_after_trial=False)
        if objective.surplus:
            if not wait:
                return "budget_taken"
            time.sleep(0.5)  # other workers hold the rest of the budget: wait for them
            if is_heartbeat_enabled(study._storage):
                fail_stale_trials(study)
            else:
                fail_dead_local_trials(study)


def open_study(theme: str, candidate: str, tuning: dict, seed: int, fp: str, points: list[dict]) -> optuna.Study:
    """Create or resume the (theme, candidate) study, its portfolio (``race.py``) enqueued as its
    first trials unless the study already ran them (so a resumed or raced study never repeats one)."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # a surplus trial would log a warning
    study = optuna.create_study(
        study_name=study_name(theme, candidate, fp),
        storage=make_storage(tuning["storage"], tuning.get("heartbeat")),
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=make_pruner(tuning["pruner"]),
        load_if_exists=True,
    )
    for point in points:
        study.enqueue_trial(point, skip_if_exists=True)
    return study


def best_complete(trials: list[optuna.trial.FrozenTrial]) -> optuna.trial.FrozenTrial:
    """The best finished trial; ties keep the earlier one."""
    return max((t for t in trials if t.state == TrialState.COMPLETE), key=lambda t: (t.value, -t.number))


def screen_theme(
    theme: str,
    candidate: str,
    family_conf: dict,
    y: np.ndarray,
    tuning: dict,
    seed: int,
    fp: str,
    points: list,
    mats: FoldMatrices,
) -> dict[str, Any]:
    """Run the candidate's portfolio on one theme (the screen stage): its best value, no scores."""
    start = time.perf_counter()
    n = min(len(points), budget_of(family_conf, tuning, mats).trials)
    study = open_study(theme, candidate, tuning, seed, fp, points[:n])
    fail_dead_local_trials(study)
    reason = run_trials(study, Objective(family_conf, y, mats, tuning, seed, n), n, tuning.get("timeout"), wait=True)
    trials = study.get_trials(deepcopy=False)
    best = best_complete(trials)
    return {
        "theme": theme,
        "candidate": candidate,
        "best_value": best.value,
        "best_params": best.params,
        "early_stop_met": early_stop_met(trials),
        "stop_reason": reason,
        "trials": finished(trials),
        "seconds": time.perf_counter() - start,
    }


def tune_theme(
    theme: str,
    candidate: str,
    family_conf: dict,
    y: np.ndarray,
    tuning: dict,
    seed: int,
    fp: str,
    points: list | tuple = (),
    bar: float | None = None,
    *,
    mats: FoldMatrices,
) -> dict[str, Any]:
    """Run (or resume) one theme's study and return its best trial with out-of-fold scores.

    The study starts with the portfolio ``points``. With ``bar`` (a costly candidate's race,
    ``race.py``), it stops after them when its best is below ``bar``: ``raced_out``.
    """
    start = time.perf_counter()
    plan = budget_of(family_conf, tuning, mats)
    budget = plan.trials
    points = list(points)[:budget]
    study = open_study(theme, candidate, tuning, seed, fp, points)
    stale = fail_dead_local_trials(study)
    resumed = finished(study.get_trials(deepcopy=False))
    objective = Objective(family_conf, y, mats, tuning, seed, budget)
    reason = None
    if bar is not None and points:  # points are already cut to the budget
        objective.budget = len(points)
        reason = run_trials(study, objective, len(points), tuning.get("timeout"), wait=True)
        if reason == "n_trials" and best_complete(study.get_trials(deepcopy=False)).value < bar:
            reason = "raced_out"
        elif reason == "n_trials":
            reason = None
        objective.budget = budget
    if reason is None:
        reason = run_trials(study, objective, budget, tuning.get("timeout"), wait=True)
    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    best = best_complete(trials)
    refit_start = time.perf_counter()
    # the best trial's scores are reused when it ran here; refitted when it was resumed or ran elsewhere
    oof = objective.oof_of(best.number)
    if oof is None:
        oof = oof_scores(family_conf, best.params, y, mats, seed)
    refit_seconds = time.perf_counter() - refit_start
    return {
        "theme": theme,
        "candidate": candidate,
        "seed": seed,
        "study": study.study_name,
        "best_params": best.params,
        "best_value": best.value,
        "best_trial": best.number,
        "fold_values": [best.intermediate_values[k] for k in sorted(best.intermediate_values)],
        "oof_precision": best.user_attrs["oof"]["precision"],
        "oof_recall": best.user_attrs["oof"]["recall"],
        "trials_complete": len(complete),
        "trials_pruned": sum(t.state == TrialState.PRUNED for t in trials),
        "trials_failed": sum(t.state == TrialState.FAIL and "surplus" not in t.user_attrs for t in trials),
        "trials_resumed": resumed,
        "stale_running_failed": stale,
        "budget": plan.as_dict(),
        "stop_reason": reason,
        # model fitting and scoring inside trials, plus any out-of-fold refit of the best trial
        "fit_seconds": float(
            sum(t.user_attrs.get("fit_seconds", 0.0) for t in trials if t.user_attrs.get("worker") == WORKER)
        )
        + refit_seconds,
        "seconds": time.perf_counter() - start,
        "oof": oof,
        # portfolio trials still waiting when the early-stop rule was met never ran: not listed
        "trials": study.trials_dataframe(attrs=("number", "value", "state", "params", "user_attrs", "duration")).query(
            "state != 'WAITING'"
        ),
    }
