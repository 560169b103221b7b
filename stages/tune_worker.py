"""Add trials to the tuning studies from any machine: ``python -m stages.tune_worker --family logreg --space tfidf``.

Run it on each machine that has a clone, the data and ``dvc repro features`` done, with
``tuning.storage`` set to a database every machine reaches (PostgreSQL). The DVC stage
``tune@<family>-<space>`` creates the studies and finishes them; workers only join studies that
already exist, so a worker whose data, folds or search space differ from the stage's (its
study names carry a fingerprint of those) refuses to start instead of polluting a study.
A worker stops when every study's budget is taken or its early-stop rule holds.
"""

from __future__ import annotations

import argparse
import sys
import time

import optuna

from themetag.errors import InputError, run_cli
from themetag.modelling.candidates import candidate
from themetag.pipeline import paths
from themetag.pipeline.params import load_params
from themetag.tuning.processes import run_unordered
from themetag.tuning.race import portfolio, search_tuning
from themetag.tuning.settled import themes_to_tune
from themetag.tuning.studies import make_storage, study_name, study_setups
from themetag.tuning.trials import Objective, budget_of, make_pruner, run_trials


def find_study(storage, name: str, wait: float) -> str:
    """Load ``name``; wait for the DVC stage to create it; refuse if the storage holds a study
    for the same family and theme under another fingerprint (this clone is out of date)."""
    cand, theme, _ = name.split(":")
    deadline = time.monotonic() + wait
    while True:
        names = {s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)}
        if name in names:
            return name
        others = sorted(n for n in names if n.startswith(f"{cand}:{theme}:"))
        if others:
            raise InputError(
                f"params.yaml/data: this clone's study {name!r} is not in the storage, which holds {others[-1]!r}; "
                "the data, folds or search space differ from the run that created it: update this clone "
                "(git pull, then dvc repro features) and start the worker again"
            )
        if time.monotonic() > deadline:
            raise InputError(
                f"tuning.storage: no study {name!r} after {wait:.0f}s; start `dvc repro` (which creates it) first"
            )
        time.sleep(1.0)


def wait_for(path, wait: float, what: str) -> None:
    deadline = time.monotonic() + wait
    while not path.exists():
        if time.monotonic() > deadline:
            raise InputError(f"{path}: missing after {wait:.0f}s: {what}")
        time.sleep(1.0)


def work(cand: str, theme: str, fam: dict, y, tuning: dict, seed: int, fp: str, wait: float, mats) -> str:
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # surplus trials would each log a warning
    storage = make_storage(tuning["storage"], tuning.get("heartbeat"))
    name = find_study(storage, study_name(theme, cand, fp), wait)
    # an unseeded sampler: workers explore differently from the stage and from each other
    study = optuna.load_study(study_name=name, storage=storage, pruner=make_pruner(tuning["pruner"]))
    budget = budget_of(fam, tuning, mats).trials
    reason = run_trials(study, Objective(fam, y, mats, tuning, seed, budget), budget, tuning.get("timeout"), wait=False)
    return f"tune_worker {cand} {theme}: {reason}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", required=True)
    parser.add_argument("--space", default="tfidf")
    parser.add_argument("--n-jobs", type=int, default=None, help="worker processes (default: tuning.n_jobs)")
    parser.add_argument("--wait", type=float, default=120, help="seconds to wait for the DVC stage to create a study")
    args = parser.parse_args(argv)
    params = load_params()
    if params["tuning"]["storage"].startswith("journal:"):
        print("tune_worker: tuning.storage is a local journal file, so only processes on this machine share it")
    cand = candidate(params, args.family, args.space)
    if cand.skip:
        raise InputError(f"tune_worker: candidate {cand.name} is skipped ({cand.skip}); there is nothing to tune")
    fam, tuning, mats, setups = study_setups(params, cand)
    if not setups:
        print(f"tune_worker {cand.name}: nothing to tune (the tuning record kept every theme: {paths.REUSE})")
        return
    if not cand.costly:  # the screen decides where a first-round candidate goes on: wait for it
        storage = make_storage(params["tuning"]["storage"], params["tuning"].get("heartbeat"))
        for theme, _, _, fp in setups:  # a clone whose data or config differ refuses before waiting
            find_study(storage, study_name(theme, cand.name, fp), args.wait)
        wait_for(paths.screen_file(cand.name), args.wait, "the screen stage's output (start `dvc repro` first)")
    # a costly pair skips settled themes, a first-round one those the screen raced it out of
    open_themes, _, _ = themes_to_tune(params, cand, [s[0] for s in setups])
    rows = sum(len(v) for v in mats.valid_idx)
    tuning = search_tuning(tuning, rows, portfolio(cand.family, fam), cand.costly)  # as the stage runs them
    tasks = [(cand.name, t, fam, y, tuning, seed, fp, args.wait) for t, y, seed, fp in setups if t in open_themes]
    for line in run_unordered(work, tasks, mats, args.n_jobs or tuning["n_jobs"]):
        print(line, flush=True)


if __name__ == "__main__":
    run_cli(lambda: main(sys.argv[1:]))
