"""Do tree families earn their time on sentence embeddings? The evidence behind `spaces: [tfidf]`.

    python -m bench.trees_on_embeddings [--dataset mams_acsa|semeval25] [--repeats 3]

Per theme, on the pipeline's folds (5, multi-label stratified) and with its tuning objective
(precision at the early-stop recall, out of fold), this scores on the embeddings:
- logistic regression and the linear SVM, each at the best of a small C grid;
- random forest (200 trees, the pipeline's largest setting) at min_samples_leaf 1 and 3, with
  and without balanced class weights: the best of the four.
It reports each theme's best linear and best forest objective, and the fit time of one full
out-of-fold pass of each (median of --repeats). AdaBoost is not run: its chi2 feature
selection needs non-negative input, which embeddings are not.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import pandas as pd
from tabulate import tabulate

from bench.pipeline_targets import DATASETS
from bench.results_path import result_path, with_provenance
from themetag.atomic import write_json, write_text
from themetag.data.folds import make_folds
from themetag.data.labels import split_themes
from themetag.features.encoder import Encoder
from themetag.modelling.families import fit_model, score
from themetag.tuning.trials import policy_score

LINEAR = [
    ({"estimator": "logreg", "fixed": {"solver": "liblinear", "max_iter": 2000}}, {"C": c}) for c in (0.3, 1, 3, 10)
] + [({"estimator": "linsvm", "fixed": {"max_iter": 5000}}, {"C": c}) for c in (0.03, 0.1, 0.3, 1)]
FORESTS = [
    ({"estimator": "rf", "fixed": {"n_jobs": 2, "max_features": "sqrt"}}, {"n_estimators": 200, **p})
    for p in (
        {"min_samples_leaf": 1},
        {"min_samples_leaf": 3},
        {"min_samples_leaf": 1, "class_weight": "balanced_subsample"},
        {"min_samples_leaf": 3, "class_weight": "balanced_subsample"},
    )
]


def oof_objective(fam: dict, params: dict, X: np.ndarray, y: np.ndarray, fold: np.ndarray) -> tuple[float, float]:
    """(objective on pooled out-of-fold scores, seconds for the pass)."""
    start = time.perf_counter()
    oof = np.empty(len(y))
    for k in range(int(fold.max()) + 1):
        tr, va = fold != k, fold == k
        oof[va] = score(fit_model(fam, params, 0, X[tr], y[tr]), X[va])
    return policy_score(y, oof, 0.5), time.perf_counter() - start


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="mams_acsa")
    parser.add_argument("--repeats", type=int, default=3, help="timing runs of the fastest setting of each kind")
    args = parser.parse_args(argv)
    frame = pd.read_csv(DATASETS[args.dataset] / "train.csv", keep_default_na=False)
    lists = [split_themes(t) for t in frame["Themes"]]
    themes = sorted({t for ts in lists for t in ts})
    labels = pd.DataFrame({t: [int(t in ts) for ts in lists] for t in themes})
    fold = make_folds(labels, 5, 42)
    X = Encoder("all-MiniLM-L6-v2").encode(frame["Processed Text"].tolist())
    rows, per_theme = [], {}
    for theme in themes:
        y = labels[theme].to_numpy()
        lin = max(oof_objective(f, p, X, y, fold)[0] for f, p in LINEAR)
        rf = max(oof_objective(f, p, X, y, fold)[0] for f, p in FORESTS)
        per_theme[theme] = {"best_linear": lin, "best_forest": rf}
        rows.append([theme, f"{lin:.3f}", f"{rf:.3f}", "forest" if rf > lin else "linear"])
    y = labels[themes[0]].to_numpy()
    t_lin = float(np.median([oof_objective(*LINEAR[1], X, y, fold)[1] for _ in range(args.repeats)]))
    t_rf = float(np.median([oof_objective(*FORESTS[0], X, y, fold)[1] for _ in range(args.repeats)]))
    wins = sum(r["best_forest"] > r["best_linear"] for r in per_theme.values())
    result = {
        "dataset": args.dataset,
        "per_theme": per_theme,
        "forest_wins": wins,
        "seconds_per_oof_pass": {"logreg_C1": t_lin, "rf_200_trees": t_rf, "ratio": t_rf / t_lin},
    }
    name = f"trees_on_embeddings_{args.dataset}"
    write_json(result_path("trees_on_embeddings", f"{name}.json"), result)
    markdown = (
        f"### {args.dataset}: trees on embeddings (`python -m bench.trees_on_embeddings`)\n\n"
        + tabulate(rows, ["theme", "best linear (8 settings)", "best RF (4 settings)", "better"], tablefmt="github")
        + f"\n\nObjective: out-of-fold precision at recall >= 0.5 (+ recall at precision 1.0). RF wins {wins} of "
        f"{len(themes)} themes. One out-of-fold pass (5 fits): logreg {t_lin:.1f} s, RF {t_rf:.1f} s "
        f"= {t_rf / t_lin:.0f}x (median of {args.repeats}).\n"
    )
    write_text(result_path("trees_on_embeddings", f"{name}.md"), with_provenance("trees_on_embeddings", markdown))
    print(markdown)


if __name__ == "__main__":
    main(sys.argv[1:])
