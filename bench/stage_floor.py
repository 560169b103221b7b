"""The pipeline's fixed cost: a cold `dvc repro` of the default config on a few rows.

    python -m bench.stage_floor [--rows 120] [--repeats 3]

A fresh copy with the default config (every stage, every candidate) on the first ``--rows``
training rows of the sample (a third as many test rows): the fitting there is negligible, so the
time is what every run pays whatever its data, one Python process and DVC's bookkeeping per
stage. The median of ``--repeats`` runs, with seconds per stage, goes to
``bench/results/stage_floor/stage_floor.{json,md}``; it is the floor under a labelling round's time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from tabulate import tabulate

from bench.results_path import result_path, with_provenance
from bench.timing import staged_run
from harness.dvc_repo import DvcRepo
from themetag.atomic import write_json, write_text


def one(path: Path, rows: int) -> tuple[float, dict[str, float]]:
    repo = DvcRepo(path, train_rows=rows, test_rows=max(rows // 3, 30), families="default", tuning="default")
    repo.env["THEMETAG_VECTOR_CACHE"] = str(path.parent / f"{path.name}-vectors")  # cold
    seconds, stages, _, _ = staged_run(["dvc", "repro"], repo.path, repo.env)
    return seconds, stages


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=120)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    runs = []
    with tempfile.TemporaryDirectory(prefix="floor-") as tmp:
        for i in range(args.repeats):
            runs.append(one(Path(tmp) / f"p{i}", args.rows))
            print(f"run {i + 1}: {runs[-1][0]:.1f}s over {len(runs[-1][1])} stages", flush=True)
    times = [s for s, _ in runs]
    per_stage = {k: statistics.median(r[1].get(k, 0.0) for r in runs) for k in runs[0][1]}
    result = {
        "rows": args.rows,
        "seconds": times,
        "median_seconds": statistics.median(times),
        "stages": len(per_stage),
        "median_stage_seconds": statistics.median(per_stage.values()),
        "per_stage": per_stage,
    }
    md = (
        f"### The fixed cost of a run: cold `dvc repro`, default config, {args.rows} training rows, "
        f"{args.repeats} runs (`python -m bench.stage_floor`)\n\n"
        f"median **{result['median_seconds']:.1f} s** over {result['stages']} stages "
        f"(median stage {result['median_stage_seconds']:.2f} s)\n\n"
    )
    md += tabulate(sorted(per_stage.items(), key=lambda kv: -kv[1]), ["stage", "median seconds"], "github", ".2f")
    write_json(result_path("stage_floor", "stage_floor.json"), result)
    write_text(result_path("stage_floor", "stage_floor.md"), with_provenance("stage_floor", md + "\n"))
    print(md)


if __name__ == "__main__":
    main(sys.argv[1:])
