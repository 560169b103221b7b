"""Measure issue 3's targets for `stages.predict`, against baselines measured in the same run.

    python -m bench.predict_speed [--bundle models/bundle.joblib] [--repeats 3]

* Throughput on 100,000 rows built from the sample's texts: predict_file (CSV in, CSV out,
  chunked) against the floor: one vectoriser transform of all rows plus each theme's model
  scoring the whole matrix. Median of --repeats runs each; the ratio is predict / floor.
* The original notebook's way (one transform and one scoring call per row per theme) on 2,000
  rows, against predict_file on the same rows: the speed-up.
* Peak memory (max RSS) of `python -m stages.predict` on 100,000 and on 1,000,000 rows, each in
  its own process.
Writes bench/results/predict_speed.json and prints a summary.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

from bench.timing import measure_table, median_seconds
from stages.atomic import write_json, write_text
from stages.bundle import DEFAULT_BUNDLE, load_bundle
from stages.families import score
from stages.predict import predict_file

ROOT = Path(__file__).resolve().parents[1]


def make_rows(n: int, path: Path) -> None:
    texts = pd.read_csv(ROOT / "data/train.csv", keep_default_na=False)["Processed Text"]
    reps = -(-n // len(texts))
    frame = pd.DataFrame({"id": range(n), "Processed Text": pd.concat([texts] * reps, ignore_index=True)[:n]})
    frame.to_csv(path, index=False)


def floor(tagger, texts: list[str]) -> None:
    X = tagger.vectorizer.transform(texts)
    for model in tagger.models.values():
        score(model, X)


def notebook_way(tagger, texts: list[str]) -> list[list[str]]:
    """The original notebook: per row, per theme, vectorise the text again and score it alone."""
    out = []
    for text in texts:
        tags = []
        for theme, model in tagger.models.items():
            if score(model, tagger.vectorizer.transform([text]))[0] >= tagger.thresholds[theme]:
                tags.append(theme)
        out.append(tags)
    return out


def peak_rss_mb(bundle: Path, src: Path, dst: Path) -> float:
    code = (
        "import resource, sys; from stages.predict import main; main(sys.argv[1:]); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "--input", str(src), "--output", str(dst), "--bundle", str(bundle)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(proc.stdout.strip().splitlines()[-1]) / 1024


def markdown(r: dict) -> str:
    rows = [
        ["rows per second, 100,000 rows (CSV in, CSV out)", f"{r['100k']['rows_per_s']:,.0f}"],
        [
            "predict / floor (one transform + each model scoring the matrix)",
            f"{r['100k']['predict_s']:.2f} s / {r['100k']['floor_s']:.2f} s = {r['100k']['ratio']:.3f}",
        ],
        [
            "notebook way (per row, per theme) / predict, 2,000 rows",
            f"{r['notebook_2k']['notebook_s']:.1f} s / {r['notebook_2k']['predict_s']:.2f} s = {r['notebook_2k']['speedup']:.0f}x",
        ],
        [
            "peak RSS, 100,000 / 1,000,000 rows",
            f"{r['memory']['peak_rss_mb_100k']:.0f} MB / {r['memory']['peak_rss_mb_1m']:.0f} MB",
        ],
    ]
    return measure_table("predict (`python -m bench.predict_speed`, median of 3)", rows)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / DEFAULT_BUNDLE)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    tagger = load_bundle(args.bundle)
    result: dict = {"bundle_families": tagger.families, "repeats": args.repeats}
    with tempfile.TemporaryDirectory(prefix="bench-predict-") as tmp:
        tmp = Path(tmp)
        make_rows(100_000, tmp / "100k.csv")
        texts = pd.read_csv(tmp / "100k.csv", keep_default_na=False)["Processed Text"].tolist()
        t_floor = median_seconds(lambda: floor(tagger, texts), args.repeats)
        t_predict = median_seconds(
            lambda: predict_file(tagger, tmp / "100k.csv", tmp / "out.csv", "Processed Text"), args.repeats
        )
        result["100k"] = {
            "floor_s": t_floor,
            "predict_s": t_predict,
            "ratio": t_predict / t_floor,
            "rows_per_s": 100_000 / t_predict,
        }

        pd.read_csv(tmp / "100k.csv").head(2000).to_csv(tmp / "2k.csv", index=False)
        few = texts[:2000]
        t_nb = median_seconds(lambda: notebook_way(tagger, few), 1)
        t_ours = median_seconds(
            lambda: predict_file(tagger, tmp / "2k.csv", tmp / "out2k.csv", "Processed Text"), args.repeats
        )
        assert notebook_way(tagger, few[:200]) == tagger.predict(few[:200])  # same answers, only slower
        result["notebook_2k"] = {"notebook_s": t_nb, "predict_s": t_ours, "speedup": t_nb / t_ours}

        make_rows(1_000_000, tmp / "1m.csv")
        rss_100k = peak_rss_mb(args.bundle, tmp / "100k.csv", tmp / "o1.csv")
        rss_1m = peak_rss_mb(args.bundle, tmp / "1m.csv", tmp / "o2.csv")
        result["memory"] = {"peak_rss_mb_100k": rss_100k, "peak_rss_mb_1m": rss_1m, "ratio": rss_1m / rss_100k}
    write_json(ROOT / "bench/results/predict_speed.json", result)
    write_text(ROOT / "bench/results/predict_speed.md", markdown(result))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
