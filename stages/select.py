"""Stage select: per theme, the family whose out-of-fold result is best.

Rule (``select.criterion``): ``objective`` takes the highest tuning objective (mean per-fold
precision at the early-stop recall, plus recall once precision is 1.0), ties broken by
out-of-fold average precision; ``average_precision`` uses average precision alone. It never
reads threshold parameters, so a threshold change cannot change the models.
"""

from __future__ import annotations

import pandas as pd
from sklearn.metrics import average_precision_score

from stages import paths
from stages.atomic import read_json, write_json, write_with
from stages.errors import InputError, run_cli
from stages.folds import load_folds
from stages.params import load_params


def rank(candidate: dict, criterion: str) -> tuple[float, ...]:
    """Sort key of one family's result for a theme: higher is better."""
    if criterion == "objective":
        return (candidate["objective"], candidate["average_precision"])
    if criterion == "average_precision":
        return (candidate["average_precision"],)
    raise ValueError(f"select.criterion={criterion!r}; use objective or average_precision")


def main() -> None:
    params = load_params()
    criterion = params["select"]["criterion"]
    families = list(params["models"]["families"])
    labels = pd.read_csv(paths.LABELS, keep_default_na=False)
    _, themes = load_folds()
    summaries, oofs = {}, {}
    for fam in families:
        folder = paths.tune_dir(fam)
        if not (folder / "summary.json").exists():
            raise InputError(f"{folder}/summary.json: missing; run `dvc repro` so that tune@{fam} runs")
        summaries[fam] = {r["theme"]: r for r in read_json(folder / "summary.json")["themes"]}
        oofs[fam] = pd.read_csv(folder / "oof.csv")
    selection, selected_oof, tuning_report = {}, {}, {"themes": {}, "families": {}}
    for theme in themes:
        y = labels[theme].to_numpy(dtype=int)
        cands = {}
        for fam in families:
            r = summaries[fam][theme]
            ap = float(average_precision_score(y, oofs[fam][theme].to_numpy()))
            cands[fam] = {"objective": r["best_value"], "average_precision": ap}
        best = max(families, key=lambda f, c=cands: rank(c[f], criterion))
        selection[theme] = {
            "family": best,
            "params": summaries[best][theme]["best_params"],
            "seed": params["tuning"]["seed"] + themes.index(theme),
            "criterion": criterion,
            "candidates": cands,
        }
        selected_oof[theme] = oofs[best][theme]
        tuning_report["themes"][theme] = {
            fam: {
                k: summaries[fam][theme][k]
                for k in (
                    "best_value",
                    "trials_complete",
                    "trials_pruned",
                    "trials_failed",
                    "stop_reason",
                    "seconds",
                    "fit_seconds",
                )
            }
            for fam in families
        }
    for fam in families:
        rows = summaries[fam].values()
        tuning_report["families"][fam] = {
            "selected": sum(s["family"] == fam for s in selection.values()),
            "seconds": sum(r["seconds"] for r in rows),
            "fit_seconds": sum(r["fit_seconds"] for r in rows),
            "trials": sum(r["trials_complete"] + r["trials_pruned"] for r in rows),
        }
    write_json(paths.SELECTION, selection)
    write_with(paths.SELECTED_OOF, lambda p: pd.DataFrame(selected_oof).to_csv(p, index=False, float_format="%.9g"))
    write_json(paths.TUNING_METRICS, tuning_report)
    print("select: " + ", ".join(f"{t}={s['family']}" for t, s in selection.items()))


if __name__ == "__main__":
    run_cli(main)
