"""Measure issue 2's targets: default `dvc repro` time, and test quality against the references.

    python -m bench.pipeline_targets [--dataset mams_acsa|semeval25] [--repeats 1]

Each repeat builds a fresh throw-away copy of the project (empty Optuna storage, no DVC cache)
in a temporary git repository and times the default config's `dvc repro` there. The references
(bench/references.py) run in the same invocation on the same split. Results go to
bench/results/pipeline_targets_<dataset>.json and are printed as markdown.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml
from tabulate import tabulate

from bench.references import reference_a, reference_b, summarise
from bench.timing import median_seconds
from stages.atomic import write_json, write_text
from tests.dvc_repo import ROOT, DvcRepo

DATASETS = {"mams_acsa": ROOT / "data", "semeval25": ROOT / "bench/data/semeval25"}


def run_pipeline(data_dir: Path) -> tuple[float, dict, dict]:
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        repo = DvcRepo(
            Path(tmp), train_rows=None, test_rows=None, families="default", tuning="default", data_dir=data_dir
        )
        start = time.perf_counter()
        repo.run("dvc", "repro")
        seconds = time.perf_counter() - start
        metrics = json.loads((repo.path / "metrics/metrics.json").read_text())
        tuning = json.loads((repo.path / "metrics/tuning.json").read_text())
        return seconds, metrics, tuning


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="mams_acsa")
    parser.add_argument("--repeats", type=int, default=1, help="pipeline runs; the median time is reported")
    args = parser.parse_args(argv)
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    min_recall, early_stop = params["thresholds"]["min_recall"], params["tuning"]["early_stop"]

    runs = [run_pipeline(DATASETS[args.dataset]) for _ in range(args.repeats)]
    times = [r[0] for r in runs]
    metrics, tuning = runs[-1][1], runs[-1][2]
    themes = list(metrics["test"]["themes"])

    from stages.labels import split_themes

    def table(path: Path) -> pd.DataFrame:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        lists = [split_themes(c) for c in frame["Themes"]]
        return pd.DataFrame({"text": frame["Processed Text"], **{t: [int(t in ts) for ts in lists] for t in themes}})

    train, test = table(DATASETS[args.dataset] / "train.csv"), table(DATASETS[args.dataset] / "test.csv")
    features = params["features"]
    refs: dict = {}

    def run_a():
        refs["a_threshold_0.5"] = reference_a(train, test, themes, features)

    def run_b():
        refs["b_tuned_threshold_cv"] = reference_b(train, test, themes, features, min_recall)

    # each reference run is well under 2 minutes, so its time is the median of 3 runs
    wall = {"a_threshold_0.5": median_seconds(run_a, 3), "b_tuned_threshold_cv": median_seconds(run_b, 3)}
    wall["c_pipeline"] = statistics.median(times)
    systems = {**refs, "c_pipeline": metrics["test"]}
    result = {
        "dataset": args.dataset,
        "repro_seconds": times,
        "repro_seconds_median": statistics.median(times),
        "wall_seconds": wall,
        "summary": {
            name: {**summarise(m, min_recall, early_stop), "wall_seconds": wall[name]} for name, m in systems.items()
        },
        "per_theme": {
            name: {t: {k: m["themes"][t][k] for k in ("precision", "recall", "support")} for t in themes}
            for name, m in systems.items()
        },
        "pipeline_selected": {t: metrics["test"]["themes"][t]["model"] for t in themes},
        "tuning_families": tuning["families"],
    }
    write_json(ROOT / f"bench/results/pipeline_targets_{args.dataset}.json", result)
    rows = [
        [t, *[f"{systems[s]['themes'][t]['precision']:.3f} / {systems[s]['themes'][t]['recall']:.3f}" for s in systems]]
        for t in themes
    ]
    rows.append(
        ["macro", *[f"{systems[s]['macro']['precision']:.3f} / {systems[s]['macro']['recall']:.3f}" for s in systems]]
    )
    summary = result["summary"]
    for label, key in (
        ("themes reaching min_recall", "themes_reaching_min_recall"),
        ("themes meeting early-stop rule", "themes_meeting_early_stop_rule"),
    ):
        rows.append([label, *[f"{summary[s][key]}/{summary[s]['themes']}" for s in systems]])
    rows.append(["wall time (s)", *[f"{wall[s]:.1f}" for s in systems]])
    headers = ["theme", "(a) LR @ 0.5", "(b) TunedThresholdClassifierCV", "(c) pipeline"]
    markdown = (
        f"### {args.dataset}: precision / recall on test.csv\n\n"
        + tabulate(rows, headers, tablefmt="github")
        + f"\n\n(c)'s wall time is the whole default `dvc repro` ({len(times)} run(s)); (a) and (b): median of 3 runs.\n"
    )
    write_text(ROOT / f"bench/results/pipeline_targets_{args.dataset}.md", markdown)
    print(markdown)
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
