"""Do the learning curves forecast what more labels buy? (issue 40's validation)

    python -m bench.learning_forecast [--dataset mams_acsa] [--seeds 0 1 2 3 4] [--start 500]
                                      [--added 200 400 800] [--work DIR] [HYDRA_OVERRIDE ...]

Per seed: ``start`` training rows drawn at random (the label loop's draw: ``bench/label_loop.py``,
its random arm), the pipeline trained on them by the stages' own code with the label loop's smoke
budget, and the ``learning_curve`` stage's forecast read at the multiples of today's rows that
``added`` random labels give. Then the pipeline is trained again on ``start + added`` rows (the
same seeded order, so each set holds the smaller ones) and each theme's average precision measured
on the data set's test.csv, which nothing chose on. Reported per data set and added labels:

- the mean absolute error, over themes and seeds, of the forecast and of the no-gain baseline
  (today's out-of-fold AP carried forward) against that measured test AP;
- how often the forecast's 80% interval covered it;
- per verdict at round 0 (rising, flat, at target), the median test AP gained after the most
  labels.

A theme counts where the curve measured it at round 0 and the later run trained it. With
``--noise-share``, a made-up theme is put on that share of rows at random, in train.csv and
test.csv alike: no text predicts it, so its curve is flat by construction, and the verdicts can
be checked on a theme whose answer is known. ``--work``
keeps each run's figures, so an interrupted benchmark resumes where it stopped.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score
from tabulate import tabulate

from bench.label_loop import BUDGET, cache_encoder
from bench.pipeline_targets import DATASETS
from bench.results_path import result_path, with_provenance
from harness.dvc_repo import ROOT
from harness.trained import run_stages
from themetag.atomic import read_json, write_json, write_text
from themetag.pipeline import paths
from themetag.reporting.labels_pay import test_ap_sds, test_aps, to_test_level

TEXT, THEMES = "Processed Text", "Themes"


def measure(work: Path, overrides: list[str], curve_points: Path | None = None) -> dict:
    """Train in ``work`` (its data/ written) and read each theme's figures; ``curve_points``:
    where to keep the learning curve's subset scores (round 0)."""
    old = Path.cwd()
    os.chdir(work)
    try:
        shutil.rmtree(".optuna", ignore_errors=True)
        for stale in (paths.LEARNING_CURVE, paths.RECORD_OUT):
            stale.unlink(missing_ok=True)
        run_stages(overrides, review=False, curve_points=str(curve_points) if curve_points else None)
        test = pd.read_csv(paths.TEST_LABELS, keep_default_na=False)
        scores = pd.read_csv(paths.TEST_SCORES)
        labels = pd.read_csv(paths.LABELS, keep_default_na=False)
        oof = pd.read_csv(paths.SELECTED_OOF)
        out = {}
        tests, sds = test_aps(test, scores), test_ap_sds(test, scores)
        for t in oof.columns:
            if t in tests:
                out[t] = {
                    "test_ap": tests[t],
                    "test_sd": sds[t],
                    "test_positives": int(test[t].sum()),
                    "oof_ap": float(average_precision_score(labels[t], oof[t])),
                    "positives": int(labels[t].sum()),
                }
        curves = read_json(paths.LEARNING_CURVE) if paths.LEARNING_CURVE.is_file() else {}
        return {
            "themes": out,
            "curves": curves.get("themes", {}),
            "settings": curves.get("settings"),
            "rows": len(labels),
        }
    finally:
        os.chdir(old)


NOISE = "label noise"  # the made-up theme of --noise-share


def with_noise(frame: pd.DataFrame, share: float, seed: int) -> pd.DataFrame:
    """``frame`` with the theme ``label noise`` added to a seeded random ``share`` of its rows:
    a theme no text predicts, whose curve is flat by construction."""
    if not share:
        return frame
    out = frame.copy()
    hit = np.random.default_rng(seed).random(len(out)) < share
    out.loc[hit, THEMES] = [f"{t}, {NOISE}" if t.strip() else NOISE for t in out.loc[hit, THEMES]]
    return out


def run_seed(dataset: str, seed: int, args, overrides: list[str], work_root: Path) -> dict:
    data_dir = DATASETS[dataset]
    full = with_noise(pd.read_csv(data_dir / "train.csv", dtype=str, keep_default_na=False), args.noise_share, 101)
    order = np.random.default_rng(seed).permutation(len(full))
    horizons = [(args.start + a) / args.start for a in args.added]
    out = {}
    for added in [0, *args.added]:
        done = work_root / f"{dataset}-{seed}-{added}.json"
        if done.is_file():
            out[added] = read_json(done)
            continue
        work = work_root / f"{dataset}-{seed}"
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(ROOT / "conf", work / "conf")
        (work / "data").mkdir()
        test = with_noise(pd.read_csv(data_dir / "test.csv", dtype=str, keep_default_na=False), args.noise_share, 102)
        test.to_csv(work / "data/test.csv", index=False)
        full.iloc[order[: args.start + added]].to_csv(work / "data/train.csv", index=False)
        extra = [f"learning_curve.horizons=[{','.join(f'{h:.6g}' for h in horizons)}]"] if added == 0 else []
        points = work_root / f"{dataset}-{seed}-points.joblib" if added == 0 else None
        out[added] = measure(work, overrides + extra, points)
        write_json(done, out[added])
        print(f"learning_forecast {dataset} seed {seed} +{added}: {len(out[added]['themes'])} themes", flush=True)
    return out


METHODS = ("pow3", "pow3_gain", "last_value")


def fits_of(settings: dict) -> dict:
    """The settings that made a run's subset fits and horizons."""
    return {k: settings[k] for k in ("fractions", "seeds", "horizons") if k in settings}


def rows_of(seeds: dict, args, work_root: Path, dataset: str) -> list[dict]:
    """One row per (seed, theme, added, forecast rule, level): the round-0 forecast and what was
    measured. Every rule is refitted from the same subset scores (the round-0 run kept them).
    Level ``oof``: the stage's own forecast, today's out-of-fold AP plus the curve's gain;
    ``test``: today's test AP plus the same gain (the level a team with a test set reads)."""
    import joblib
    import yaml

    from themetag.curves.theme_curve import summarise

    defaults = yaml.safe_load((ROOT / "params.yaml").read_text())
    horizons = [float(f"{(args.start + a) / args.start:.6g}") for a in args.added]
    out = []
    for seed, runs in seeds.items():
        base = runs[0]
        # runs recorded before the figures named their settings ran with the defaults
        base.setdefault("settings", {**defaults["learning_curve"], "horizons": horizons})
        base.setdefault("early_stop", defaults["tuning"]["early_stop"])
        kept = joblib.load(work_root / f"{dataset}-{seed}-points.joblib")
        # the test noise of the figure measured last (measure kept each run's bootstrap sd)
        last = runs[max(args.added)]["themes"]
        for t, c in base["curves"].items():
            if "forecast" not in c or t not in base["themes"] or t not in kept:
                continue
            k = kept[t]
            fits = fits_of(base["settings"])
            points = k["points"]
            if args.subset_seeds:  # the forecast a run with fewer subsets per share would have made
                points = {f: v if f == 1.0 else v[: args.subset_seeds] for f, v in points.items()}
                fits["seeds"] = args.subset_seeds
            if args.shares:  # ... or one with fewer shares
                points = {f: v for f, v in points.items() if f == 1.0 or f in args.shares}
                fits["fractions"] = list(args.shares)
            for method in METHODS:
                res = summarise(
                    k["y"],
                    points,
                    k["sizes"],
                    # the fits are the run's (shares, seeds, horizons); every rule on them is today's
                    {**defaults["learning_curve"], **fits, "forecast": method},
                    base["early_stop"],
                )
                for added in args.added:
                    later = runs[added]["themes"].get(t)
                    if later is None:
                        continue
                    f = res["forecast"][str(float(f"{(args.start + added) / args.start:.6g}"))]
                    then = base["themes"][t]
                    for level, now in (("oof", f["no_gain"]), ("test", then["test_ap"])):
                        shift = now - f["no_gain"]
                        gain = f.get("gain", [np.nan] * 3)
                        # at the test level, the report's interval (labels_pay.to_test_level); at the
                        # out-of-fold level, the stage's own
                        shown = (
                            to_test_level(f, shift, then.get("test_sd", np.nan), 0.8)
                            if level == "test"
                            else {"low": f["low"], "high": f["high"]}
                        )
                        out.append(
                            {
                                "seed": seed,
                                "theme": t,
                                "added": added,
                                "method": method,
                                "level": level,
                                "verdict": res["verdict"],
                                "ceiling_high": res["fit"]["ceiling"][2],
                                "target": res["target_average_precision"],
                                "gain_high": res["fit"]["gain"][2],
                                "forecast": f["average_precision"] + shift,
                                "low": shown["low"],
                                "high": shown["high"],
                                "shifted_low": f["low"] + shift,  # before: the out-of-fold interval moved
                                "shifted_high": f["high"] + shift,
                                "gain_low": now + gain[0],  # the gain's interval alone
                                "gain_high_h": now + gain[2],
                                "no_gain": now,
                                "measured": later["test_ap"],
                                "test_positives": later["test_positives"],
                                "test_sd": last.get(t, {}).get("test_sd", float("nan")),
                                "test_ap_now": base["themes"][t]["test_ap"],
                                "oof_ap_then": later["oof_ap"],
                            }
                        )
    return out


def covers(f: pd.DataFrame, low: str, high: str) -> float:
    """The share of rows whose measured figure the interval (``low``, ``high``) holds; NaN for
    runs recorded before the stage gave the gain's own interval."""
    if low not in f or f[low].isna().all():
        return float("nan")
    return float(((f[low] <= f.measured) & (f.measured <= f[high])).mean())


def summary(frame: pd.DataFrame, added: list[int]) -> tuple[list[list], list[list], list[list]]:
    table = []
    for (method, level), g in frame.groupby(["method", "level"], sort=False):
        for a in added:
            f = g[g.added == a]
            if not len(f):
                continue
            big = f[f.test_positives >= 30]
            table.append(
                [
                    method,
                    level,
                    a,
                    len(f),
                    (f.forecast - f.measured).abs().mean(),
                    (f.no_gain - f.measured).abs().mean(),
                    ((f.low <= f.measured) & (f.measured <= f.high)).mean(),
                    covers(f, "shifted_low", "shifted_high"),
                    covers(f, "gain_low", "gain_high_h"),
                    (f.forecast - f.measured).mean(),
                    (big.forecast - big.measured).abs().mean() if len(big) else float("nan"),
                    (big.no_gain - big.measured).abs().mean() if len(big) else float("nan"),
                    (np.sqrt(2 / np.pi) * f.test_sd).mean(),
                ]
            )
    later = []
    for method, g in frame[frame.level == "oof"].groupby("method", sort=False):
        for a in added:
            f = g[g.added == a]
            if len(f):
                later.append(
                    [
                        method,
                        a,
                        (f.forecast - f.oof_ap_then).abs().mean(),
                        (f.no_gain - f.oof_ap_then).abs().mean(),
                        ((f.low <= f.oof_ap_then) & (f.oof_ap_then <= f.high)).mean(),
                        (f.forecast - f.oof_ap_then).mean(),
                    ]
                )
    last = frame[(frame.added == max(added)) & (frame.level == "test")]
    verdicts = []
    for (method, v), g in last.groupby(["method", "verdict"], sort=False):
        gain = g.measured - g.test_ap_now
        verdicts.append([method, v, len(g), g.theme.nunique(), gain.median(), gain.mean()])
    return table, later, verdicts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="mams_acsa")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--start", type=int, default=500)
    parser.add_argument("--added", type=int, nargs="+", default=[200, 400, 800])
    parser.add_argument("--work", type=Path, default=None, help="keeps each run's figures: a rerun resumes")
    parser.add_argument("--name", default=None)
    parser.add_argument(
        "--subset-seeds",
        type=int,
        default=None,
        help="refit every forecast from only the first N subsets per share the round-0 run kept (the "
        "cost of learning_curve.seeds=N, on the same fits)",
    )
    parser.add_argument(
        "--shares",
        type=float,
        nargs="+",
        default=None,
        help="refit every forecast from only these shares of the round-0 run's (the cost of "
        "learning_curve.fractions=[...], on the same fits)",
    )
    parser.add_argument(
        "--noise-share",
        type=float,
        default=0.0,
        help=f"add a theme {NOISE!r} to this share of the rows at random (train and test): flat by construction",
    )
    args, overrides = parser.parse_known_args()
    overrides = [*BUDGET, *overrides]
    cache_encoder()
    work_root = args.work or Path(tempfile.mkdtemp(prefix="learning_forecast-"))
    work_root.mkdir(parents=True, exist_ok=True)
    seeds = {s: run_seed(args.dataset, s, args, overrides, work_root) for s in args.seeds}
    frame = pd.DataFrame(rows_of(seeds, args, work_root, args.dataset))
    table, later, verdicts = summary(frame, args.added)
    name = args.name or f"learning_forecast_{args.dataset}"
    md = "\n".join(
        [
            f"### Learning-curve forecasts against measured test AP, {args.dataset} (`python -m bench.learning_forecast`)",
            "",
            f"{args.start} seeded random rows, then +{', +'.join(map(str, args.added))} random rows (nested); "
            f"seeds {args.seeds}; {' '.join(overrides)}"
            + (f"; forecasts from {args.subset_seeds} subset(s) per share" if args.subset_seeds else "")
            + (f"; forecasts from the shares {args.shares} alone" if args.shares else "")
            + ". The forecast is the round-0 learning_curve stage's at "
            "the rows' multiple, refitted from the same subset scores under each rule (`pow3`, the default; "
            "`pow3_gain`; `last_value`, no gain). Level `oof`: the stage's own forecast (today's out-of-fold AP "
            "plus the curve's gain) and the no-gain baseline (today's out-of-fold AP); level `test`: the same "
            "gain added to today's test AP, the baseline today's test AP. Each is compared with the theme's "
            "average precision on test.csv after the labels were added. Themes measured at round 0 "
            "(learning_curve.min_positives) and trained later; every (seed, theme) is a row. The 80% interval "
            "at the test level is metrics/report.md's (`labels_pay.to_test_level`: the gain's interval widened "
            "by the test noise today's figure and the later one do not share, and by one model's spread); "
            "beside it, the interval the report gave before (the out-of-fold interval moved to the test "
            "level) and the gain's interval alone.",
            "",
            tabulate(
                table,
                [
                    "forecast rule",
                    "level",
                    "added",
                    "themes x seeds",
                    "MAE forecast",
                    "MAE no gain",
                    "80% interval covers",
                    "out-of-fold interval moved covers",
                    "gain's interval alone covers",
                    "mean forecast - measured",
                    "MAE forecast, >= 30 test positives",
                    "MAE no gain, >= 30 test positives",
                    "test noise alone (mean absolute error a perfect forecast would show)",
                ],
                tablefmt="github",
                floatfmt=".3f",
            ),
            "",
            "Against the figure the next round's pipeline reports itself (its out-of-fold AP, after retuning), "
            "level `oof`:",
            "",
            tabulate(
                later,
                ["forecast rule", "added", "MAE forecast", "MAE no gain", "80% interval covers", "mean forecast - it"],
                tablefmt="github",
                floatfmt=".3f",
            ),
            "",
            f"Test AP gained from round 0 to +{max(args.added)}, by the round-0 verdict:",
            "",
            tabulate(
                verdicts,
                ["verdict", "themes x seeds", "themes", "median gain", "mean gain"],
                tablefmt="github",
                floatfmt=".3f",
            ),
            "",
        ]
    )
    write_json(
        result_path("learning_forecast", f"{name}.json"),
        {"args": vars(args) | {"work": str(args.work)}, "overrides": overrides, "rows": frame.to_dict("records")},
    )
    write_text(result_path("learning_forecast", f"{name}.md"), with_provenance("learning_forecast", md))
    print(md)


if __name__ == "__main__":
    main()
