"""What the recall margin costs in precision: one tuned run, the threshold rule at several margins.

    python -m bench.recall_margin [--dataset goemotions] [--confidence 0.9 0.75 0.5 0] [--keep DIR]
                                  [HYDRA_OVERRIDE ...]

One `dvc repro` of the default config (plus overrides) in a throw-away copy of the project; then,
per value of ``thresholds.recall_confidence``, one `dvc exp run -S` on that copy, which reruns
the threshold stages only (the stages that ran are recorded, so a retune would show). Each is
scored on the dataset's test split: macro precision and recall, and the themes with >= 30 test
positives whose test recall is below 0.45. TunedThresholdClassifierCV (reference (b), no margin)
runs on the same split in the same invocation. ``--keep`` leaves the copy in DIR for more
threshold experiments. Writes bench/results/recall_margin_<dataset>.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import yaml
from tabulate import tabulate

from bench.pipeline_targets import DATASETS, timed_repro
from bench.recall_holds import short_themes, summary, test_summary
from bench.references import load_split, reference_b
from stages.atomic import write_json, write_text
from tests.dvc_repo import ROOT, stages_run

TUNING_STAGES = ("tune@", "tune_costly@", "select", "train_final")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="goemotions")
    parser.add_argument("--confidence", type=float, nargs="+", default=[0.9, 0.75, 0.5, 0.0])
    parser.add_argument("--keep", type=Path, help="leave the tuned copy here (an empty or new folder)")
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args(argv)
    data = DATASETS[args.dataset]
    name = f"recall_margin_{args.dataset}"
    out: dict = {"dataset": args.dataset, "overrides": args.overrides, "margins": {}}

    def save() -> None:
        write_json(ROOT / f"bench/results/{name}.json", out)
        write_text(ROOT / f"bench/results/{name}.md", markdown(out))

    with tempfile.TemporaryDirectory(prefix="bench-margin-") as tmp:
        where = args.keep or Path(tmp) / "copy"
        repo, seconds, _stages, peak_mb = timed_repro(where, data, args.overrides)
        repo.commit("tuned")
        out["repro_seconds"], out["peak_memory_mb"] = seconds, peak_mb
        params = yaml.safe_load((repo.path / "params.yaml").read_text())
        default = params["thresholds"]["recall_confidence"]
        metrics = json.loads((repo.path / "metrics/metrics.json").read_text())
        themes = list(metrics["test"]["themes"])
        out["margins"][str(default)] = {**summary(metrics, seconds), "stages_run": "dvc repro (all)"}
        save()
        for value in args.confidence:
            if value == default:
                continue
            start = time.perf_counter()
            proc = repo.run("dvc", "exp", "run", "-S", f"thresholds.recall_confidence={value}")
            ran = stages_run(proc.stdout)
            metrics = json.loads((repo.path / "metrics/metrics.json").read_text())
            out["margins"][str(value)] = {
                **summary(metrics, time.perf_counter() - start),
                "stages_run": ran,
                "retuned": [s for s in ran if s.startswith(TUNING_STAGES)],
            }
            save()
        train, test = load_split(data, themes)
        start = time.perf_counter()
        b = reference_b(train, test, themes, params["features"]["tfidf"], params["thresholds"]["min_recall"])
        out["reference_b"] = {**test_summary(b), "seconds": time.perf_counter() - start}
        out["per_theme"] = {
            "b": {t: {k: b["themes"][t][k] for k in ("precision", "recall", "support")} for t in themes}
        }
    save()
    print(markdown(out))


def markdown(out: dict) -> str:
    rows = []
    for value, r in out["margins"].items():
        low = short_themes(r["themes_30plus_below_0.45"])
        ran = r["stages_run"] if isinstance(r["stages_run"], str) else ", ".join(r["stages_run"]) or "none"
        rows.append(
            [f"pipeline, recall_confidence {value}", f"{r['macro_precision']:.3f} / {r['macro_recall']:.3f}", low, ran]
        )
    if "reference_b" in out:
        b = out["reference_b"]
        low = short_themes(b["themes_30plus_below_0.45"])
        rows.append(
            ["(b) TunedThresholdClassifierCV", f"{b['macro_precision']:.3f} / {b['macro_recall']:.3f}", low, ""]
        )
    variant = f" with `{' '.join(out['overrides'])}`" if out["overrides"] else ""
    return (
        f"### {out['dataset']}{variant}: the recall margin against precision, on test.csv "
        "(`python -m bench.recall_margin`)\n\n"
        + tabulate(
            rows,
            ["system", "macro P / R", "themes with >= 30 test positives below R 0.45", "stages run"],
            tablefmt="github",
        )
        + f"\n\nOne tuned run ({out.get('repro_seconds', 0):.0f} s); each other margin is a `dvc exp run -S "
        "thresholds.recall_confidence=...` on it. (b) keeps no margin. All measured in this run.\n"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
