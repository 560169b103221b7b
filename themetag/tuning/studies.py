"""Optuna studies' mechanics: names and fingerprints, storage, exact budgets, dead-trial clean-up.

Each (theme, candidate) pair is one study in a persistent storage. A study's name carries a
fingerprint of everything that defines its trials (the theme's labels, the texts, the folds,
the features, the family's search space, the objective), so a resumed run adds to the same
study and a changed setup starts a new one; trials from different setups never mix.
"""

from __future__ import annotations

import os
import random
import socket
import time
from pathlib import Path

import optuna
import pandas as pd
from optuna.trial import TrialState

from themetag.errors import InputError
from themetag.features.spaces import FoldMatrices, load_fold_matrices
from themetag.fingerprint import fingerprint
from themetag.modelling.candidates import Candidate, family_conf
from themetag.pipeline import paths
from themetag.pipeline.artifacts import load_folds
from themetag.tuning.storage_url import refuse_password

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)

HOST = socket.gethostname()
WORKER = f"{HOST}:{os.getpid()}"


class Surplus(Exception):
    """This trial is beyond the budget, or the early-stop rule already holds: it does not run."""


def make_storage(url: str, heartbeat: dict | None = None) -> optuna.storages.BaseStorage:
    """``journal:<file>`` is Optuna's journal file storage (safe for several processes on one
    host, needs no server); anything else is an SQLAlchemy URL (``postgresql://...``) for
    Optuna's RDB storage, with heartbeats so that a crashed worker's trial is retried."""
    refuse_password(url)
    if url.startswith("journal:"):
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        path = Path(url.removeprefix("journal:"))
        path.parent.mkdir(parents=True, exist_ok=True)
        # An absolute path: Optuna's lock is a symlink to the journal, and a relative target
        # resolves from the symlink's own folder, so it dangles. Then a lock left by a killed
        # process is never seen as stale (its mtime cannot be read) and a resumed run spins on
        # it forever, instead of taking it over after the 30 s grace period.
        return JournalStorage(JournalFileBackend(str(path.resolve())))
    from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
    from sqlalchemy.exc import IntegrityError, ProgrammingError

    hb = heartbeat or {}
    for attempt in range(5):
        try:
            return RDBStorage(
                url,
                heartbeat_interval=int(hb.get("interval", 10)),
                grace_period=int(hb.get("grace_period", 30)),
                heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=3),
            )
        except (IntegrityError, ProgrammingError):
            # several processes creating the tables of an empty database at once: one wins, the
            # others find the tables there on the next try
            if attempt == 4:
                raise
            time.sleep(0.2 + random.random())
    raise AssertionError("unreachable")


# These take a list of trials, not the study: each read of the study is a storage round trip.
def finished(trials: list[optuna.trial.FrozenTrial]) -> int:
    return sum(t.state in FINISHED for t in trials)


def early_stop_met(trials: list[optuna.trial.FrozenTrial]) -> bool:
    return any(t.state == TrialState.COMPLETE and t.user_attrs.get("oof", {}).get("early_stop_met") for t in trials)


def _slot(t: optuna.trial.FrozenTrial) -> int:
    """A retried trial keeps the slot of the trial it retries."""
    from optuna.storages import RetryHeartbeatStaleTrialCallback

    original = RetryHeartbeatStaleTrialCallback.retried_trial_number(t)
    return t.number if original is None else original


def claim(trial: optuna.Trial, budget: int) -> None:
    """Let the trial run only if it is one of the first ``budget`` live trials.

    Trial numbers come from the storage, so every worker, on any machine, agrees on the order:
    the budget is met exactly, never overshot by workers starting trials at the same time.
    """
    trials = trial.study.get_trials(deepcopy=False)
    if early_stop_met(trials):
        raise Surplus()
    live = [t for t in trials if t.state in (*FINISHED, TrialState.RUNNING, TrialState.WAITING)]
    mine = _slot(next(t for t in live if t.number == trial.number))
    if sum(_slot(t) < mine for t in live if t.number != trial.number) >= budget:
        raise Surplus()
    trial.set_user_attr("worker", WORKER)


def fail_dead_local_trials(study: optuna.Study) -> int:
    """Journal storage has no heartbeat: fail RUNNING trials whose process on this host is gone."""
    dead = 0
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        host, _, pid = str(t.user_attrs.get("worker", "")).partition(":")
        if host == HOST and pid.isdigit() and not _alive(int(pid)):
            study._storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
            dead += 1
    return dead


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def study_name(theme: str, candidate: str, fp: str) -> str:
    return f"{candidate}:{theme}:{fp}"


def theme_setups(params: dict, cand: Candidate) -> tuple[dict, dict, list[tuple]]:
    """The family's config, the tuning config, and per theme (theme, y, seed, fingerprint),
    without loading any matrix: the ``reuse`` stage's plans name studies by these."""
    for path in (paths.LABELS, paths.FOLDS):
        if not path.exists():
            raise InputError(f"{path}: missing; run `dvc repro expand_labels` first (it makes the folds)")
    fam, tuning = family_conf(params, cand.family, cand.space), params["tuning"]
    labels = pd.read_csv(paths.LABELS, keep_default_na=False)
    fold, themes = load_folds()
    setup = [
        fingerprint(labels["text"].tolist()),
        fold,
        params["features"][cand.space],
        fam["estimator"],
        fam.get("fixed"),
        fam.get("select_k"),
        fam["space"],
        fam.get("portfolio"),  # the study's first trials (themetag/tuning/race.py)
        tuning["early_stop"],
        tuning["seed"],
        tuning.get("objective", "pooled"),  # a new objective starts new studies: old trials are not resumed
    ]
    setups = []
    for i, theme in enumerate(themes):
        y = labels[theme].to_numpy(dtype=int)
        setups.append((theme, y, tuning["seed"] + i, fingerprint(*setup, y)))
    return fam, tuning, setups


def study_setups(params: dict, cand: Candidate) -> tuple[dict, dict, FoldMatrices, list[tuple]]:
    """``theme_setups`` and the fold matrices, restricted to the themes the ``reuse`` stage's
    plan leaves to tuning (``themetag/tuning/plan.py``). The DVC stage and every worker derive
    study names from this."""
    from themetag.tuning.plan import planned_themes

    fam, tuning, setups = theme_setups(params, cand)
    planned = planned_themes(cand.name)
    setups = [s for s in setups if s[0] in planned]
    if not setups:  # every theme refitted from the tuning record: no matrix is needed
        return fam, tuning, FoldMatrices([], [], [], []), []
    return fam, tuning, load_fold_matrices(params, cand.space), setups
