"""Issue 4's big-input check: 200,000 synthetic short texts with 20 themes, end to end.

    python -m bench.big_input [--rows 200000] [--themes 20] [--families fast]

Builds a synthetic labelled set from the sample's vocabulary: each theme has its own marker
words, which also appear at random (5%) in rows without the theme, so nothing is perfectly
separable. Runs the whole `dvc repro` with the smoke tuning budget in a throw-away copy of the
project and reports wall time and peak memory (largest max RSS of any process in the run).
The default families are `fast` (linear and naive Bayes): random forest and AdaBoost on 160,000
sparse rows take minutes per fit, which no smoke budget can hide.
Writes bench/results/big_input/big_input.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.results_path import result_path, with_provenance
from harness.dvc_repo import ROOT, DvcRepo
from themetag.atomic import write_json, write_text


def synthetic(rows: int, n_themes: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    words = (
        pd.read_csv(ROOT / "data/train.csv")["Processed Text"].str.lower().str.findall(r"[a-z]{3,}").explode().unique()
    )
    words = np.array(words, dtype=object)  # a pandas StringArray does not shuffle safely in place
    rng.shuffle(words)
    markers = [words[i * 30 : (i + 1) * 30] for i in range(n_themes)]
    background = words[n_themes * 30 :]
    weights = 1 / np.arange(1, n_themes + 1)  # Zipf-like theme frequencies
    weights /= weights.sum()
    texts, themes = [], []
    for _ in range(rows):
        chosen = sorted(set(rng.choice(n_themes, size=rng.integers(1, 4), p=weights)))
        tokens = list(rng.choice(background, size=rng.integers(6, 16)))
        for t in chosen:
            tokens += list(rng.choice(markers[t], size=rng.integers(1, 3)))
        noise = rng.random(n_themes) < 0.05
        tokens += [rng.choice(markers[t]) for t in np.flatnonzero(noise)]
        rng.shuffle(tokens)
        texts.append(" ".join(tokens))
        themes.append(", ".join(f"theme{t:02d}" for t in chosen))
    return pd.DataFrame({"Processed Text": texts, "Themes": themes})


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--themes", type=int, default=20)
    parser.add_argument("--families", default="fast")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-big-") as tmp:
        data = Path(tmp) / "source"
        data.mkdir()
        frame = synthetic(args.rows + args.rows // 10, args.themes)
        frame.iloc[: args.rows].to_csv(data / "train.csv", index=False)
        frame.iloc[args.rows :].to_csv(data / "test.csv", index=False)
        repo = DvcRepo(
            Path(tmp) / "p", train_rows=None, test_rows=None, families=args.families, tuning="smoke", data_dir=data
        )
        repo.edit("conf/tuning/smoke.yaml", "n_jobs: 1", "n_jobs: -1")
        repo.run(sys.executable, "-m", "stages.compose")
        start = time.perf_counter()
        repo.run("dvc", "repro")
        seconds = time.perf_counter() - start
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        metrics = json.loads((repo.path / "metrics/metrics.json").read_text())
    result = {
        "rows": args.rows,
        "themes": args.themes,
        "families": args.families,
        "tuning": "smoke (n_jobs=-1)",
        "dvc_repro_seconds": seconds,
        "peak_rss_mb": peak_mb,
        "test_macro": metrics["test"]["macro"],
    }
    write_json(result_path("big_input", "big_input.json"), result)
    write_text(
        result_path("big_input", "big_input.md"),
        with_provenance(
            "big_input",
            f"### big input (`python -m bench.big_input`)\n\n{args.rows:,} synthetic rows, {args.themes} themes, "
            f"families `{args.families}`, smoke tuning budget: `dvc repro` took {seconds:.0f} s with a peak RSS of "
            f"{peak_mb:,.0f} MB (largest single process).\n",
        ),
    )
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
