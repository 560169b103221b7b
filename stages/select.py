"""Stage select: per theme, the candidate (model family on a feature space) whose out-of-fold result is best.

Rule (``select.criterion``): ``objective`` takes the highest tuning objective (``tuning.objective``;
by default the rule's precision at the early-stop recall on the pooled out-of-fold scores, plus
the recall once that precision is 1.0), ties broken by out-of-fold average precision;
``average_precision`` uses average precision alone. Every candidate's scores come from the same
folds, so they compare fairly across families and spaces. It never reads threshold parameters,
so a threshold change cannot change the models.

A theme the ``reuse`` stage refitted from the tuning record keeps the setting that refitted best
(its recorded one, or with ``reuse.challengers`` its runner-up on another space), with that
refit's out-of-fold scores. The stage also writes the next tuning record, ``artifacts/tuning_record.json``
(``themetag/tuning/record.py``): the refitted themes' entries as they were (or with the runner-up
promoted), the tuned themes' new winners, each with ``reuse.challengers`` runners-up.
"""

from __future__ import annotations

import pandas as pd
from sklearn.metrics import average_precision_score

from themetag.atomic import read_json, write_json, write_with
from themetag.errors import InputError, run_cli
from themetag.modelling.candidates import candidates
from themetag.modelling.ranking import rank
from themetag.pipeline import paths
from themetag.pipeline.artifacts import load_folds
from themetag.pipeline.params import load_params
from themetag.tuning.record import challenger, config_digest, promote, sealed, theme_entry

REPORTED = (
    "best_value",
    "trials_complete",
    "trials_pruned",
    "trials_failed",
    "stop_reason",
    "budget",
    "seconds",
    "fit_seconds",
)


def picked(result: dict) -> dict:
    """A tune stage's winning setting for a theme, as the record keeps it."""
    return {"params": result["best_params"], "seed": result["seed"]}


def next_tuning_record(themes: dict[str, dict]) -> dict:
    """The record of this run: what ``themetag keep-tuning`` puts in ``reuse.record``."""
    from themetag.features.encoder_choice import listed_auto

    raw = load_params(resolve=False)
    choice = read_json(paths.ENCODER_CHOICE) if listed_auto(raw) and paths.ENCODER_CHOICE.is_file() else None
    encoder = {"model": choice["model"], "max_tokens": int(choice["max_tokens"])} if choice else None
    return sealed({"format": 1, "config": config_digest(raw), "encoder": encoder, "themes": themes})


def main() -> None:
    params = load_params()
    criterion = params["select"]["criterion"]
    grid = candidates(params)
    labels = pd.read_csv(paths.LABELS, keep_default_na=False)
    _, themes = load_folds()
    summaries, oofs, skipped = {}, {}, {}
    settled: dict[str, dict[str, str]] = {}
    raced: dict[str, dict[str, str]] = {}
    for cand in grid:
        folder = paths.tune_dir(cand.name, cand.costly)
        if not (folder / "summary.json").exists():
            raise InputError(f"{folder}/summary.json: missing; run `dvc repro` so that tune@{cand.name} runs")
        summary = read_json(folder / "summary.json")
        if summary.get("skipped"):
            skipped[cand.name] = summary["skipped"]
            continue
        summaries[cand.name] = {r["theme"]: r for r in summary["themes"]}
        oofs[cand.name] = pd.read_csv(folder / "oof.csv") if summary["themes"] else pd.DataFrame()
        if summary.get("settled"):
            settled[cand.name] = summary["settled"]
        if summary.get("raced_out"):
            raced[cand.name] = summary["raced_out"]
    tuned = [c for c in grid if c.name in summaries]
    reuse = read_json(paths.REUSE)["themes"]
    record = read_json(paths.RECORD_IN).get("record") or {}
    kept = [t for t in themes if reuse[t]["action"] == "refit"]
    refit_oof = pd.read_csv(paths.REUSE_OOF) if kept else pd.DataFrame()
    next_record: dict[str, dict] = {}
    if not tuned and len(kept) < len(themes):
        raise InputError(f"models: every candidate is skipped ({skipped}); list a family that fits a listed space")
    selection, selected_oof = {}, {}
    screen = read_json(paths.SCREEN)["themes"] if paths.SCREEN.exists() else {}
    report: dict = {
        "themes": {},
        "candidates": {},
        "spaces": {},
        "skipped": skipped,
        "settled": settled,
        "raced_out": raced,
        "reuse": {t: {k: reuse[t].get(k) for k in ("action", "why", "record_value", "value", "bound")} for t in themes},
    }
    for theme in themes:
        y = labels[theme].to_numpy(dtype=int)
        if theme in kept:  # the recorded setting, or the challenger that refitted best
            entry, got = record["themes"][theme], reuse[theme]
            chosen = got["setting"]
            selection[theme] = {
                **{k: chosen[k] for k in ("candidate", "family", "space", "params", "seed")},
                "criterion": criterion,
                "candidates": got["refits"],
                "refitted": True,
            }
            selected_oof[theme] = refit_oof[theme]
            report["themes"][theme] = {
                name: {"best_value": f["objective"], "stop_reason": "refit"} for name, f in got["refits"].items()
            }
            same = chosen["candidate"] == entry["candidate"]
            next_record[theme] = entry if same else promote(entry, chosen["candidate"])
            continue
        ran = [c for c in tuned if theme in summaries[c.name]]  # a costly candidate skips settled themes
        if not ran:
            raise InputError(
                f"{paths.REUSE}: theme {theme!r} is left to tuning, but no tune stage's output has it; run `dvc repro`"
            )
        scored = {}
        for c in ran:
            ap = float(average_precision_score(y, oofs[c.name][theme].to_numpy()))
            scored[c.name] = {"objective": summaries[c.name][theme]["best_value"], "average_precision": ap}
        best = max(ran, key=lambda c, s=scored: rank(s[c.name], criterion))  # ties: first in grid order
        result = summaries[best.name][theme]
        selection[theme] = {
            "candidate": best.name,
            "family": best.family,
            "space": best.space,
            "params": result["best_params"],
            "seed": result["seed"],
            "criterion": criterion,
            "candidates": scored,
        }
        selected_oof[theme] = oofs[best.name][theme]
        runners = []  # refitted beside the winner in the next rounds: per other space, its best cheap candidate
        for c in sorted(ran, key=lambda c, s=scored: rank(s[c.name], criterion), reverse=True):
            if c.space != best.space and not c.costly and all(c.space != r.space for r in runners):
                runners.append(c)
        runners = runners[: int(params["reuse"]["challengers"])]
        challengers = [
            challenger(
                {"candidate": c.name, "family": c.family, "space": c.space, **picked(summaries[c.name][theme])},
                summaries[c.name][theme]["best_value"],
                scored[c.name]["average_precision"],
            )
            for c in runners
        ]
        next_record[theme] = theme_entry(
            selection[theme],
            result["best_value"],
            scored[best.name]["average_precision"],
            len(y),
            int(y.sum()),
            challengers,
        )
        report["themes"][theme] = {c.name: {k: summaries[c.name][theme][k] for k in REPORTED} for c in ran}
        for name, why in ((n, r[theme]) for n, r in raced.items() if theme in r):  # stopped after the screen
            shown = screen.get(theme, {}).get("candidates", {}).get(name, {})
            report["themes"][theme][name] = {
                "best_value": shown.get("best_value"),
                "trials_complete": shown.get("trials"),
                "stop_reason": "raced_out",
                "why": why,
            }
    screen_seconds = read_json(paths.SCREEN_SECONDS) if paths.SCREEN_SECONDS.exists() else {}
    for c in tuned:
        rows = summaries[c.name].values()
        report["candidates"][c.name] = {
            "selected": sum(s["candidate"] == c.name for s in selection.values()),
            "screen_seconds": screen_seconds.get(c.name, 0.0),  # its portfolio on every theme (stage screen)
            "raced_out": len(raced.get(c.name, {})),
            "seconds": sum(r["seconds"] for r in rows),
            "fit_seconds": sum(r["fit_seconds"] for r in rows),
            "trials": sum(r["trials_complete"] + r["trials_pruned"] for r in rows),
        }
    for space in params["models"]["spaces"]:
        report["spaces"][space] = sum(s["space"] == space for s in selection.values())
    write_json(paths.SELECTION, selection)
    write_json(paths.RECORD_OUT, next_tuning_record(next_record))
    write_with(paths.SELECTED_OOF, lambda p: pd.DataFrame(selected_oof).to_csv(p, index=False, float_format="%.9g"))
    write_json(paths.TUNING_METRICS, report)
    if skipped:
        print("select: skipped " + "; ".join(f"{n} ({why})" for n, why in skipped.items()))
    for name, themes_raced in raced.items():
        print(f"select: {name} raced out on {len(themes_raced)} theme(s): {', '.join(themes_raced)}")
    for name, themes_settled in settled.items():
        print(f"select: {name} not tuned on {len(themes_settled)} settled theme(s): {', '.join(themes_settled)}")
    print("select: " + ", ".join(f"{t}={s['candidate']}" for t, s in selection.items()))


if __name__ == "__main__":
    run_cli(main)
