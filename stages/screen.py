"""Stage screen: the race's cheap evidence. Every first-round candidate's portfolio on every theme.

Per candidate (``models.families`` x ``models.spaces``, skipped pairs left out) and theme, the
family's portfolio (``conf/families/<family>.yaml``) runs as the first trials of the very study
its ``tune@`` stage resumes, so nothing is fitted twice (on large data, a sample's studies:
``tuning.race.sample_rows``). Per theme, the candidates more than
``tuning.race.margin`` below the best are raced out (``themetag/tuning/race.py``); the others go on.
Writes ``artifacts/screen/``: ``summary.json`` (values and decisions), ``seconds.json`` (time per
candidate) and one ``<candidate>.json`` per first-round candidate with only the themes it was
raced out of. Each ``tune@`` stage depends on its own file only, so an edit that changes one
candidate's screen values (an embeddings setting, say) reruns no other candidate's tuning unless
its own decisions change.
"""

from __future__ import annotations

import time

from themetag.atomic import write_json
from themetag.errors import run_cli
from themetag.modelling.candidates import candidates
from themetag.pipeline import paths
from themetag.pipeline.params import load_params
from themetag.tuning.processes import run_unordered
from themetag.tuning.race import decide, margin, portfolio, sampled_setups, setups_sample, theme_widening
from themetag.tuning.studies import study_setups
from themetag.tuning.trials import screen_theme


def main() -> None:
    params = load_params()
    race_margin = margin(params["tuning"])
    results: dict[str, dict[str, dict]] = {}
    spent: dict[str, float] = {}
    order: list[str] = []
    grid = [c for c in candidates(params) if not c.costly]
    sample, ys, rows, drawn = None, {}, None, False
    for cand in grid:
        if cand.skip:
            continue
        start = time.perf_counter()
        fam, tuning, mats, setups = study_setups(params, cand)
        if not setups:  # the tuning record kept every theme (stage reuse)
            continue
        points = portfolio(cand.family, fam)
        if not points:  # no evidence to race on: the candidate goes on everywhere
            print(f"screen {cand.name}: families.{cand.family} has no portfolio, so it is never raced out")
            continue
        if not drawn:  # the sample depends on the labels only: drawn once, for every candidate
            rows, drawn = setups_sample(tuning, setups), True
        mats, setups, sample = sampled_setups(rows, mats, setups)
        ys = {theme: y for theme, y, _, _ in setups}
        order = order or [theme for theme, *_ in setups]
        tasks = [(theme, cand.name, fam, y, tuning, seed, fp, points) for theme, y, seed, fp in setups]
        for res in run_unordered(screen_theme, tasks, mats, tuning["n_jobs"]):
            res.pop("seconds")
            results.setdefault(res.pop("theme"), {})[res.pop("candidate")] = res
        spent[cand.name] = time.perf_counter() - start
        ran = sum(r["trials"] for by in results.values() for c, r in by.items() if c == cand.name)
        on = f"a sample of {sample} rows" if sample else "every row"
        print(f"screen {cand.name}: {ran} portfolio trials on {len(setups)} themes ({on}) in {spent[cand.name]:.1f}s")
    themes = {}
    names = [c.name for c in grid]
    for theme in order:
        by_cand = dict(sorted(results[theme].items(), key=lambda kv: names.index(kv[0])))
        values = {c: r["best_value"] for c, r in by_cand.items()}
        widen = theme_widening(params["tuning"], values, ys[theme], sample)
        decisions = decide(values, race_margin, widen)
        themes[theme] = {
            "widening": round(widen, 6),
            "candidates": by_cand,
            "go_on": [c for c, why in decisions.items() if why is None],
            "raced_out": {c: why for c, why in decisions.items() if why is not None},
        }
        print(f"screen {theme}: go on {', '.join(themes[theme]['go_on'])}; raced out {len(themes[theme]['raced_out'])}")
    paths.SCREEN_DIR.mkdir(parents=True, exist_ok=True)
    for stale in paths.SCREEN_DIR.glob("*.json"):
        stale.unlink()
    write_json(paths.SCREEN, {"margin": race_margin, "sample_rows": sample, "themes": themes})
    write_json(paths.SCREEN_SECONDS, spent)
    for cand in grid:  # a skipped candidate's tune stage depends on its file too
        out = [t for t in order if cand.name in themes[t]["raced_out"]]
        write_json(paths.screen_file(cand.name), {"skipped": cand.skip} if cand.skip else {"raced_out": out})


if __name__ == "__main__":
    run_cli(main)
