"""Stage tune@<family>-<space> (or tune_costly@...): one Optuna study per theme for one candidate, in parallel processes.

A skipped candidate (see ``themetag/modelling/candidates.py``) writes a summary that says why, and no scores.
A theme the screen raced this candidate out of (``themetag/tuning/race.py``) is not tuned; the
summary says why.
"""

from __future__ import annotations

import argparse
import sys
import time

import pandas as pd

from themetag.atomic import read_json, write_json, write_with
from themetag.errors import run_cli
from themetag.features.spaces import FoldMatrices
from themetag.modelling.candidates import Candidate, candidate
from themetag.pipeline import paths
from themetag.pipeline.artifacts import load_folds
from themetag.pipeline.params import load_params
from themetag.tuning.budget import Budget
from themetag.tuning.processes import run_unordered
from themetag.tuning.race import decide, margin, portfolio, sampled_setups, theme_widening
from themetag.tuning.run_progress import RunProgress, theme_weight
from themetag.tuning.settled import race_bars, themes_to_tune
from themetag.tuning.studies import study_setups
from themetag.tuning.trials import budget_of, screen_theme, tune_theme


def cut_note(plan: Budget) -> str:
    if not plan.cut:
        return ""
    return f" (budget {plan.trials} of {plan.asked} trials: est. {plan.trial_cost:.1f}s each, tuning.budget)"


def write_skipped(cand: Candidate) -> None:
    out = paths.tune_dir(cand.name, cand.costly)
    write_json(out / "summary.json", {"family": cand.family, "space": cand.space, "skipped": cand.skip})
    print(f"{cand.stage}: skipped ({cand.skip})")


def costly_screen(
    cand: Candidate, fam: dict, tuning: dict, points: list, mats: FoldMatrices, setups: list[tuple], sample: int
) -> dict[str, str]:
    """Theme -> why the costly candidate stops there: its portfolio on the screen's sample, more
    than the widened margin below the best first-round screen value (``race.py``)."""
    screened = read_json(paths.SCREEN)["themes"]
    tasks = [(theme, cand.name, fam, y, tuning, seed, fp, points) for theme, y, seed, fp in setups]
    ys = {theme: y for theme, y, _, _ in setups}
    out = {}
    for res in run_unordered(screen_theme, tasks, mats, tuning["n_jobs"]):
        theme = res["theme"]
        values = {c: r["best_value"] for c, r in screened.get(theme, {}).get("candidates", {}).items()}
        values[cand.name] = res["best_value"]
        why = decide(values, margin(tuning), theme_widening(tuning, values, ys[theme], sample))[cand.name]
        if why is not None:
            out[theme] = f"{why} (a sample of {sample} rows)"
    return out


def run(family: str, space: str) -> None:
    params = load_params()
    cand = candidate(params, family, space)
    if cand.skip:
        write_skipped(cand)
        return
    fam, tuning, mats, setups = study_setups(params, cand)
    themes, settled, raced = themes_to_tune(params, cand, [s[0] for s in setups])
    for theme, why in settled.items():
        print(f"{cand.stage} {theme}: not tuned, settled: {why}", flush=True)
    for theme, why in raced.items():
        print(f"{cand.stage} {theme}: not tuned, raced out: {why}", flush=True)
    every, setups = setups, [s for s in setups if s[0] in themes]
    points = portfolio(family, fam)
    bars = race_bars(params, themes) if cand.costly else {}
    if cand.costly and bars and points:
        screen_mats, screen_setups, sample = sampled_setups(tuning, mats, every)  # the screen's very sample
        screen_setups = [s for s in screen_setups if s[0] in themes]
        if sample:  # large data: the costly portfolio races on the screen's sample, against its values
            out = costly_screen(cand, fam, tuning, points, screen_mats, screen_setups, sample)
            for theme, why in out.items():
                print(f"{cand.stage} {theme}: not tuned, raced out: {why}", flush=True)
            raced.update(out)
            themes = [t for t in themes if t not in out]
            setups, bars = [s for s in setups if s[0] in themes], {}
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
    summary = {
        "family": family,
        "space": space,
        "skipped": None,
        "settled": settled,
        "raced_out": raced,
        "seconds": seconds,
        "themes": [results[t] for t in themes],
    }
    write_json(out / "summary.json", summary)
    print(f"{cand.stage}: {len(themes)} themes in {seconds:.1f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", required=True)
    parser.add_argument("--space", default="tfidf")
    args = parser.parse_args(sys.argv[1:])
    run(args.family, args.space)


if __name__ == "__main__":
    run_cli(main)
