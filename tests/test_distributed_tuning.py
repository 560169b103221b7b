"""Tuning across processes through a real PostgreSQL server: workers plus the DVC stage."""

import json
import math
import signal
import subprocess
import time

import optuna
import pytest
from optuna.storages import RetryHeartbeatStaleTrialCallback
from optuna.trial import TrialState

from harness.dvc_repo import DvcRepo
from harness.postgres import running_server
from themetag.tuning.studies import make_storage

BUDGET = 5
# the runs stop at the thresholds, the first stage that reads what the studies chose: the stages
# after it (the final forests, their learning curves, evaluation) test nothing about tuning here
TO = "thresholds"
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
SLOW_TREES = "low: 100, high: 200, step: 50"  # ~1 s trials


@pytest.fixture
def pg_url():
    yield from running_server()


def rf_repo(
    path, url: str, seed: int = 42, train_rows: int = 500, trees: str = "low: 20, high: 60, step: 20"
) -> DvcRepo:
    # few themes (min_positives 120 of 500 rows) and ~1 s trials: short tests, yet a kill lands mid-trial
    rf = "estimator: rf\nmax_trials: null\nfixed: {n_jobs: 1}\nspace:\n  n_estimators: {type: int, " + trees + "}\n"
    files = {"conf/models/one.yaml": "families: [rf]\ncostly: []\nspaces: [tfidf]\n", "conf/families/rf.yaml": rf}
    repo = DvcRepo(path, train_rows=train_rows, test_rows=60, families="one", files=files)
    repo.edit("conf/config.yaml", "min_positives: 10", "min_positives: 120")
    smoke = repo.path / "conf/tuning/smoke.yaml"
    text = smoke.read_text()
    for old, new in [
        ("n_trials: 2", f"n_trials: {BUDGET}"),
        ("storage: journal:.optuna/journal.log", f"storage: {url}"),
        ("min_precision: 0.9", "min_precision: 1.01"),  # the early-stop rule never ends a study here
        ("timeout: 30", "timeout: null"),  # the budget, not the clock: a loaded machine must not cut a study
        ("seed: 42", f"seed: {seed}"),
        ("interval: 10", "interval: 1"),
        ("grace_period: 30", "grace_period: 3"),
    ]:
        assert old in text, old
        text = text.replace(old, new)
    smoke.write_text(text)
    repo.run("python", "-m", "stages.compose")
    repo.commit("rf on postgres")
    repo.run("dvc", "repro", "reuse")  # the features, and the plan of what each tune stage runs
    return repo


def worker(repo: DvcRepo) -> subprocess.Popen:
    return subprocess.Popen(
        ["python", "-m", "stages.tune_worker", "--family", "rf", "--n-jobs", "1"],
        cwd=repo.path,
        env=repo.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def rf_studies(url: str, repo: DvcRepo) -> dict[str, list]:
    storage = make_storage(url)
    names = {
        t["study"] for t in json.loads((repo.path / "artifacts/tune/first/rf-tfidf/summary.json").read_text())["themes"]
    }
    return {n: optuna.load_study(study_name=n, storage=storage).get_trials() for n in names}


def check_budget_and_outputs(url: str, repo: DvcRepo) -> list:
    studies = rf_studies(url, repo)
    assert len(studies) == len(json.loads((repo.path / "artifacts/folds.json").read_text())["themes"])
    for name, trials in studies.items():
        done = [t for t in trials if t.state in FINISHED]
        assert len(done) == BUDGET, (name, [(t.number, t.state.name, t.user_attrs) for t in trials])
        assert len({t.number for t in trials}) == len(trials)
    thresholds = json.loads((repo.path / "artifacts/thresholds.json").read_text())["themes"]
    assert all(math.isfinite(c["threshold"]) and 0 <= c["precision"] <= 1 for c in thresholds.values())
    selection = json.loads((repo.path / "artifacts/selection.json").read_text())
    assert {s["family"] for s in selection.values()} == {"rf"}
    return [t for trials in studies.values() for t in trials]


def test_two_workers_and_the_stage_finish_exactly_the_budget_and_stale_workers_refuse(pg_url, tmp_path):
    # ~1 s trials: with faster ones the stage could finish every study before a worker, started
    # beside a busy test module, had loaded its features (seen once in CI)
    repo = rf_repo(tmp_path / "a", pg_url, trees=SLOW_TREES)
    workers = [worker(repo), worker(repo)]
    ran = repo.repro(TO)
    outputs = [w.communicate(timeout=300)[0] for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    assert "tune@rf-tfidf" in ran and TO in ran
    trials = check_budget_and_outputs(pg_url, repo)
    by = {t.user_attrs.get("worker") for t in trials if t.state in FINISHED}
    assert len(by) >= 2, by  # the stage and at least one worker both contributed finished trials

    # a worker whose clone has other data computes other study names, and refuses to join
    stale = rf_repo(tmp_path / "stale", pg_url, train_rows=480)
    proc = stale.run("python", "-m", "stages.tune_worker", "--family", "rf", "--wait", "5", check=False)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "differ from the run that created it" in lines[0]


def test_killed_worker_trial_is_retried_and_the_budget_still_met(pg_url, tmp_path):
    repo = rf_repo(tmp_path / "k", pg_url, seed=11, trees=SLOW_TREES)
    stage = subprocess.Popen(
        ["dvc", "repro", TO], cwd=repo.path, env=repo.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    victim = worker(repo)
    storage = make_storage(pg_url)
    killed_trial = None
    deadline = time.time() + 120
    while killed_trial is None and time.time() < deadline:
        for summary in optuna.get_all_study_summaries(storage, include_best_trial=False):
            for t in optuna.load_study(study_name=summary.study_name, storage=storage).get_trials(
                states=(TrialState.RUNNING,)
            ):
                if t.user_attrs.get("worker", "").endswith(f":{victim.pid}"):
                    killed_trial = (summary.study_name, t.number)
        time.sleep(0.1)
    assert killed_trial, "the worker never ran a trial"
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    helper = worker(repo)
    out, _ = stage.communicate(timeout=600)
    assert stage.returncode == 0, out
    helper.communicate(timeout=300)
    trials = check_budget_and_outputs(pg_url, repo)
    name, number = killed_trial
    study_trials = [t for t in trials if t in rf_studies(pg_url, repo)[name]]
    dead = next(t for t in study_trials if t.number == number)
    assert dead.state == TrialState.FAIL
    retries = [t for t in study_trials if RetryHeartbeatStaleTrialCallback.retried_trial_number(t) == number]
    assert len(retries) == 1 and retries[0].state in FINISHED
