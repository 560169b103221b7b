"""Measure issue 5's tuning-cost targets on the bundled sample.

    python -m bench.tuning_speed [--trials 6] [--slow-trials 2] [--repeats 3]

1. Shared features against the naive way, per family: the same trial parameters (drawn once,
   seeded) evaluated on all themes with the per-fold TF-IDF matrices shared, and with TF-IDF
   refitted inside every trial. Median of --repeats; the ratio is naive / shared.
2. Where tuning time goes: real studies (tune_theme, one process), wall time against the time
   spent fitting and scoring models; the rest is vectorising-free bookkeeping (Optuna, storage).
3. 1 against 2 worker processes on the same studies (early stop disabled, fixed budget).
4. The default config's tuning as `dvc repro` runs it, stage by stage, with 1 and 2 processes:
   wall time, and the share of it spent outside model fitting and scoring.
Writes bench/results/tuning_speed/tuning_speed.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import yaml

from bench.results_path import result_path, with_provenance
from bench.timing import measure_table, median_seconds
from harness.dvc_repo import DvcRepo
from themetag.atomic import write_json, write_text
from themetag.data.folds import make_folds
from themetag.data.labels import expand
from themetag.features.spaces import TfidfSpace, make_vectorizer
from themetag.modelling.families import fit_model, score, suggest
from themetag.pipeline import paths
from themetag.tuning.processes import run_unordered
from themetag.tuning.trials import policy_score, tune_theme

ROOT = Path(__file__).resolve().parents[1]
SLOW = {"rf", "adaboost"}


def fold_matrices(texts: list[str], fold, features: dict):
    """The TF-IDF space's fold matrices, as the features@tfidf stage builds them."""
    space = TfidfSpace("tfidf", features["tfidf"])
    return space.fold_matrices(space.fold_data(texts, fold, {}))


def load_sample(params: dict):
    frame = pd.read_csv(ROOT / params["data"]["train"], dtype=str, keep_default_na=False)
    labels = expand(frame, params["data"], params["labels"], params["folds"]["k"])
    fold = make_folds(labels.labels, params["folds"]["k"], params["folds"]["seed"])
    return labels.texts, labels.labels, fold


def draw(space: dict, n: int, seed: int) -> list[dict]:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    return [suggest(study.ask(), space) for _ in range(n)]


def shared_way(fam, trials, labels, mats, min_recall):
    for params in trials:
        for theme in labels.columns:
            y = labels[theme].to_numpy()
            for k in range(mats.k):
                model = fit_model(fam, params, 0, mats.X_train[k], y[mats.train_idx[k]])
                policy_score(y[mats.valid_idx[k]], score(model, mats.X_valid[k]), min_recall)


def naive_way(fam, trials, labels, texts, fold, features, min_recall):
    texts = np.asarray(texts, dtype=object)
    for params in trials:
        for theme in labels.columns:
            y = labels[theme].to_numpy()
            for k in range(int(fold.max()) + 1):
                tr, va = fold != k, fold == k
                vec = make_vectorizer(features)
                X_tr, X_va = vec.fit_transform(texts[tr]), vec.transform(texts[va])
                model = fit_model(fam, params, 0, X_tr, y[tr])
                policy_score(y[va], score(model, X_va), min_recall)


def run_studies(fam_name, fam, labels, mats, tuning, n_jobs) -> tuple[float, list[dict]]:
    tasks = [(t, fam_name, fam, labels[t].to_numpy(), tuning, i, f"bench{i}") for i, t in enumerate(labels.columns)]
    start = time.perf_counter()
    results = list(run_unordered(tune_theme, tasks, mats, n_jobs))
    return time.perf_counter() - start, results


def stage_runs(families: list[str], repeats: int) -> dict:
    """The default config's tuning as `dvc repro` runs it: one `python -m stages.tune` process per
    family (its start-up, imports, loading and writing included), with n_jobs 1 and 2, each run on
    an empty storage. Median of ``repeats`` runs for a family whose 1-process run is under 2 minutes.
    """
    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-tune-") as tmp:
        repo = DvcRepo(Path(tmp), train_rows=None, test_rows=None, families="default", tuning="default")
        repo.run("dvc", "repro", "features")
        params_path = repo.path / "params.yaml"
        params = yaml.safe_load(params_path.read_text())
        for family in families:
            walls: dict[int, list[float]] = {1: [], 2: []}
            fits, reps, i = [], repeats, 0
            while i < reps:
                for n_jobs in (1, 2):
                    params["tuning"].update(n_jobs=n_jobs, storage=f"journal:.optuna/{family}-{n_jobs}-{i}.log")
                    params_path.write_text(yaml.safe_dump(params, sort_keys=False))
                    start = time.perf_counter()
                    repo.run(sys.executable, "-m", "stages.tune", "--family", family, "--space", "tfidf")
                    walls[n_jobs].append(time.perf_counter() - start)
                    costly = family in params["models"].get("costly", [])
                    out_dir = repo.path / paths.tune_dir(f"{family}-tfidf", costly)
                    summary = json.loads((out_dir / "summary.json").read_text())
                    if n_jobs == 1:
                        fits.append(sum(t["fit_seconds"] for t in summary["themes"]))
                if i == 0 and walls[1][0] >= 120:
                    reps = 1
                i += 1
            one, two, fit = (statistics.median(v) for v in (walls[1], walls[2], fits))
            out[family] = {"runs": reps, "one_s": one, "two_s": two, "speedup": one / two, "fit_s": fit}
            out[family]["outside_fit_share"] = 1 - fit / one
            print(f"tune@{family}: 1 process {one:.1f}s, 2 processes {two:.1f}s, fit {fit:.1f}s", flush=True)
    total = {k: sum(f[k] for f in out.values()) for k in ("one_s", "two_s", "fit_s")}
    total["speedup"] = total["one_s"] / total["two_s"]
    total["outside_fit_share"] = 1 - total["fit_s"] / total["one_s"]
    return {"families": out, "total": total}


def markdown(r: dict) -> str:
    rows = [
        [
            f"{name}: naive / shared, {f['trials']} trials x {f['themes']} themes",
            f"{f['naive_s']:.1f} s / {f['shared_s']:.1f} s = {f['naive_over_shared']:.1f}x",
        ]
        for name, f in r["families"].items()
    ]
    split = r["split_logreg_1_process"]
    rows.append(
        [
            "logreg studies, 1 process: time outside model fitting and scoring",
            f"{split['outside_fit_share']:.1%} of {split['wall_s']:.1f} s",
        ]
    )
    p = r["processes_logreg"]
    rows.append(
        ["logreg studies: 1 process / 2 processes", f"{p['one_s']:.1f} s / {p['two_s']:.1f} s = {p['speedup']:.2f}x"]
    )
    rows.append(["TF-IDF for all 5 folds, once", f"{r['vectorise_all_folds_s']:.2f} s"])
    stages = r["default_tuning_stages"]
    for name, f in [*stages["families"].items(), ("all families", stages["total"])]:
        runs = f" (median of {f['runs']})" if f.get("runs", 1) > 1 else ""
        rows.append(
            [
                f"default tuning, tune@{name}" if name != "all families" else "default tuning, all tune stages",
                f"1 process {f['one_s']:.1f} s / 2 processes {f['two_s']:.1f} s = {f['speedup']:.2f}x{runs}; "
                f"outside model fitting: {f['outside_fit_share']:.1%}",
            ]
        )
    return measure_table("tuning (`python -m bench.tuning_speed`)", rows)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=3, help="trials per family (linear, naive Bayes)")
    parser.add_argument("--slow-trials", type=int, default=1, help="trials per family for rf and adaboost")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--study-trials", type=int, default=15, help="trials per study for the parallel and split measures"
    )
    args = parser.parse_args(argv)
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    min_recall = params["tuning"]["early_stop"]["min_recall"]
    texts, labels, fold = load_sample(params)
    start = time.perf_counter()
    mats = fold_matrices(texts, fold, params["features"])
    result: dict = {"vectorise_all_folds_s": time.perf_counter() - start, "families": {}}
    for name in [*params["models"]["families"], *params["models"].get("costly", [])]:
        fam = params["families"][name]
        trials = draw(fam["space"], args.slow_trials if name in SLOW else args.trials, seed=0)
        themes = labels.iloc[:, :2] if name in SLOW else labels  # slow families: 2 themes suffice for a ratio
        reps = 1 if name in SLOW else args.repeats
        t_shared = median_seconds(
            lambda fam=fam, trials=trials, themes=themes: shared_way(fam, trials, themes, mats, min_recall), reps
        )
        t_naive = median_seconds(
            lambda fam=fam, trials=trials, themes=themes: naive_way(
                fam, trials, themes, texts, fold, params["features"], min_recall
            ),
            reps,
        )
        result["families"][name] = {
            "trials": len(trials),
            "themes": int(themes.shape[1]),
            "shared_s": t_shared,
            "naive_s": t_naive,
            "naive_over_shared": t_naive / t_shared,
        }
        print(f"{name}: shared {t_shared:.2f}s, naive {t_naive:.2f}s, ratio {t_naive / t_shared:.2f}", flush=True)

    fam = params["families"]["logreg"]
    with tempfile.TemporaryDirectory() as tmp:
        tuning = {
            **params["tuning"],
            "n_trials": args.study_trials,
            "timeout": None,
            "storage": f"journal:{tmp}/one.log",
            "early_stop": {"min_precision": 1.01, "min_recall": min_recall},
        }
        wall1, res1 = run_studies("logreg", fam, labels, mats, tuning, 1)
        fit = sum(r["fit_seconds"] for r in res1)
        result["split_logreg_1_process"] = {
            "wall_s": wall1,
            "fit_and_score_s": fit,
            "outside_fit_share": 1 - fit / wall1,
        }
        wall2, _ = run_studies("logreg", fam, labels, mats, {**tuning, "storage": f"journal:{tmp}/two.log"}, 2)
        result["processes_logreg"] = {"one_s": wall1, "two_s": wall2, "speedup": wall1 / wall2}
    result["default_tuning_stages"] = stage_runs(
        [*params["models"]["families"], *params["models"].get("costly", [])], args.repeats
    )
    write_json(result_path("tuning_speed", "tuning_speed.json"), result)
    write_text(result_path("tuning_speed", "tuning_speed.md"), with_provenance("tuning_speed", markdown(result)))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
