"""How long the suggest stage takes on a large pool, and its peak memory.

    python -m bench.suggest_speed [--rows 500000] [--repeats 3] [SUGGEST_OVERRIDE ...]

In a throw-away copy of the project's trained state (the committed bundle, thresholds and
evaluation; run `dvc repro` first), the pool is ``rows`` distinct texts made from the sample's
training and test texts (each with its pool row number appended, so none is a repeat or a
training text). `python -m stages.suggest` runs ``repeats`` times, alternating with the
baseline: `predict` on as many rows as suggest scores (``suggest.max_pool``), the tagging pass
suggest cannot avoid. Each suggest run starts with an empty vector cache (cold; a second suggest
on the same pool reuses the cached vectors and takes a fraction of the time). Reported: median
wall times, their ratio, and the peak resident memory of the largest process.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

from bench.results_path import RESULTS, with_provenance
from harness.dvc_repo import ROOT
from themetag.atomic import write_json, write_text

STATE = [
    "params.yaml",
    "models",
    "metrics/metrics.json",
    "metrics/themes.json",
    "artifacts/thresholds.json",
    "artifacts/selected_oof.csv",
]


def make_pool(path: Path, rows: int) -> None:
    texts = pd.concat(
        [
            pd.read_csv(ROOT / f"data/{name}.csv", dtype=str, keep_default_na=False)["Processed Text"]
            for name in ("train", "test")
        ]
    ).tolist()
    pd.DataFrame({"Processed Text": [f"{texts[i % len(texts)]} ({i})" for i in range(rows)]}).to_csv(path, index=False)


def timed(args: list[str], cwd: Path, env: dict) -> float:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"{' '.join(args)} failed: {proc.stderr.strip()[-500:]}")
    return time.perf_counter() - started


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("overrides", nargs="*", help="suggest.KEY=VALUE settings, e.g. suggest.max_pool=null")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for rel in STATE:
            (work / rel).parent.mkdir(parents=True, exist_ok=True)
            copy = shutil.copytree if (ROOT / rel).is_dir() else shutil.copy
            copy(ROOT / rel, work / rel)
        shutil.copytree(ROOT / "data", work / "data")
        params = yaml.safe_load((work / "params.yaml").read_text())
        for override in args.overrides:
            key, _, value = override.partition("=")
            params["suggest"][key.removeprefix("suggest.")] = yaml.safe_load(value)
        (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        pool = work / "data/unlabeled.csv"
        make_pool(pool, args.rows)
        scored = min(args.rows, params["suggest"]["max_pool"] or args.rows)
        pd.read_csv(pool, dtype=str, keep_default_na=False, nrows=scored).to_csv(work / "scored.csv", index=False)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        times, floors = [], []
        predict = ["-m", "themetag", "predict", "--input", "scored.csv", "--output", "tagged.csv"]
        for i in range(args.repeats):  # alternate, so both see the same load
            # cold: an empty vector cache each run (suggest reuses cached vectors; predict does not)
            cold = {**env, "THEMETAG_VECTOR_CACHE": str(work / f"vectors-{i}")}
            times.append(timed(["-m", "stages.suggest"], work, cold))
            floors.append(timed(predict, work, env))
        floor = statistics.median(floors)
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        batch = len(pd.read_csv(work / "metrics/label_next.csv"))
    result = {
        "rows": args.rows,
        "suggest": params["suggest"],
        "seconds": times,
        "median_seconds": statistics.median(times),
        "scored_rows": scored,
        "predict_scored_rows_seconds": floors,
        "ratio_to_floor": statistics.median(times) / floor,
        "peak_rss_mb": peak_mb,
        "batch_rows": batch,
    }
    out = RESULTS / "suggest_speed"
    write_json(out / "suggest_speed.json", result)
    write_text(
        out / "suggest_speed.md",
        with_provenance(
            "suggest_speed",
            f"### suggest on a {args.rows:,}-row pool (`python -m bench.suggest_speed`)\n\n"
            f"- median of {args.repeats} cold runs: {result['median_seconds']:.1f} s (runs: {', '.join(f'{t:.1f}' for t in times)})\n"
            f"- baseline, same run: `predict` on the {scored:,} rows suggest scores, median {floor:.1f} s; "
            f"ratio {result['ratio_to_floor']:.2f}\n"
            f"- peak resident memory of the stage: {peak_mb:.0f} MB\n"
            f"- settings: {params['suggest']}\n- batch: {batch} rows\n",
        ),
    )
    print((out / "suggest_speed.md").read_text())


if __name__ == "__main__":
    main(sys.argv[1:])
