"""Real processes: a SIGKILLed `dvc repro` resumes from its finished trials; clean runs agree."""

import json
import os
import signal
import subprocess
import sys

import optuna
import pytest
from optuna.trial import TrialState

from harness.dvc_repo import ROOT, DvcRepo, stages_run

BUDGET = 25


def finished_trials(storage_file) -> dict[str, int]:
    from themetag.tuning.studies import make_storage

    storage = make_storage(f"journal:{storage_file}")
    out = {}
    for summary in optuna.get_all_study_summaries(storage):
        study = optuna.load_study(study_name=summary.study_name, storage=storage)
        out[summary.study_name] = len(study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED)))
    return out


def test_sigkill_during_tuning_then_rerun_reuses_every_finished_trial(tmp_path):
    # one candidate: the studies of the others would run the same budget and test nothing more
    repo = DvcRepo(
        tmp_path,
        train_rows=700,
        test_rows=60,
        families="fast",
        overrides=["models.families=[logreg]", "models.spaces=[tfidf]"],
    )
    # a budget that the early-stop rule cannot end, so the studies are still running when killed
    repo.edit("conf/tuning/smoke.yaml", "n_trials: 2", f"n_trials: {BUDGET}")
    repo.edit("conf/tuning/smoke.yaml", "min_precision: 0.9", "min_precision: 1.01")
    repo.run("python", "-m", "stages.compose")
    repo.commit("bigger budget")

    proc = subprocess.Popen(
        ["dvc", "repro"],
        cwd=repo.path,
        env=repo.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if line.startswith("tune@logreg-tfidf ") and ": best" in line:  # one theme done, others mid-study
            os.killpg(proc.pid, signal.SIGKILL)
            break
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "".join(seen)
    before = finished_trials(repo.path / ".optuna/journal.log")
    assert 0 < sum(before.values()) < BUDGET * 8

    ran = repo.repro()  # no lock error, no manual clean-up
    assert "evaluate" in ran
    summary = json.loads((repo.path / "artifacts/tune/first/logreg-tfidf/summary.json").read_text())
    after = finished_trials(repo.path / ".optuna/journal.log")
    for theme in summary["themes"]:
        assert theme["trials_resumed"] == before.get(theme["study"], 0)
        assert after[theme["study"]] == BUDGET
    resumed = sum(t["trials_resumed"] for t in summary["themes"])
    print(
        f"killed with {sum(before.values())} trials finished; tune@logreg-tfidf resumed {resumed}, ran {BUDGET * 8 - resumed} more"
    )
    assert resumed > 0
    assert "up to date" in repo.run("dvc", "status").stdout


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    repos = [
        DvcRepo(tmp_path_factory.mktemp(f"run{i}"), train_rows=500, test_rows=60, families="fast") for i in range(2)
    ]
    for r in repos:  # up to evaluate: every output compared below (the stages after it write none of them)
        assert "evaluate" in stages_run(r.run("dvc", "repro", "evaluate").stdout)
    return repos


@pytest.mark.parametrize(
    "output",
    [
        "metrics/metrics.json",
        "artifacts/thresholds.json",
        "artifacts/selection.json",
        "metrics/results.md",
        "artifacts/final_models.json",
        "models/bundle.json",
        "models/bundle.joblib",
    ],
)
def test_two_clean_runs_with_the_same_seed_agree(two_runs, output):
    a, b = ((r.path / output).read_bytes() for r in two_runs)
    assert a == b


def test_a_journal_lock_left_by_a_killed_process_is_taken_over(tmp_path):
    """A process killed while it held the journal's lock leaves the lock behind: the next run
    must take it over after the lock's grace period, not spin on it forever. The period is
    Optuna's 30 s in a run; here it is shortened to 3 s (the lock's own minimum), which changes
    when the takeover happens, not whether make_storage's lock can be taken over at all."""
    code = (
        "import optuna, sys; from optuna.storages.journal import JournalFileSymlinkLock; "
        "JournalFileSymlinkLock.__init__.__defaults__ = (3,); "
        "from themetag.tuning.studies import make_storage; "
        "storage = make_storage('journal:.optuna/journal.log'); "
        "optuna.create_study(study_name='a', storage=storage); "
        "lock = storage._backend._lock; assert lock.acquire(); "  # held, never released: the holder 'dies'
        "optuna.create_study(study_name='b', storage=make_storage('journal:.optuna/journal.log')); print('resumed')"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=150
    )
    assert proc.returncode == 0 and "resumed" in proc.stdout, proc.stderr[-2000:]
