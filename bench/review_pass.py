"""One review pass through the ledger: how much of the precision that wrong labels cost comes back?

    python -m bench.review_pass [--dataset mams_acsa] [--rate 0.03] [--seed 0] [--reuse DIR] [overrides]

Three runs of the default pipeline, scored on test.csv (which no choice sees):

- **clean**: the data set as published. For the bundled sample with no overrides this is the
  committed ``metrics/metrics.json`` (the same default run; two clean runs are byte-identical);
  otherwise a fresh copy runs.
- **flipped**: ``rate`` of each theme's training labels toggled, as ``bench.label_review`` does.
- **after one pass**: a reviewer reads, per theme, the top k rows of that run's
  ``metrics/label_review.csv`` (k = the theme's flipped rows), writes ``remove`` or ``add`` for a
  row whose label was flipped and ``keep`` for the others in its ``decision`` column, then runs
  ``themetag fold-review`` and ``dvc repro``. ``train.csv`` itself is never edited.

Reported: each run's macro test precision and recall, and the share of the flip's precision loss
that the pass recovers, (after - flipped) / (clean - flipped). ``--reuse DIR`` starts from a copy
kept by ``bench.label_review --keep DIR`` (same data set, rate and seed).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import pandas as pd
from tabulate import tabulate

from bench.copies import default_copy, kept_copy
from bench.label_review import run_noisy
from bench.pipeline_targets import DATASETS
from bench.results_path import result_path, with_provenance
from harness.dvc_repo import ROOT
from harness.label_noise import flip
from themetag.atomic import read_json, write_json, write_text


def macro(metrics: dict) -> tuple[float, float]:
    return metrics["test"]["macro"]["precision"], metrics["test"]["macro"]["recall"]


def review_once(repo, flipped: dict[str, set[int]]) -> dict[str, int]:
    """Fill the review's decision column as a reviewer who knows the truth would, fold it in, rerun."""
    path = repo.path / "metrics/label_review.csv"
    review = pd.read_csv(path, dtype=str, keep_default_na=False)
    counts = {"add": 0, "remove": 0, "keep": 0}
    for theme, part in review.groupby("theme", sort=False):
        for i in part.head(len(flipped[theme])).index:
            was_flipped = int(review.at[i, "line"]) - 2 in flipped[theme]
            decision = ("remove" if review.at[i, "label"] == "1" else "add") if was_flipped else "keep"
            review.at[i, "decision"] = decision
            counts[decision] += 1
    review.to_csv(path, index=False)
    repo.run(sys.executable, "-m", "themetag", "fold-review", "--by", "bench.review_pass")
    repo.run("dvc", "repro")
    return counts


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="mams_acsa")
    parser.add_argument("--rate", type=float, default=0.03)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--reuse", type=Path, help="a copy kept by bench.label_review --keep (same dataset, rate, seed)"
    )
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args(argv)
    train = pd.read_csv(DATASETS[args.dataset] / "train.csv", dtype=str, keep_default_na=False)
    flipped = flip(train, args.rate, args.seed)
    overrides = [f"review.top_k={max(len(v) for v in flipped.values())}", *args.overrides]
    with tempfile.TemporaryDirectory(prefix="review-pass-") as scratch:
        tmp = Path(scratch)
        if args.dataset == "mams_acsa" and not args.overrides:
            clean = read_json(ROOT / "metrics/metrics.json")
            clean_from = "the committed metrics/metrics.json (default config, same data)"
        else:
            repo = default_copy(tmp / "clean", DATASETS[args.dataset], args.overrides)
            repo.run("dvc", "repro")
            clean = json.loads((repo.path / "metrics/metrics.json").read_text())
            clean_from = "a fresh default run"
        if args.reuse:
            kept = pd.read_csv(args.reuse / "noisy/train.csv", dtype=str, keep_default_na=False)
            if not kept.equals(train):
                raise SystemExit(
                    f"{args.reuse}/noisy/train.csv: not {args.dataset} flipped at {args.rate}, seed {args.seed}"
                )
            noisy = kept_copy(args.reuse / "p")
        else:
            noisy = run_noisy(args.dataset, tmp / "flipped", train, overrides)
        before = json.loads((noisy.path / "metrics/metrics.json").read_text())
        counts = review_once(noisy, flipped)
        after = json.loads((noisy.path / "metrics/metrics.json").read_text())
        fixes = json.loads((noisy.path / "metrics/themes.json").read_text())["fixes"]
    (pc, rc), (pf, rf), (pa, ra) = macro(clean), macro(before), macro(after)
    recovered = (pa - pf) / (pc - pf) if pc != pf else float("nan")
    result = {
        "dataset": args.dataset,
        "rate": args.rate,
        "seed": args.seed,
        "overrides": overrides,
        "clean_from": clean_from,
        "clean": {"precision": pc, "recall": rc},
        "flipped": {"precision": pf, "recall": rf},
        "after_one_pass": {"precision": pa, "recall": ra},
        "recovered_share": recovered,
        "decisions": counts,
        "applied_fixes": len(fixes["applied"]),
        "flipped_labels": sum(len(v) for v in flipped.values()),
    }
    name = f"review_pass_{args.dataset}"
    write_json(result_path("review_pass", f"{name}.json"), result)
    rows = [["clean", pc, rc], [f"{args.rate:.0%} of labels flipped", pf, rf], ["after one review pass", pa, ra]]
    text = (
        f"### {args.dataset}: one review pass through the ledger (`python -m bench.review_pass`)\n\n"
        + tabulate(rows, ["run", "test macro P", "test macro R"], "github", floatfmt=".3f")
        + f"\n\nRecovered share of the precision loss: {recovered:.2f}. The reviewer read the top k rows per theme "
        f"(k = rows flipped; {result['flipped_labels']} flipped labels in all) and wrote {counts['remove']} remove, "
        f"{counts['add']} add, {counts['keep']} keep; {len(fixes['applied'])} fixes applied. Clean: {clean_from}.\n"
    )
    write_text(result_path("review_pass", f"{name}.md"), with_provenance("review_pass", text))
    print(text)


if __name__ == "__main__":
    main(sys.argv[1:])
