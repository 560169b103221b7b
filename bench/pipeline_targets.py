"""Default `dvc repro` time, and test quality against the references.

    python -m bench.pipeline_targets [--dataset mams_acsa|semeval25|goemotions] [--repeats 1] [--tag NAME]
        [--keep DIR] [HYDRA_OVERRIDE ...]

Overrides (e.g. ``models.spaces=[tfidf]``) are applied to the composed config of the copy, and
``--tag`` names the result files, so variants can be measured side by side.

Each repeat builds a fresh throw-away copy of the project (empty Optuna storage, no DVC cache)
in a temporary git repository and times the default config's `dvc repro` there. The references
(bench/references.py) run in the same invocation on the same split. Results go to
bench/results/pipeline_targets/pipeline_targets_<dataset>.json and are printed as markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import yaml
from tabulate import tabulate

from bench.copies import default_copy
from bench.references import load_split, reference_a, reference_b, reference_d, summarise
from bench.results_path import result_path, with_provenance
from bench.timing import median_seconds, staged_run
from harness.dvc_repo import ROOT, DvcRepo
from themetag.atomic import write_json, write_text

DATASETS = {
    "mams_acsa": ROOT / "data",
    "semeval25": ROOT / "bench/data/semeval25",
    "goemotions": ROOT / "bench/data/goemotions",
}


def timed_repro(path: Path, data_dir: Path, overrides: list[str]) -> tuple[DvcRepo, float, dict, float]:
    """A fresh copy of the project at ``path`` (no Optuna storage, no DVC cache), the whole
    dataset, the default config plus ``overrides``; its `dvc repro` time, seconds per stage and
    peak memory (MB, the whole process tree)."""
    repo = default_copy(path, data_dir, overrides)
    seconds, stages, peak_mb, output = staged_run(["dvc", "repro"], repo.path, repo.env)
    (ROOT / "bench/results/logs").mkdir(parents=True, exist_ok=True)
    write_text(ROOT / f"bench/results/logs/{path.name}.log", output)
    return repo, seconds, stages, peak_mb


def run_pipeline(data_dir: Path, overrides: list[str], keep: Path | None = None) -> tuple:
    """One timed run in a throw-away copy, or in ``keep`` (a new folder, left in place to read)."""
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        path = Path(tmp) if keep is None else keep
        if keep is not None:
            keep.mkdir(parents=True)  # refuses an existing folder: a kept run is never overwritten
        repo, seconds, stages, peak_mb = timed_repro(path, data_dir, overrides)
        read = {n: json.loads((repo.path / f"metrics/{n}.json").read_text()) for n in ("metrics", "tuning", "encoding")}
        params = yaml.safe_load((repo.path / "params.yaml").read_text())
        embeddings, choice = params["features"]["embeddings"], repo.path / "artifacts/encoder_choice.json"
        if embeddings.get("model") == "auto" and choice.is_file():  # (d) encodes with the encoder the probe chose
            embeddings.update({k: v for k, v in json.loads(choice.read_text()).items() if k in ("model", "max_tokens")})
        # the encoders the run built, kept for reference (d), which encodes with the run's encoder
        keep_encoder = Path(tempfile.mkdtemp(prefix="bench-encoder-"))
        shutil.copytree(repo.path / "artifacts/encoder", keep_encoder / "artifacts/encoder")
        return seconds, read["metrics"], read["tuning"], read["encoding"], stages, peak_mb, params, keep_encoder


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="mams_acsa")
    parser.add_argument("--repeats", type=int, default=1, help="pipeline runs; the median time is reported")
    parser.add_argument("--tag", default="", help="suffix of the result files")
    parser.add_argument("--reference-repeats", type=int, default=3, help="runs of (a) and (b); the median is kept")
    parser.add_argument("--keep", type=Path, help="run (one repeat) in this new folder and leave it there")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides for the pipeline's config")
    args = parser.parse_args(argv)
    if args.keep and args.repeats != 1:
        parser.error("--keep runs one repeat")
    runs = [run_pipeline(DATASETS[args.dataset], args.overrides, args.keep) for _ in range(args.repeats)]
    params = runs[-1][6]  # the run's own composed config: the references use its settings (and encoder)
    min_recall, early_stop = params["thresholds"]["min_recall"], params["tuning"]["early_stop"]
    times = [r[0] for r in runs]
    metrics, tuning, encoding = runs[-1][1], runs[-1][2], runs[-1][3]
    embed_seconds = runs[-1][4].get("embed", 0.0)
    themes = list(metrics["test"]["themes"])

    train, test = load_split(DATASETS[args.dataset], themes)
    features = params["features"]["tfidf"]
    refs: dict = {}

    def run_a():
        refs["a_threshold_0.5"] = reference_a(train, test, themes, features)

    def run_b():
        refs["b_tuned_threshold_cv"] = reference_b(train, test, themes, features, min_recall)

    def run_d():
        old = Path.cwd()
        os.chdir(runs[-1][7])  # where the run's built encoders are (artifacts/encoder/)
        try:
            refs["d_tuned_threshold_cv_embeddings"] = reference_d(
                train, test, themes, params["features"]["embeddings"], min_recall
            )
        finally:
            os.chdir(old)

    # each reference run is well under 2 minutes, so its time is the median of 3 runs; (d) is
    # timed once, since it encodes every text (its quality is the same on every run)
    reps = args.reference_repeats
    wall = {"a_threshold_0.5": median_seconds(run_a, reps), "b_tuned_threshold_cv": median_seconds(run_b, reps)}
    wall["d_tuned_threshold_cv_embeddings"] = median_seconds(run_d, 1)
    wall["c_pipeline"] = statistics.median(times)
    systems = {
        "a_threshold_0.5": refs["a_threshold_0.5"],
        "b_tuned_threshold_cv": refs["b_tuned_threshold_cv"],
        "d_tuned_threshold_cv_embeddings": refs["d_tuned_threshold_cv_embeddings"],
        "c_pipeline": metrics["test"],
    }
    result = {
        "dataset": args.dataset,
        "overrides": args.overrides,
        "repro_seconds": times,
        "repro_seconds_median": statistics.median(times),
        "peak_memory_mb": max(r[5] for r in runs),
        "stage_seconds": runs[-1][4],
        "stage_share": {s: v / times[-1] for s, v in runs[-1][4].items()},
        "wall_seconds": wall,
        "summary": {
            name: {**summarise(m, min_recall, early_stop), "wall_seconds": wall[name]} for name, m in systems.items()
        },
        "per_theme": {
            name: {t: {k: m["themes"][t][k] for k in ("precision", "recall", "support")} for t in themes}
            for name, m in systems.items()
        },
        "pipeline_selected": {t: f"{m['model']}-{m['space']}" for t, m in metrics["test"]["themes"].items()},
        "spaces_selected": tuning["spaces"],
        "tuning_candidates": tuning["candidates"],
        "skipped_candidates": tuning["skipped"],
        "encoding": {  # the embed stage's wall time (its process start included): metrics/encoding.json has no timing
            "texts": encoding.get("texts"),
            "seconds": embed_seconds,
            "texts_per_second": (encoding.get("texts") or 0) / embed_seconds if embed_seconds else None,
            "share_of_repro": embed_seconds / statistics.median(times),
        },
    }
    name = f"pipeline_targets_{args.dataset}{'_' + args.tag if args.tag else ''}"
    write_json(result_path("pipeline_targets", f"{name}.json"), result)
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
    rows.append(["(c) selected space", "", "", "", ", ".join(f"{s} {n}" for s, n in tuning["spaces"].items())])
    result["reference_d_encoder"] = params["features"]["embeddings"]["model"]
    headers = ["theme", "(a) LR @ 0.5", "(b) TunedThresholdClassifierCV", "(d) (b) on embeddings", "(c) pipeline"]
    enc = result["encoding"]
    variant = f" with `{' '.join(args.overrides)}`" if args.overrides else ""
    markdown = (
        f"### {args.dataset}{variant}{f' ({args.tag})' if args.tag else ''}: precision / recall on test.csv\n\n"
        + tabulate(rows, headers, tablefmt="github")
        + f"\n\n(c)'s wall time is the whole `dvc repro` ({len(times)} run(s)), peak memory "
        f"{result['peak_memory_mb']:,.0f} MB (every process of the run together); (a) and (b): median of {reps} "
        "run(s); "
        f"(d): one run, encoding included, on {params['features']['embeddings']['model']}'s vectors.\n"
        + (
            f"Encoding (the embed stage's wall time): {enc['texts']} texts in {enc['seconds']:.1f} s, "
            f"{enc['texts_per_second']:.0f} texts/s, {100 * enc['share_of_repro']:.1f}% of the `dvc repro` time.\n"
            if enc["texts"]
            else ""
        )
    )
    shares = sorted(result["stage_seconds"].items(), key=lambda kv: -kv[1])
    markdown += (
        "\nTime per stage (share of the last `dvc repro`):\n\n"
        + tabulate(
            [[s, f"{v:.1f}", f"{100 * v / times[-1]:.1f}%"] for s, v in shares], ["stage", "seconds", "share"], "github"
        )
        + "\n"
    )
    write_text(result_path("pipeline_targets", f"{name}.md"), with_provenance("pipeline_targets", markdown))
    print(markdown)
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
