"""Measure `themetag predict` against baselines measured in the same run.

    python -m bench.predict_speed [--bundle models/bundle.joblib] [--repeats 3] [--rows N] [--memory-rows A,B]

* Throughput on --rows rows built from the sample's texts: predict_file (CSV in, CSV out,
  chunked) against the floor: each featurizer run once on all rows (one TF-IDF transform, one
  encode) plus each theme's model scoring its space's matrix. Median of --repeats runs each;
  the ratio is predict / floor.
* The original notebook's way (one transform and one scoring call per row per theme) on 2,000
  rows, against predict_file on the same rows: the speed-up.
* Peak memory (max RSS) of `themetag predict` on the two --memory-rows sizes, each in
  its own process: equal peaks mean memory does not grow with the input.
The defaults are sized for a bundle with an encoder (about 200 texts/s on 2 cores); a TF-IDF-only
bundle can take --rows 100000 --memory-rows 100000,1000000.
Writes bench/results/predict_speed/predict_speed.json and prints a summary.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from bench.results_path import result_path, with_provenance
from bench.timing import measure_table, median_seconds
from themetag.atomic import write_json, write_text
from themetag.modelling.families import score
from themetag.tagging.bundle import DEFAULT_BUNDLE, load_bundle
from themetag.tagging.predict import predict_file

ROOT = Path(__file__).resolve().parents[1]


def make_rows(n: int, path: Path) -> None:
    texts = pd.read_csv(ROOT / "data/train.csv", keep_default_na=False)["Processed Text"]
    reps = -(-n // len(texts))
    frame = pd.DataFrame({"id": range(n), "Processed Text": pd.concat([texts] * reps, ignore_index=True)[:n]})
    frame.to_csv(path, index=False)


def floor(tagger, texts: list[str]) -> None:
    """Each featurizer once on all rows, each theme's models scoring their matrices: no more work
    than a bag of K members (K transforms for per-fold spaces, one encode) must do."""
    Xs = tagger.matrices(texts)
    for theme, models in tagger.models.items():
        for model, X in zip(models, Xs, strict=True):
            score(model, X[tagger.spaces[theme]])


def notebook_way(tagger, texts: list[str]) -> list[list[str]]:
    """The original notebook: per row, per theme, vectorise the text again and score it alone."""
    out = []
    for text in texts:
        tags = []
        for theme, models in tagger.models.items():
            Xs = [member[tagger.spaces[theme]].transform([text], {}) for member in tagger.featurizers]
            if np.mean([score(m, X)[0] for m, X in zip(models, Xs, strict=True)]) >= tagger.thresholds[theme]:
                tags.append(theme)
        out.append(tags)
    return out


def peak_rss_mb(bundle: Path, src: Path, dst: Path, chunksize: int) -> float:
    code = (
        "import resource, sys; from themetag.tagging.predict import main; main(sys.argv[1:]); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "--input", str(src), "--output", str(dst), "--bundle", str(bundle)]
        + ["--chunksize", str(chunksize)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(proc.stdout.strip().splitlines()[-1]) / 1024


def markdown(r: dict) -> str:
    t = r["throughput"]
    small, big = r["memory"]["rows"]
    rows = [
        ["bundle: themes per space", ", ".join(f"{s} {n}" for s, n in r["bundle_spaces"].items())],
        [f"rows per second, {t['rows']:,} rows (CSV in, CSV out)", f"{t['rows_per_s']:,.0f}"],
        [
            "predict / floor (each featurizer once + each model scoring its matrix)",
            f"{t['predict_s']:.2f} s / {t['floor_s']:.2f} s = {t['ratio']:.3f}",
        ],
        [
            "notebook way (per row, per theme) / predict, 2,000 rows",
            f"{r['notebook_2k']['notebook_s']:.1f} s / {r['notebook_2k']['predict_s']:.2f} s = {r['notebook_2k']['speedup']:.0f}x",
        ],
        [
            f"peak RSS, {small:,} / {big:,} rows, chunks of {small // 2:,}",
            f"{r['memory']['peak_rss_mb_small']:.0f} MB / {r['memory']['peak_rss_mb_big']:.0f} MB",
        ],
    ]
    return measure_table(f"predict (`python -m bench.predict_speed`, median of {r['repeats']})", rows)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / DEFAULT_BUNDLE)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--memory-rows", default="10000,50000")
    parser.add_argument("--throughput-only", action="store_true", help="skip the notebook and memory runs")
    parser.add_argument("--tag", default="", help="suffix of the result files")
    args = parser.parse_args(argv)
    small, big = (int(n) for n in args.memory_rows.split(","))
    tagger = load_bundle(args.bundle)
    spaces = {s: sum(v == s for v in tagger.spaces.values()) for s in dict.fromkeys(tagger.spaces.values())}
    result: dict = {"bundle_families": tagger.families, "bundle_spaces": spaces, "repeats": args.repeats}
    result["encoders"] = [f"{e.model}@{e.max_tokens}" for e in tagger.encoders()]
    with tempfile.TemporaryDirectory(prefix="bench-predict-") as tmp:
        tmp = Path(tmp)
        make_rows(args.rows, tmp / "rows.csv")
        texts = pd.read_csv(tmp / "rows.csv", keep_default_na=False)["Processed Text"].tolist()
        t_floor = median_seconds(lambda: floor(tagger, texts), args.repeats)
        t_predict = median_seconds(
            lambda: predict_file(tagger, tmp / "rows.csv", tmp / "out.csv", "Processed Text"), args.repeats
        )
        result["throughput"] = {
            "rows": args.rows,
            "floor_s": t_floor,
            "predict_s": t_predict,
            "ratio": t_predict / t_floor,
            "rows_per_s": args.rows / t_predict,
        }

        if args.throughput_only:
            return finish(result, args.tag, throughput_only=True)
        pd.read_csv(tmp / "rows.csv").head(2000).to_csv(tmp / "2k.csv", index=False)
        few = texts[:2000]
        t_nb = median_seconds(lambda: notebook_way(tagger, few), 1)
        t_ours = median_seconds(
            lambda: predict_file(tagger, tmp / "2k.csv", tmp / "out2k.csv", "Processed Text"), args.repeats
        )
        assert notebook_way(tagger, few[:200]) == tagger.predict(few[:200])  # same answers, only slower
        result["notebook_2k"] = {"notebook_s": t_nb, "predict_s": t_ours, "speedup": t_nb / t_ours}

        make_rows(small, tmp / "small.csv")
        make_rows(big, tmp / "big.csv")
        # chunks of half the small size: both runs stream several chunks, so equal peaks show that
        # memory depends on the chunk size, not on the input size
        rss_small = peak_rss_mb(args.bundle, tmp / "small.csv", tmp / "o1.csv", small // 2)
        rss_big = peak_rss_mb(args.bundle, tmp / "big.csv", tmp / "o2.csv", small // 2)
        result["memory"] = {
            "rows": [small, big],
            "peak_rss_mb_small": rss_small,
            "peak_rss_mb_big": rss_big,
            "ratio": rss_big / rss_small,
        }
    finish(result, args.tag)


def finish(result: dict, tag: str, throughput_only: bool = False) -> None:
    name = "predict_speed" + (f"_{tag}" if tag else "")
    write_json(result_path("predict_speed", f"{name}.json"), result)
    if throughput_only:
        t = result["throughput"]
        text = measure_table(
            f"predict throughput ({tag or 'bundle'}; `python -m bench.predict_speed --throughput-only`, "
            f"median of {result['repeats']})",
            [
                ["bundle: themes per space", ", ".join(f"{s} {n}" for s, n in result["bundle_spaces"].items())],
                ["encoders", ", ".join(result["encoders"]) or "none"],
                [f"rows per second, {t['rows']:,} rows (CSV in, CSV out)", f"{t['rows_per_s']:,.0f}"],
                ["predict / floor", f"{t['predict_s']:.2f} s / {t['floor_s']:.2f} s = {t['ratio']:.3f}"],
            ],
        )
    else:
        text = markdown(result)
    write_text(result_path("predict_speed", f"{name}.md"), with_provenance("predict_speed", text))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
