"""One candidate's tuning stage (``tune@`` / ``tune_costly@``): a study per theme it is still in
the race on, in parallel processes, and its output folder (``summary.json``, ``oof.csv``,
``trials/``). A theme the screen raced it out of (``themetag/tuning/race.py``), or that a cheaper
candidate settled (``settled.py``), is not tuned; the summary says why.
"""

from __future__ import annotations

import sys
import time

import pandas as pd

from themetag.atomic import write_json, write_with
from themetag.modelling.candidates import Candidate
from themetag.pipeline import paths
from themetag.pipeline.artifacts import load_folds
from themetag.tuning.budget import Budget
from themetag.tuning.processes import run_unordered
from themetag.tuning.race import portfolio, search_tuning
from themetag.tuning.run_progress import RunProgress, theme_weight
from themetag.tuning.settled import race_bars, themes_to_tune
from themetag.tuning.studies import study_setups
from themetag.tuning.trials import budget_of, tune_theme


def cut_note(plan: Budget) -> str:
    if not plan.cut:
        return ""
    return f" (budget {plan.trials} of {plan.asked} trials: est. {plan.trial_cost:.1f}s each, tuning.budget)"


def run(params: dict, cand: Candidate) -> None:
    """Tune ``cand`` on every theme it is still in the race on; write its output folder."""
    family = cand.family
    fam, tuning, mats, setups = study_setups(params, cand)
    themes, settled, raced = themes_to_tune(params, cand, [s[0] for s in setups])
    for theme, why in settled.items():
        print(f"{cand.stage} {theme}: not tuned, settled: {why}", flush=True)
    for theme, why in raced.items():
        print(f"{cand.stage} {theme}: not tuned, raced out: {why}", flush=True)
    setups = [s for s in setups if s[0] in themes]
    if not setups:  # the tuning record kept every theme (stage reuse), or the others settled them
        write_summary(cand, settled, raced, 0.0, {}, [])
        print(f"{cand.stage}: nothing to tune (kept by the tuning record, settled or raced out)")
        return
    points = portfolio(family, fam)
    bars = race_bars(params, themes) if cand.costly else {}
    tuning = search_tuning(tuning, sum(len(v) for v in mats.valid_idx), points, cand.costly)
    tasks = [(theme, cand.name, fam, y, tuning, seed, fp, points, bars.get(theme)) for theme, y, seed, fp in setups]
    plans = {theme: budget_of(fam, tuning, mats) for theme in themes}
    fold, all_themes = load_folds()
    bar = RunProgress.for_stage(params, cand, fold, all_themes)
    per_theme = theme_weight(params, cand, fold)
    start = time.perf_counter()
    results = {}
    for res in run_unordered(tune_theme, tasks, mats, tuning["n_jobs"]):
        results[res["theme"]] = res
        if sys.stderr.isatty():
            print("\r\033[K", end="", file=sys.stderr, flush=True)  # clear the bar, log, redraw
        print(
            f"{cand.stage} {res['theme']}: best {res['best_value']:.3f} "
            f"(oof P={res['oof_precision']:.3f} R={res['oof_recall']:.3f}) after "
            f"{res['trials_complete']} complete + {res['trials_pruned']} pruned trials "
            f"[{res['stop_reason']}, {res['seconds']:.1f}s]{cut_note(plans[res['theme']])}",
            flush=True,
        )
        bar.draw(per_theme * len(results), f"{len(results)}/{len(tasks)}", last=len(results) == len(tasks))
    out = paths.tune_dir(cand.name, cand.costly)
    oof = pd.DataFrame({t: results[t]["oof"] for t in themes})
    write_with(out / "oof.csv", lambda p: oof.to_csv(p, index=False, float_format="%.9g"))
    for t in themes:
        trials = results[t].pop("trials")
        write_with(out / "trials" / f"{t}.csv", lambda p, df=trials: df.to_csv(p, index=False))
        results[t].pop("oof")
    seconds = time.perf_counter() - start
    write_summary(cand, settled, raced, seconds, results, themes)
    print(f"{cand.stage}: {len(themes)} themes in {seconds:.1f}s")


def write_summary(cand: Candidate, settled: dict, raced: dict, seconds: float, results: dict, themes: list) -> None:
    summary = {
        "family": cand.family,
        "space": cand.space,
        "skipped": None,
        "settled": settled,
        "raced_out": raced,
        "seconds": seconds,
        "themes": [results[t] for t in themes],
    }
    write_json(paths.tune_dir(cand.name, cand.costly) / "summary.json", summary)
