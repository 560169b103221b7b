"""Stage learning_curve: where the next labels pay, per theme (``themetag/curves/``).

Each theme's selected setting is refitted on nested, stratified shares of its folds' training
rows (``learning_curve.fractions`` x ``seeds``), scored out of fold; an inverse power law fitted
to the average precision forecasts the figure at ``horizons`` times today's rows, with a
bootstrap interval, beside the no-gain rule. Writes ``metrics/learning_curve.json`` (per theme:
points, forecasts, verdict, positives needed) and ``metrics/learning_curves/<theme>.csv`` (the
plot). It reads no threshold parameter, so a threshold edit never reruns it; a theme whose
labels, folds and selection are unchanged keeps its last curve (the JSON persists, keyed by
their fingerprint and the curve code's). A round that only appended rows carries each curve
forward (``themetag/curves/carry.py``) until the rows have grown past
``learning_curve.remeasure_growth`` or today's figure leaves the curve's interval.
"""

from __future__ import annotations

import shutil
import time

import pandas as pd

from themetag.atomic import read_json, write_json, write_with
from themetag.curves.plot_rows import plot_frame
from themetag.errors import run_cli
from themetag.fingerprint import fingerprint
from themetag.modelling.candidates import family_conf
from themetag.pipeline import paths
from themetag.pipeline.artifacts import load_folds
from themetag.pipeline.params import load_params
from themetag.tuning.processes import run_unordered


def main(keep_points: str | None = None) -> None:
    """``keep_points``: also save every theme's subset scores there (joblib), for a benchmark
    that compares forecast rules on the same fits."""
    from joblib import Parallel, delayed

    from themetag.curves.carry import carry, measured_key
    from themetag.curves.theme_curve import code_digest, fit_point, fold_sizes, measurable, shares, summarise
    from themetag.features.spaces import load_fold_matrices

    params = load_params()
    settings, early_stop, n_jobs = params["learning_curve"], params["tuning"]["early_stop"], params["tuning"]["n_jobs"]
    labels = pd.read_csv(paths.LABELS, keep_default_na=False)
    fold, _ = load_folds()
    selection = read_json(paths.SELECTION)
    oof = pd.read_csv(paths.SELECTED_OOF)
    last = read_json(paths.LEARNING_CURVE).get("themes", {}) if paths.LEARNING_CURVE.is_file() else {}
    out, todo, start, code = {}, {}, time.perf_counter(), code_digest()
    carried, measured = [], {}
    for theme, sel in selection.items():
        y, scores = labels[theme].to_numpy(dtype=int), oof[theme].to_numpy(dtype=float)
        entry = {k: sel[k] for k in ("candidate", "family", "space", "params", "seed")}
        key = fingerprint(entry, y, fold, scores, settings, early_stop, code)
        if last.get(theme, {}).get("key") == key:
            out[theme] = last[theme]
        elif kept := carry(last.get(theme), entry, y, scores, settings, early_stop, code):
            out[theme] = {**kept, "key": key}
            carried.append(theme)
        else:
            todo[theme] = key
            measured[theme] = {"rows": len(y), "key": measured_key(entry, y, settings, early_stop, code)}
    points: dict[str, dict[float, list]] = {t: {} for t in todo}
    sizes: dict[str, list[float]] = {}
    by_space: dict[str, list[str]] = {}
    for theme in todo:
        by_space.setdefault(selection[theme]["space"], []).append(theme)
    for space, names in by_space.items():
        mats = load_fold_matrices(params, space)
        tasks = []
        for theme in names:
            sel, y = selection[theme], labels[theme].to_numpy(dtype=int)
            sizes[theme] = fold_sizes(y, mats)
            if not measurable(y, settings):
                continue
            fam = family_conf(params, sel["family"], space)
            for f in reversed(shares(settings)):  # the largest first: the pool ends on short tasks
                for s in range(int(settings["seeds"])):
                    tasks.append((theme, f, s, fam, sel["params"], int(sel["seed"]), y))
        tasks.sort(key=lambda t: -float(t[3].get("cost_us") or 1) * t[1])  # costly fits first
        for theme, f, scores in run_unordered(fit_point, tasks, mats, n_jobs):
            points[theme].setdefault(f, []).append(scores)
    for theme in todo:
        points[theme] = {f: sorted(v, key=lambda a: a.tobytes()) for f, v in points[theme].items()}
        points[theme][1.0] = [oof[theme].to_numpy(dtype=float)]
    if keep_points:
        import joblib

        joblib.dump(
            {t: {"y": labels[t].to_numpy(dtype=int), "points": points[t], "sizes": sizes[t]} for t in todo}, keep_points
        )
    results = Parallel(n_jobs=n_jobs if len(todo) > 1 else 1)(
        delayed(summarise)(labels[t].to_numpy(dtype=int), points[t], sizes[t], settings, early_stop) for t in todo
    )
    for theme, res in zip(todo, results, strict=True):
        y = labels[theme].to_numpy(dtype=int)
        base = {"key": todo[theme], "candidate": selection[theme]["candidate"], "positives": int(y.sum())}
        out[theme] = {**base, "rows": len(y), **res, "measured": measured[theme]}
    themes = {t: out[t] for t in selection}
    write_json(paths.LEARNING_CURVE, {"settings": settings, "early_stop": early_stop, "themes": themes})
    shutil.rmtree(paths.LEARNING_CURVES_DIR, ignore_errors=True)
    paths.LEARNING_CURVES_DIR.mkdir(parents=True)
    for theme, curve in themes.items():
        frame = plot_frame(curve)
        if frame is not None:
            write_with(paths.LEARNING_CURVES_DIR / f"{theme}.csv", lambda p, f=frame: f.to_csv(p, index=False))
    print(
        f"learning_curve: {len(todo)} theme(s) measured, {len(themes) - len(todo) - len(carried)} unchanged, "
        f"{len(carried)} carried from an earlier round (learning_curve.remeasure_growth), "
        f"in {time.perf_counter() - start:.1f}s"
    )


if __name__ == "__main__":
    run_cli(main)
