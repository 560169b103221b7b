"""One bar for the whole tuning of a `dvc repro`, with an ETA computed from the budget.

Each ``tune@`` and ``tune_costly@`` stage is its own process, so the run's progress is rebuilt
in each one from what is on disk:

* planned: every tuning candidate's budget (``themetag/tuning/budget.py``: trials x estimated seconds
  per trial, per theme it tunes), in the cost model's reference seconds. A costly candidate
  counts only the themes the cheap candidates left unsettled once their summaries exist, and
  every theme before that;
* done: the candidates whose ``summary.json`` was written since the `dvc` command started
  (found among this process's ancestors), plus this stage's finished themes;
* ETA: what is left of the plan at the pace of the tuning so far (seconds per reference
  second), timed from the later of the command's start and the newest fold or feature file.

The plan counts each study's full budget, so early stops make the run shorter than planned;
the pace already counts the stops seen so far. Off a terminal nothing is drawn: the logs keep
one line per finished theme.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from themetag.errors import InputError
from themetag.modelling.candidates import Candidate, candidates, family_conf
from themetag.pipeline import paths
from themetag.tuning.budget import study_budget
from themetag.tuning.settled import settled_themes


def theme_weight(params: dict, cand: Candidate, fold: np.ndarray) -> float:
    """Reference seconds one theme's study may take: its trials x the estimated cost of one."""
    k = int(fold.max()) + 1
    rows = max(int((fold != i).sum()) for i in range(k))
    plan = study_budget(family_conf(params, cand.family, cand.space), params["tuning"], k, rows)
    return plan.trials * (plan.trial_cost or 1.0)


def planned(params: dict, fold: np.ndarray, themes: list[str]) -> dict[str, float]:
    """Candidate stage -> the reference seconds its studies may take, in this run."""
    grid = [c for c in candidates(params) if not c.skip]
    try:
        open_themes = len([t for t in themes if t not in settled_themes(params)])
    except InputError:  # the cheap summaries are not all written yet: count every theme
        open_themes = len(themes)
    return {c.stage: theme_weight(params, c, fold) * (open_themes if c.costly else len(themes)) for c in grid}


def command_started(pid: int | None = None) -> float | None:
    """When the nearest `dvc` process above this one started (epoch seconds), from Linux's /proc;
    None elsewhere, or when the stage was not started by dvc."""
    try:
        boot = next(float(line.split()[1]) for line in open("/proc/stat") if line.startswith("btime"))
        ticks = os.sysconf("SC_CLK_TCK")
        pid = os.getppid() if pid is None else pid
        for _ in range(12):
            if pid <= 1:
                return None
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            if any(os.path.basename(a.decode(errors="replace")) == "dvc" for a in argv[:2]):
                return boot + int(stat[19]) / ticks  # field 22 of stat: start time in clock ticks
            pid = int(stat[1])
    except (OSError, ValueError, StopIteration):
        return None
    return None


def duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


@dataclass
class RunProgress:
    stage: str
    plan: dict[str, float]  # candidate stage -> planned reference seconds
    done_before: float  # planned seconds of the stages finished earlier in this dvc run
    started: float  # epoch seconds: when the dvc command (or, without one, this stage) started

    @classmethod
    def for_stage(cls, params: dict, cand: Candidate, fold: np.ndarray, themes: list[str]) -> RunProgress:
        plan = planned(params, fold, themes)
        started = command_started()
        if started is not None:  # the tuning began when the last of its inputs was written
            inputs = [paths.FOLDS, *(paths.features_file(s) for s in params["models"]["spaces"])]
            started = max([started, *(p.stat().st_mtime for p in inputs if p.exists())])
        done = 0.0
        if started is not None:
            for c in candidates(params):
                summary = paths.tune_dir(c.name, c.costly) / "summary.json"
                if c.stage != cand.stage and c.stage in plan and summary.exists():
                    if summary.stat().st_mtime >= started:
                        done += plan[c.stage]
        return cls(cand.stage, plan, done, started if started is not None else time.time())

    def line(self, done_here: float, themes: str, now: float | None = None) -> str:
        """The bar's text after ``done_here`` planned seconds of this stage."""
        total = sum(self.plan.values())
        done = min(total, self.done_before + done_here)
        elapsed = (time.time() if now is None else now) - self.started
        share = done / total if total > 0 else 1.0
        eta = "?" if done <= 0 else duration((total - done) * elapsed / done)
        bar = "#" * int(20 * share)
        return f"tuning [{bar:<20}] {100 * share:.0f}% of the budget, ETA {eta} | {self.stage} {themes} themes"

    def draw(self, done_here: float, themes: str, last: bool) -> None:
        if sys.stderr.isatty():
            print(f"\r\033[K{self.line(done_here, themes)}", end="\n" if last else "", file=sys.stderr, flush=True)
