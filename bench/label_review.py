"""Does the label review find wrong labels? Flip 3% of each theme's labels, run, count the hits.

    python -m bench.label_review [--dataset mams_acsa|semeval25] [--rate 0.03] [--keep DIR | --reuse DIR]
                                [HYDRA_OVERRIDE ...]

In a fresh throw-away copy of the project, each theme is toggled on ``rate`` of the training
rows (never emptying a row, so no row is dropped), and the default `dvc repro` runs. Per theme,
with k the number of flipped rows, it reports recall at k: the share of the k top-ranked rows
of `metrics/label_review.csv` that are flipped rows (random ranking would give about the
theme's flip rate, 3%). It also gives the *best mix*: the highest recall at k that any split of
the k places between low-scored positives and high-scored negatives could reach with these
scores. No calibration of the scores can do better, so where it is below 0.5, the scores
themselves (and the data set's own label errors) are the limit, not the way they are combined.
``--reuse DIR`` scores a copy kept with ``--keep`` (same data set, rate and seed) without rerunning.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from sklearn.metrics import roc_auc_score
from tabulate import tabulate

from bench.copies import default_copy, kept_copy
from bench.pipeline_targets import DATASETS
from bench.results_path import result_path, with_provenance
from harness.dvc_repo import DvcRepo
from harness.label_noise import flip
from themetag.atomic import read_json, write_json, write_text
from themetag.labelling.label_quality import ranked
from themetag.labelling.review_table import train_lines
from themetag.pipeline import paths


def best_mix(y: np.ndarray, s: np.ndarray, is_flipped: np.ndarray, k: int) -> float:
    """The highest recall at k over every split of k between the lowest-scored positives and the
    highest-scored negatives: an upper bound on what calibrating the scores could reach."""
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    pos, neg = pos[np.argsort(s[pos], kind="stable")], neg[np.argsort(-s[neg], kind="stable")]
    hits_pos = np.concatenate([[0], np.cumsum(is_flipped[pos])])
    hits_neg = np.concatenate([[0], np.cumsum(is_flipped[neg])])
    return max(hits_pos[m] + hits_neg[k - m] for m in range(k + 1) if m <= len(pos) and k - m <= len(neg)) / k


def flip_auroc(project: Path, flipped: dict[str, set[int]]) -> dict[str, tuple[float, float]]:
    """Per theme, the AUROC of label quality (low first) for telling flipped rows from the rest,
    and the best mix's recall at k.

    Recall at k counts a data set's own label errors, which rank among the injected ones, as
    misses; the AUROC says how far below the bulk of the rows the flipped ones rank.
    """
    labels = pd.read_csv(project / paths.LABELS, keep_default_na=False)
    oof = pd.read_csv(project / paths.SELECTED_OOF)
    folds = read_json(project / paths.FOLDS)
    fold = np.asarray(folds["fold"], dtype=int)
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["data"]["train"] = str(project / params["data"]["train"])
    rows = np.asarray(train_lines(params)) - 2  # 0-based row of the training CSV for each labels.csv row
    out = {}
    for theme in folds["themes"]:
        y, s = labels[theme].to_numpy(dtype=int), oof[theme].to_numpy(dtype=float)
        _, _, quality = ranked(y, s, fold)  # the review stage's own label quality, on every row
        is_flipped = np.isin(rows, list(flipped[theme]))
        out[theme] = (
            float(roc_auc_score(is_flipped, -quality)),
            best_mix(y, s, is_flipped, len(flipped[theme])),
        )
    return out


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="mams_acsa")
    parser.add_argument("--rate", type=float, default=0.03)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, help="leave the run's copy here (a new folder), to study the ranking")
    parser.add_argument("--reuse", type=Path, help="a copy kept with --keep: score it, do not rerun")
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="review-") as scratch:
        tmp = (args.reuse or args.keep).resolve() if (args.reuse or args.keep) else Path(scratch)
        data = tmp / "noisy"
        train = pd.read_csv(DATASETS[args.dataset] / "train.csv", dtype=str, keep_default_na=False)
        flipped = flip(train, args.rate, args.seed)
        overrides = [f"review.top_k={max(len(v) for v in flipped.values())}", *args.overrides]
        if args.reuse:
            kept = pd.read_csv(data / "train.csv", dtype=str, keep_default_na=False)
            if not kept.equals(train):
                raise SystemExit(
                    f"{data / 'train.csv'}: not {args.dataset} flipped at rate {args.rate}, seed {args.seed}"
                )
            repo = kept_copy(tmp / "p")
        else:
            repo = run_noisy(args.dataset, tmp, train, overrides)
        review = pd.read_csv(repo.path / "metrics/label_review.csv", keep_default_na=False)
        auroc = flip_auroc(repo.path, flipped)
    rows, per_theme = [], {}
    for theme, part in review.groupby("theme", sort=False):
        k = len(flipped[theme])
        hits = sum(line - 2 in flipped[theme] for line in part.head(k)["line"])
        roc, mix = auroc[theme]
        per_theme[theme] = {"flipped": k, "hits": hits, "recall_at_k": hits / k, "auroc": roc, "best_mix": mix}
        rows.append([theme, k, hits, f"{hits / k:.3f}", f"{mix:.3f}", f"{roc:.3f}"])
    mean = statistics.mean(v["recall_at_k"] for v in per_theme.values())
    rows.append(
        [
            "mean",
            "",
            "",
            f"{mean:.3f}",
            f"{statistics.mean(v['best_mix'] for v in per_theme.values()):.3f}",
            f"{statistics.mean(v['auroc'] for v in per_theme.values()):.3f}",
        ]
    )
    name = f"label_review_{args.dataset}"
    write_json(
        result_path("label_review", f"{name}.json"),
        {"rate": args.rate, "seed": args.seed, "themes": per_theme, "mean_recall_at_k": mean, "overrides": overrides},
    )
    markdown = (
        f"### {args.dataset}: label review finds flipped labels (`python -m bench.label_review`)\n\n"
        f"{args.rate:.0%} of each theme's training labels toggled (seed {args.seed}), default `dvc repro`; "
        "recall at k = flipped rows among the k top-ranked rows of `metrics/label_review.csv`, k = rows flipped.\n\n"
        + tabulate(rows, ["theme", "k (flipped)", "flipped in top k", "recall at k", "best mix", "AUROC"], "github")
        + "\n\n`AUROC`: how well the label quality ranks flipped rows before the others (0.5 = chance). "
        "Recall at k counts the data set's own label errors, which the list ranks among the injected "
        "ones, as misses. `best mix`: the highest recall at k that any split of the k places between "
        "low-scored positives and high-scored negatives reaches with the same scores, so the most any "
        "calibration of them could give.\n"
    )
    write_text(result_path("label_review", f"{name}.md"), with_provenance("label_review", markdown))
    print(markdown)


def run_noisy(dataset: str, tmp: Path, train: pd.DataFrame, overrides: list[str]) -> DvcRepo:
    """The default `dvc repro` in a new copy under ``tmp``, on the flipped training set."""
    tmp.mkdir(parents=True, exist_ok=True)
    data = tmp / "noisy"
    data.mkdir()
    train.to_csv(data / "train.csv", index=False)
    pd.read_csv(DATASETS[dataset] / "test.csv", dtype=str, keep_default_na=False).to_csv(data / "test.csv", index=False)
    repo = default_copy(tmp / "p", data, overrides)
    repo.run("dvc", "repro")
    return repo


if __name__ == "__main__":
    main(sys.argv[1:])
