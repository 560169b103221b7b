"""The cost model's constants: seconds per fit of each family on each space kind, against rows.

    python -m bench.fit_costs [--rows 5000 20000] [--repeats 3] [--themes joy anger]

On goemotions (bench/data/goemotions), per family and space kind (TF-IDF, the embeddings, and
their concatenation), it fits one model on the first N rows of a shuffled sample and scores
5,000 held-out rows, at a mid-range setting of the family's search space and balanced class
weights, for each theme named. It reports the median seconds of --repeats fits, and microseconds
per fitted row: the figures behind `cost_us` in conf/families/*.yaml (themetag/tuning/budget.py). It also
compares logistic regression's solvers (liblinear against lbfgs) on the inputs with a dense
block, by time and by average precision on the held-out rows: the evidence for `fixed_on`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np
import pandas as pd
import scipy.sparse as sp
import yaml
from sklearn.metrics import average_precision_score
from tabulate import tabulate

from bench.results_path import result_path, with_provenance
from harness.dvc_repo import ROOT
from themetag.atomic import write_json, write_text
from themetag.data.labels import split_themes
from themetag.features.encoder import Encoder
from themetag.features.spaces import encoder_settings, make_vectorizer
from themetag.modelling.candidates import family_conf
from themetag.modelling.families import fit_model, score
from themetag.tuning.budget import rows_fitted

MID = {
    "logreg": {"C": 1.0, "class_weight": "balanced"},
    "linsvm": {"C": 0.1, "class_weight": "balanced"},
    "nb": {"alpha": 0.1},
    "rf": {"n_estimators": 100, "min_samples_leaf": 2, "class_weight": "balanced_subsample"},
    "adaboost": {"n_estimators": 100, "learning_rate": 0.5},
}
SPACE_OF_KIND = {"tfidf": "tfidf", "embeddings": "embeddings", "concat": "tfidf_embeddings"}
HELD_OUT = 5000


def timed_fit(fam: dict, params: dict, X, y: np.ndarray, Xv, repeats: int) -> tuple[float, np.ndarray]:
    times, s = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        s = score(fit_model(fam, params, 0, X, y), Xv)
        times.append(time.perf_counter() - start)
    return statistics.median(times), s


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[5000, 20000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--themes", nargs="+", default=["joy", "anger"])
    args = parser.parse_args(argv)
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    frame = pd.read_csv(ROOT / "bench/data/goemotions/train.csv", keep_default_na=False)
    frame = frame.sample(n=max(args.rows) + HELD_OUT, random_state=0)
    texts = frame["Processed Text"].tolist()
    theme_sets = [set(split_themes(t)) for t in frame["Themes"]]
    encoder = Encoder(**encoder_settings(params["features"]["embeddings"]))
    vectors = encoder.encode(texts)
    held = slice(len(texts) - HELD_OUT, len(texts))
    rows_out, solver_rows, result = [], [], {"rows": args.rows, "repeats": args.repeats, "fits": [], "solvers": []}
    for n in args.rows:
        vec = make_vectorizer(params["features"]["tfidf"])
        tfidf, tfidf_v = vec.fit_transform(texts[:n]), vec.transform(texts[held])
        mats = {
            "tfidf": (tfidf, tfidf_v),
            "embeddings": (vectors[:n], vectors[held]),
            "concat": (
                sp.hstack([tfidf, sp.csr_matrix(vectors[:n])]).tocsr(),
                sp.hstack([tfidf_v, sp.csr_matrix(vectors[held])]).tocsr(),
            ),
        }
        for theme in args.themes:
            y = np.array([theme in s for s in theme_sets], dtype=int)
            for kind, (X, Xv) in mats.items():
                for family in params["families"]:
                    fam = family_conf(params, family, SPACE_OF_KIND[kind])
                    if family in ("nb", "adaboost") and kind != "tfidf":
                        continue  # they need non-negative input
                    seconds, _ = timed_fit(fam, MID[family], X, y[:n], Xv, args.repeats)
                    per_row = 1e6 * seconds / rows_fitted(fam, n)
                    result["fits"].append(
                        {
                            "rows": n,
                            "theme": theme,
                            "family": family,
                            "kind": kind,
                            "seconds": seconds,
                            "us_per_fitted_row": per_row,
                            "cost_us": fam["cost_us"],
                        }
                    )
                    rows_out.append([n, theme, family, kind, f"{seconds:.2f}", f"{per_row:.1f}", fam["cost_us"]])
                if kind == "tfidf":
                    continue
                for solver in ("liblinear", "lbfgs"):
                    fam = {**family_conf(params, "logreg", "tfidf"), "fixed": {"solver": solver, "max_iter": 2000}}
                    seconds, s = timed_fit(fam, MID["logreg"], X, y[:n], Xv, args.repeats)
                    ap = average_precision_score(y[held], s)
                    result["solvers"].append(
                        {"rows": n, "theme": theme, "kind": kind, "solver": solver, "seconds": seconds, "ap": ap}
                    )
                    solver_rows.append([n, theme, kind, solver, f"{seconds:.2f}", f"{ap:.3f}"])
            print(f"fit_costs: {n} rows, {theme} done", flush=True)
    write_json(result_path("fit_costs", "fit_costs_goemotions.json"), result)
    markdown = (
        f"### fit costs on goemotions (`python -m bench.fit_costs`, median of {args.repeats})\n\n"
        "One fit on N rows plus scoring 5,000 held-out rows, mid-range settings. `us/row`: "
        "microseconds per fitted row (a forest fits at most `max_rows` per tree); `cost_us`: the "
        "config's constant for the cost model (themetag/tuning/budget.py).\n\n"
        + tabulate(rows_out, ["rows", "theme", "family", "kind", "seconds", "us/row", "cost_us"], "github")
        + "\n\nLogistic regression's solver where the input has a dense block (time, average precision "
        "on the held-out rows):\n\n"
        + tabulate(solver_rows, ["rows", "theme", "kind", "solver", "seconds", "AP"], "github")
        + "\n"
    )
    write_text(result_path("fit_costs", "fit_costs_goemotions.md"), with_provenance("fit_costs", markdown))
    print(markdown)


if __name__ == "__main__":
    main(sys.argv[1:])
