"""A labelling round's `dvc repro` against a cold run on the same rows: time and test figures.

    python -m bench.label_round [--dataset mams_acsa] [--rows 200] [--repeats 1]

1. A fresh copy holds the training set less its last ``--rows`` rows; a cold `dvc repro` there.
2. Those rows are appended with ``themetag append-batch`` (a labelling round), and `dvc repro`
   runs again, with what the first run left: DVC's cache, the Optuna storage, the vector cache.
3. A second fresh copy runs cold on the whole training set (empty caches).

The round's time is given against the cold run's, and the two runs' test figures side by side
(the same rows, so any difference is what reuse changed). Results go to
``bench/results/label_round_<dataset>.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
from tabulate import tabulate

from bench.timing import staged_run
from harness.dvc_repo import ROOT, DvcRepo
from themetag.atomic import write_json, write_text

DATASETS = {
    "mams_acsa": ROOT / "data",
    "semeval25": ROOT / "bench/data/semeval25",
    "goemotions": ROOT / "bench/data/goemotions",
}


def copy(path: Path, data_dir: Path, drop_last: int) -> DvcRepo:
    repo = DvcRepo(path, train_rows=None, test_rows=None, families="default", tuning="default", data_dir=data_dir)
    if drop_last:
        train = pd.read_csv(repo.path / "data/train.csv", dtype=str, keep_default_na=False)
        train.iloc[:-drop_last].to_csv(repo.path / "data/train.csv", index=False)
        train.iloc[-drop_last:].to_csv(path.parent / f"{path.name}-batch.csv", index=False)
        repo.commit("held back the last rows")
    repo.env["THEMETAG_VECTOR_CACHE"] = str(path.parent / f"{path.name}-vectors")
    return repo


def timed(repo: DvcRepo) -> tuple[float, dict, dict]:
    seconds, stages, _, _ = staged_run(["dvc", "repro"], repo.path, repo.env)
    return seconds, stages, json.loads((repo.path / "metrics/metrics.json").read_text())["test"]


def one(tmp: Path, data_dir: Path, rows: int, i: int) -> dict:
    first = copy(tmp / f"round-{i}", data_dir, rows)
    timed(first)
    first.commit("first run")
    out = subprocess.run(
        [sys.executable, "-m", "themetag", "append-batch", str(tmp / f"round-{i}-batch.csv")],
        cwd=first.path,
        env=first.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"{rows} rows appended" in out, out
    round_s, round_stages, round_test = timed(first)
    cold = copy(tmp / f"cold-{i}", data_dir, 0)
    cold_s, cold_stages, cold_test = timed(cold)
    return {
        "round_seconds": round_s,
        "cold_seconds": cold_s,
        "round_stages": round_stages,
        "cold_stages": cold_stages,
        "round_test": round_test,
        "cold_test": cold_test,
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="mams_acsa")
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)
    os.environ.pop("PYTHONPATH", None)
    with tempfile.TemporaryDirectory(prefix="label-round-") as tmp:
        runs = [one(Path(tmp), DATASETS[args.dataset], args.rows, i) for i in range(args.repeats)]
    round_s = statistics.median(r["round_seconds"] for r in runs)
    cold_s = statistics.median(r["cold_seconds"] for r in runs)
    last = runs[-1]
    same = last["round_test"] == last["cold_test"]
    result = {
        "dataset": args.dataset,
        "rows_appended": args.rows,
        "repeats": args.repeats,
        "round_seconds": [r["round_seconds"] for r in runs],
        "cold_seconds": [r["cold_seconds"] for r in runs],
        "ratio": round_s / cold_s,
        "test_identical": same,
        "round_macro": last["round_test"]["macro"],
        "cold_macro": last["cold_test"]["macro"],
        "round_stages": last["round_stages"],
        "cold_stages": last["cold_stages"],
    }
    write_json(ROOT / f"bench/results/label_round_{args.dataset}.json", result)
    stages = sorted(last["round_stages"], key=lambda s: -last["round_stages"][s])[:12]
    md = (
        f"### {args.dataset}: a labelling round of {args.rows} rows against a cold run on the same rows\n\n"
        + tabulate(
            [
                ["cold `dvc repro` (median s)", f"{cold_s:.1f}"],
                ["labelling round `dvc repro` (median s)", f"{round_s:.1f}"],
                ["round / cold", f"{result['ratio']:.2f}"],
                [
                    "test macro P / R, round",
                    f"{result['round_macro']['precision']:.3f} / {result['round_macro']['recall']:.3f}",
                ],
                [
                    "test macro P / R, cold",
                    f"{result['cold_macro']['precision']:.3f} / {result['cold_macro']['recall']:.3f}",
                ],
                ["test figures identical", "yes" if same else "no"],
            ],
            ["measure", "value"],
            tablefmt="github",
        )
        + "\n\nSlowest stages of the round:\n\n"
        + tabulate(
            [[s, last["round_stages"][s], last["cold_stages"].get(s)] for s in stages],
            ["stage", "round s", "cold s"],
            "github",
            floatfmt=".1f",
        )
        + "\n"
    )
    write_text(ROOT / f"bench/results/label_round_{args.dataset}.md", md)
    print(md)


if __name__ == "__main__":
    main(sys.argv[1:])
