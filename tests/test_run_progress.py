"""The overall tuning bar: its plan comes from the budget, its progress from this dvc run's summaries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from harness.dvc_repo import ROOT
from themetag.modelling.candidates import candidates
from themetag.pipeline.compose import compose
from themetag.tuning.run_progress import RunProgress, command_started, planned, theme_weight

THEMES = ["food", "staff", "price"]


@pytest.fixture
def params() -> dict:
    return yaml.safe_load(compose(ROOT / "conf", ["models.spaces=[tfidf]"]))


def write_summary(cand, themes: dict[str, str]) -> Path:
    path = Path("artifacts/tune") / ("costly" if cand.costly else "first") / cand.name / "summary.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [{"theme": t, "stop_reason": why, "oof_precision": 0.95, "oof_recall": 0.6} for t, why in themes.items()]
    path.write_text(json.dumps({"themes": rows}))
    return path


def test_costly_candidates_plan_only_the_themes_left_open(params, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fold = np.arange(2000) % 5
    grid = [c for c in candidates(params) if not c.skip]
    cheap, costly = [c for c in grid if not c.costly], [c for c in grid if c.costly]
    assert cheap and costly
    before = planned(params, fold, THEMES)  # no cheap summary yet: every theme
    assert before[costly[0].stage] == pytest.approx(3 * theme_weight(params, costly[0], fold))
    for i, c in enumerate(cheap):
        write_summary(c, {t: "early_stop" if (i == 0 and t == "food") else "n_trials" for t in THEMES})
    after = planned(params, fold, THEMES)
    assert after[costly[0].stage] == pytest.approx(2 * theme_weight(params, costly[0], fold))
    assert after[cheap[0].stage] == before[cheap[0].stage] == pytest.approx(3 * theme_weight(params, cheap[0], fold))


def test_only_summaries_written_in_this_run_count_as_done(params, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fold = np.arange(2000) % 5
    cheap = [c for c in candidates(params) if not c.skip and not c.costly]
    started = time.time() - 600
    old = write_summary(cheap[0], dict.fromkeys(THEMES, "n_trials"))
    os.utime(old, (started - 3600, started - 3600))  # from an earlier run
    write_summary(cheap[1], dict.fromkeys(THEMES, "n_trials"))
    monkeypatch.setattr("themetag.tuning.run_progress.command_started", lambda: started)
    bar = RunProgress.for_stage(params, cheap[2], fold, THEMES)
    assert bar.done_before == pytest.approx(bar.plan[cheap[1].stage])
    # 600 s for what is done so far: the rest of the plan at that pace
    done_here = bar.plan[cheap[2].stage] / 3
    done = bar.done_before + done_here
    rest = sum(bar.plan.values()) - done
    line = bar.line(done_here, "1/3", now=started + 600)
    assert f"ETA {rest * 600 / done / 60:.0f} min" in line
    assert bar.line(done_here, "1/3", now=started + 100 * done / rest).count("ETA 100 s") == 1
    assert f"{100 * done / sum(bar.plan.values()):.0f}% of the budget" in line
    assert line.endswith(f"{cheap[2].stage} 1/3 themes")


def test_the_run_starts_when_the_dvc_command_did(tmp_path):
    fake = tmp_path / "dvc"  # a process named dvc, as the dvc entry point is
    fake.write_text(
        "import subprocess, sys\n"
        "sys.exit(subprocess.run([sys.executable, '-c', "
        "'from themetag.tuning.run_progress import command_started; print(command_started())']).returncode)\n"
    )
    before = time.time()
    out = subprocess.run([sys.executable, str(fake)], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert before - 2 <= float(out) <= time.time()
    assert command_started(os.getpid()) is None  # pytest has no dvc above it
