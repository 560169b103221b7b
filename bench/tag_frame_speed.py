"""Rows per second of tag_frame on a Dask LocalCluster (2 worker processes, 1 thread each)
against the CLI (`themetag.tagging.predict's predict_file, one process) on the same rows.

    python -m bench.tag_frame_speed [--bundle models/bundle.joblib] [--rows 4000] [--repeats 3]

Rows are the sample's texts repeated. Each figure is the median of --repeats runs; the cluster
is started once, and its first run (which loads the bundle in each worker) is timed apart.
Writes bench/results/tag_frame_speed/tag_frame_speed.{json,md}.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.predict_speed import make_rows
from bench.results_path import result_path, with_provenance
from bench.timing import measure_table
from themetag.atomic import write_json, write_text
from themetag.tagging.bundle import DEFAULT_BUNDLE, load_bundle
from themetag.tagging.frame import tag_frame
from themetag.tagging.predict import predict_file

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> None:
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / DEFAULT_BUNDLE)
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--partitions", type=int, default=8)
    args = parser.parse_args(argv)
    bundle = str(args.bundle.resolve())
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "rows.csv"
        make_rows(args.rows, src)
        tagger = load_bundle(bundle)
        cli = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            predict_file(tagger, src, Path(tmp) / "cli.csv", tagger.text_column)
            cli.append(time.perf_counter() - start)
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
            with Client(cluster):
                frame = dd.read_csv(src, dtype={"Processed Text": str}, keep_default_na=False)
                frame = frame.repartition(npartitions=args.partitions)
                meta = tag_frame(frame._meta, bundle=bundle)
                runs = []
                for _ in range(args.repeats + 1):
                    start = time.perf_counter()
                    frame.map_partitions(tag_frame, bundle=bundle, meta=meta).compute()
                    runs.append(time.perf_counter() - start)
    first, warm = runs[0], runs[1:]
    result = {
        "bundle": bundle,
        "rows": args.rows,
        "partitions": args.partitions,
        "cli_seconds": cli,
        "dask_first_seconds": first,
        "dask_seconds": warm,
        "cli_rows_per_second": args.rows / statistics.median(cli),
        "dask_rows_per_second": args.rows / statistics.median(warm),
        "dask_first_rows_per_second": args.rows / first,
    }
    result["speedup"] = result["dask_rows_per_second"] / result["cli_rows_per_second"]
    write_json(result_path("tag_frame_speed", "tag_frame_speed.json"), result)
    rows = [
        ["rows", f"{args.rows:,}"],
        [f"CLI, 1 process (rows/s, median of {args.repeats})", f"{result['cli_rows_per_second']:.0f}"],
        [
            f"Dask, 2 workers x 1 thread, {args.partitions} batches (rows/s, median)",
            f"{result['dask_rows_per_second']:.0f}",
        ],
        ["Dask, first run (loads the bundle in each worker)", f"{result['dask_first_rows_per_second']:.0f}"],
        ["Dask / CLI", f"{result['speedup']:.2f}x"],
    ]
    markdown = measure_table("tag_frame on Dask against the CLI", rows)
    write_text(result_path("tag_frame_speed", "tag_frame_speed.md"), with_provenance("tag_frame_speed", markdown))
    print(markdown)


if __name__ == "__main__":
    main(sys.argv[1:])
