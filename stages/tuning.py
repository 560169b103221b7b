"""Per-theme Optuna studies, with an objective computed only on out-of-fold predictions.

Each (theme, family) pair is one study in a persistent storage. A study's name carries a
fingerprint of everything that defines its trials (the theme's labels, the texts, the folds,
the features, the family's search space, the objective), so a resumed run adds to the same
study and a changed setup starts a new one; trials from different setups never mix.
"""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from optuna.trial import TrialState

from stages.families import build, score, suggest
from stages.features import FoldMatrices
from stages.threshold_rule import choose, policy_score

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


def fingerprint(*parts: Any) -> str:
    """Short stable hash of JSON-able parts and numpy arrays."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            h.update(np.ascontiguousarray(part).tobytes())
        else:
            h.update(json.dumps(part, sort_keys=True, default=str).encode())
        h.update(b"\x00")
    return h.hexdigest()[:12]


def make_storage(url: str) -> optuna.storages.BaseStorage | str:
    """``journal:<file>`` is Optuna's journal file storage (safe for several processes on one
    host, needs no server); anything else is an SQLAlchemy URL for Optuna's RDB storage."""
    if url.startswith("journal:"):
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        path = Path(url.removeprefix("journal:"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(str(path)))
    return url


def make_pruner(name: str) -> optuna.pruners.BasePruner:
    if name == "wilcoxon":
        warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
        return optuna.pruners.WilcoxonPruner(p_threshold=0.1, n_startup_steps=2)
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)
    if name == "none":
        return optuna.pruners.NopPruner()
    raise ValueError(f"tuning.pruner={name!r}; use wilcoxon, median or none")


def oof_scores(family_conf: dict, params: dict, y: np.ndarray, mats: FoldMatrices, seed: int) -> np.ndarray:
    """Out-of-fold scores: each row scored by the model fitted on the other folds."""
    out = np.empty(len(y), dtype=float)
    for k in range(mats.k):
        model = build(family_conf, params, seed).fit(mats.X_train[k], y[mats.train_idx[k]])
        out[mats.valid_idx[k]] = score(model, mats.X_valid[k])
    return out


class Objective:
    """Mean over folds of the policy score on each fold's validation rows; pruned per fold."""

    def __init__(self, family_conf: dict, y: np.ndarray, mats: FoldMatrices, tuning: dict, seed: int):
        self.family_conf, self.y, self.mats, self.seed = family_conf, y, mats, seed
        self.min_precision = tuning["early_stop"]["min_precision"]
        self.min_recall = tuning["early_stop"]["min_recall"]

    def __call__(self, trial: optuna.Trial) -> float:
        params = suggest(trial, self.family_conf["space"])
        oof = np.empty(len(self.y), dtype=float)
        fold_values, fit_seconds = [], 0.0
        for k in range(self.mats.k):
            start = time.perf_counter()
            model = build(self.family_conf, params, self.seed).fit(self.mats.X_train[k], self.y[self.mats.train_idx[k]])
            s = score(model, self.mats.X_valid[k])
            fit_seconds += time.perf_counter() - start
            va = self.mats.valid_idx[k]
            oof[va] = s
            fold_values.append(policy_score(self.y[va], s, self.min_recall))
            trial.report(fold_values[-1], k)
            if trial.should_prune():
                trial.set_user_attr("fit_seconds", fit_seconds)
                raise optuna.TrialPruned()
        pooled = choose(self.y, oof, self.min_recall, 0.0, "best_f1")
        trial.set_user_attr("fit_seconds", fit_seconds)
        trial.set_user_attr("oof_precision", pooled.precision)
        trial.set_user_attr("oof_recall", pooled.recall)
        trial.set_user_attr("early_stop_met", bool(pooled.met_min_recall and pooled.precision >= self.min_precision))
        return float(np.mean(fold_values))


def study_name(theme: str, family: str, fp: str) -> str:
    return f"{family}:{theme}:{fp}"


def _fail_stale_running(study: optuna.Study) -> int:
    """Mark trials left RUNNING by a killed run as FAIL, so they are neither lost nor counted."""
    stale = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    for t in stale:
        study._storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
    return len(stale)


def tune_theme(
    theme: str, family: str, family_conf: dict, y: np.ndarray, mats: FoldMatrices, tuning: dict, seed: int, fp: str
) -> dict[str, Any]:
    """Run (or resume) one theme's study and return its best trial with out-of-fold scores."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    start = time.perf_counter()
    budget = int(tuning["n_trials"])
    if family_conf.get("max_trials"):
        budget = min(budget, int(family_conf["max_trials"]))
    study = optuna.create_study(
        study_name=study_name(theme, family, fp),
        storage=make_storage(tuning["storage"]),
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=make_pruner(tuning["pruner"]),
        load_if_exists=True,
    )
    stale = _fail_stale_running(study)

    def met(s: optuna.Study) -> bool:
        return any(
            t.user_attrs.get("early_stop_met") for t in s.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        )

    def n_finished(s: optuna.Study) -> int:
        return len(s.get_trials(deepcopy=False, states=FINISHED))

    def stop_when_done(s: optuna.Study, _t: optuna.trial.FrozenTrial) -> None:
        if met(s) or n_finished(s) >= budget:
            s.stop()

    resumed = n_finished(study)
    if not met(study) and resumed < budget:
        study.optimize(
            Objective(family_conf, y, mats, tuning, seed),
            n_trials=budget - resumed,
            timeout=tuning.get("timeout"),
            callbacks=[stop_when_done],
            gc_after_trial=False,
        )
    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    best = max(complete, key=lambda t: (t.value, -t.number))
    reason = "early_stop" if met(study) else ("n_trials" if n_finished(study) >= budget else "timeout")
    refit_start = time.perf_counter()
    oof = oof_scores(family_conf, best.params, y, mats, seed)
    refit_seconds = time.perf_counter() - refit_start
    return {
        "theme": theme,
        "family": family,
        "study": study.study_name,
        "best_params": best.params,
        "best_value": best.value,
        "best_trial": best.number,
        "fold_values": [best.intermediate_values[k] for k in sorted(best.intermediate_values)],
        "oof_precision": best.user_attrs.get("oof_precision"),
        "oof_recall": best.user_attrs.get("oof_recall"),
        "trials_complete": len(complete),
        "trials_pruned": sum(t.state == TrialState.PRUNED for t in trials),
        "trials_failed": sum(t.state == TrialState.FAIL for t in trials),
        "trials_resumed": resumed,
        "stale_running_failed": stale,
        "budget": budget,
        "stop_reason": reason,
        # model fitting and scoring inside trials, plus the best trial's out-of-fold refit
        "fit_seconds": float(sum(t.user_attrs.get("fit_seconds", 0.0) for t in trials[resumed:])) + refit_seconds,
        "seconds": time.perf_counter() - start,
        "oof": oof,
        "trials": study.trials_dataframe(attrs=("number", "value", "state", "params", "user_attrs", "duration")),
    }
