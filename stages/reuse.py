"""Stage reuse: refit what the tuning record kept, and plan what is left to tune.

Per theme (``themetag/tuning/reuse.py`` says when and why): refit the recorded setting on the
current folds (with ``reuse.challengers``, its runner-up on another space too, keeping the better),
or leave the theme to tuning. Writes ``artifacts/reuse/``: ``summary.json`` (per
theme: refit or tune, and why), ``oof.csv`` (the refitted themes' out-of-fold scores) and
``plan/<candidate>.json`` (the studies each tune stage runs, ``themetag/tuning/plan.py``) and
``models.joblib`` (the refits' fold models, with the setting they were fitted with: train_final's
bag takes them instead of fitting the same models again).
Without a record, or with one tuned under other settings, every theme is left to tuning and the
plans are what the tune stages ran before there was a record.
"""

from __future__ import annotations

import time

import pandas as pd

from themetag.atomic import read_json, write_json, write_with
from themetag.errors import InputError, run_cli
from themetag.modelling.candidates import candidates, costly_families, family_conf
from themetag.pipeline import paths
from themetag.pipeline.artifacts import load_folds
from themetag.pipeline.params import load_params
from themetag.tagging.pickles import save_pickle
from themetag.tuning.plan import plan_body
from themetag.tuning.processes import run_unordered
from themetag.tuning.record import SETTING, applies
from themetag.tuning.reuse import REFIT, TUNE, before_refit, contenders, refit_check, refit_theme, switch
from themetag.tuning.studies import theme_setups


def main() -> None:
    params, raw = load_params(), load_params(resolve=False)
    settings, tuning = params["reuse"], params["tuning"]
    if not paths.RECORD_IN.is_file():
        raise InputError(f"{paths.RECORD_IN}: missing; run `dvc repro expand_labels` first")
    checked = read_json(paths.RECORD_IN)
    record = checked.get("record")
    ok, why = applies(record, raw)
    labels = pd.read_csv(paths.LABELS, keep_default_na=False)
    _, themes = load_folds()
    rows, min_recall = len(labels), float(tuning["early_stop"]["min_recall"])
    entries = record["themes"] if ok else {}
    out: dict[str, dict] = {}
    costly = set(costly_families(params))
    tried: dict[str, list[dict]] = {}  # theme -> its recorded setting and the runners-up refitted beside it
    refit: dict[str, list[tuple[str, dict]]] = {}  # space -> (theme, setting): each theme's and its challengers'
    for theme in themes:
        positives = int(labels[theme].sum())
        entry = entries.get(theme)
        reason = before_refit(entry, theme, rows, positives, settings) if ok else why
        out[theme] = {"action": TUNE if reason else REFIT, "why": reason, "positives": positives}
        if entry:
            out[theme].update(candidate=entry["candidate"], record_value=entry["value"])
        if not reason:
            tried[theme] = [entry, *contenders(entry, costly, settings)]
            for setting in tried[theme]:
                refit.setdefault(setting["space"], []).append((theme, setting))
    start, results = time.perf_counter(), {}
    if refit:
        from themetag.features.spaces import load_fold_matrices

        for space, pairs in refit.items():
            tasks = []
            # the slowest refits start first, and take the cores the others leave as they finish
            for t, e in sorted(pairs, key=lambda p: p[1]["family"] not in costly):
                fam = family_conf(params, e["family"], space)
                y = labels[t].to_numpy(dtype=int)
                tasks.append((t, fam, e["params"], y, int(e["seed"]), tuning, e["candidate"]))
            for res in run_unordered(refit_theme, tasks, load_fold_matrices(params, space), tuning["n_jobs"]):
                results.setdefault(res["theme"], {})[res["candidate"]] = res
    oof, models = {}, {}
    for t in (t for t in themes if t in results):
        e = entries[t]
        refits = {s["candidate"]: s for s in tried[t]}
        figures = {
            n: {"objective": results[t][n]["value"], "average_precision": results[t][n]["average_precision"]}
            for n in refits
        }
        y = labels[t].to_numpy(dtype=int)
        evidence = {n: {"figures": figures[n], "oof": results[t][n]["oof"]} for n in refits}
        criterion, margin = params["select"]["criterion"], float(settings.get("switch_sd", 0.0))
        best, switched = switch(e["candidate"], evidence, y, criterion, min_recall, margin)
        res, chosen = results[t][best], refits[best]
        bound, fell = refit_check(e, res["value"], out[t]["positives"], min_recall, settings)
        out[t].update(
            value=res["value"],
            average_precision=res["average_precision"],
            bound=round(bound, 6),
            setting={k: chosen[k] for k in ("candidate", *SETTING)},
            refits=figures,
        )
        if switched:
            out[t]["switch"] = switched
        if fell:
            out[t].update(action=TUNE, why=fell)
        else:
            oof[t] = res["oof"]
            models[t] = {**{k: chosen[k] for k in SETTING}, "models": res["models"]}
    kept = [t for t in themes if out[t]["action"] == REFIT]
    summary = {
        "record": checked.get("path"),
        "applied": ok,
        "why": why,
        "dropped": sorted(set(entries) - set(themes)),  # recorded themes the data no longer has
        "themes": out,
    }
    paths.PLAN_DIR.mkdir(parents=True, exist_ok=True)
    for stale in paths.PLAN_DIR.glob("*.json"):
        stale.unlink()
    frame = pd.DataFrame({t: oof[t] for t in kept}, index=range(rows))
    write_with(paths.REUSE_OOF, lambda p: frame.to_csv(p, index=False, float_format="%.9g"))
    kept_models = {t: models[t] for t in kept}  # in theme order: the same models, the same bytes
    save_pickle(kept_models, paths.REUSE_MODELS)
    for cand in candidates(params):
        if cand.skip:
            write_json(paths.plan_file(cand.name), {"skipped": cand.skip})
            continue
        _, _, setups = theme_setups(params, cand)
        planned = {t: fp for t, _, _, fp in setups if out[t]["action"] == TUNE}
        write_json(paths.plan_file(cand.name), plan_body(planned, paths.features_file(cand.space)))
    write_json(paths.REUSE, summary)
    tuned = [t for t in themes if out[t]["action"] == TUNE]
    if not ok:
        print(f"reuse: {why}; every theme is tuned")
    else:
        print(f"reuse: {len(kept)} theme(s) refitted from {summary['record']} in {time.perf_counter() - start:.1f}s")
        for t in tuned:
            print(f"reuse {t}: tuned again: {out[t]['why']}")
        if summary["dropped"]:
            print(f"reuse: the record's themes {', '.join(summary['dropped'])} are not in the data; ignored")


if __name__ == "__main__":
    run_cli(main)
