"""How `dvc repro` time grows with rows: fixed trial counts, no early stop, on goemotions.

    python -m bench.growth [--rows 5000 10000 25000 50000] [--themes 10] [--trials 2] [HYDRA_OVERRIDE ...]

For each row count, the first N rows of goemotions' train.csv (at most its 48,836) go through
the whole default pipeline in a fresh throw-away copy (empty Optuna storage, no DVC cache). The
same --themes most frequent themes are kept at every size (others are dropped from the Themes
column, and rows left without a theme count as negatives), so that only the rows change. The
budget is fixed: `tuning.n_trials` trials per study, the cost model off, no pruning, and an
early-stop rule no trial can meet. Reported: the wall time, its ratio to the smallest run, and
the time per stage. Linear growth would be a 50k/5k ratio of 10.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

import pandas as pd
from tabulate import tabulate

from bench.results_path import result_path, with_provenance
from bench.timing import staged_run
from harness.dvc_repo import ROOT, DvcRepo
from themetag.atomic import write_json, write_text
from themetag.data.labels import split_themes

DATA = ROOT / "bench/data/goemotions"


def subset(rows: int, themes: list[str], out: Path) -> None:
    """The first ``rows`` training rows and all test rows, with only ``themes`` kept."""
    out.mkdir(parents=True, exist_ok=True)
    for name, n in (("train.csv", rows), ("test.csv", None)):
        frame = pd.read_csv(DATA / name, dtype=str, keep_default_na=False).head(n)
        frame["Themes"] = [", ".join(t for t in split_themes(s) if t in themes) for s in frame["Themes"]]
        frame.to_csv(out / name, index=False)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[5000, 10000, 25000, 50000])
    parser.add_argument("--themes", type=int, default=10)
    parser.add_argument("--trials", type=int, default=2)
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args(argv)
    train = pd.read_csv(DATA / "train.csv", dtype=str, keep_default_na=False)
    counts = Counter(t for s in train["Themes"] for t in split_themes(s))
    themes = [t for t, _ in counts.most_common(args.themes)]
    fixed = [
        f"tuning.n_trials={args.trials}",
        "tuning.budget=null",
        "tuning.pruner=none",
        "tuning.early_stop.min_precision=1.01",  # never met: every study runs its trials
        "labels.empty_themes=negative",
        *args.overrides,
    ]
    runs = []
    for rows in args.rows:
        with tempfile.TemporaryDirectory(prefix="growth-") as tmp:
            subset(rows, themes, Path(tmp) / "data")
            repo = DvcRepo(
                Path(tmp) / "p",
                train_rows=None,
                test_rows=None,
                families="default",
                tuning="default",
                data_dir=Path(tmp) / "data",
                overrides=fixed,
            )
            seconds, stages, peak_mb, _ = staged_run(["dvc", "repro"], repo.path, repo.env)
        runs.append({"rows": min(rows, len(train)), "seconds": seconds, "peak_memory_mb": peak_mb, "stages": stages})
        print(f"growth: {rows} rows in {seconds:.0f} s, peak {peak_mb:,.0f} MB", flush=True)
    base = runs[0]["seconds"]
    result = {"themes": themes, "overrides": fixed, "runs": runs}
    write_json(result_path("growth", "growth_goemotions.json"), result)
    groups = ("tune@", "tune_costly@", "features", "embed")
    rows_out = []
    for r in runs:
        by_group = {g: sum(v for s, v in r["stages"].items() if s.startswith(g)) for g in groups}
        rows_out.append(
            [r["rows"], f"{r['seconds']:.0f}", f"{r['seconds'] / base:.2f}x", f"{r['peak_memory_mb']:,.0f}"]
            + [f"{by_group[g]:.0f}" for g in groups]
        )
    headers = ["rows", "dvc repro (s)", "vs first", "peak MB", *[f"{g}* (s)" for g in groups]]
    markdown = (
        f"### growth with rows on goemotions (`python -m bench.growth`), {len(themes)} themes\n\n"
        f"Fixed budget: `{' '.join(fixed)}`; default candidates. One run per size.\n\n"
        + tabulate(rows_out, headers, "github")
        + f"\n\nThemes: {', '.join(themes)}. Linear growth would give {runs[-1]['rows'] / runs[0]['rows']:.1f}x.\n"
    )
    write_text(result_path("growth", "growth_goemotions.md"), with_provenance("growth", markdown))
    print(markdown)


if __name__ == "__main__":
    main(sys.argv[1:])
