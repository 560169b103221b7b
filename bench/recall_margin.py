"""What the recall margin costs in precision: one tuned run, the threshold rule at several margins.

    python -m bench.recall_margin [--dataset goemotions] [--confidence 0.9 0.75 0.5 0]
                                  [--keep DIR | --reuse DIR] [HYDRA_OVERRIDE ...]

One `dvc repro` of the default config (plus overrides) in a throw-away copy of the project; then,
per value of ``thresholds.recall_confidence``, one `dvc exp run -S` on that copy, which reruns
the threshold stages only (the stages that ran are recorded, so a retune would show). Each is
scored on the dataset's test split: macro precision and recall, and the themes with >= 30 test
positives whose test recall is below 0.45. TunedThresholdClassifierCV (reference (b), no margin)
runs on the same split in the same invocation, and so does (e), (b)'s model with the pipeline's
threshold rule at each margin, tagging as ``final.model`` says. It asks the same recall of both,
so the pipeline's lead over (e) is what its models and features add.

``--keep`` leaves the copy in DIR for more threshold experiments; ``--reuse DIR`` takes such a
copy instead of tuning. Every margin is then a `dvc exp run` carrying all the overrides, and the
copy must have been tuned with the same parameters outside ``final`` and ``thresholds``.
Writes bench/results/recall_margin/recall_margin_<dataset>.{json,md}.
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

from bench.copies import kept_copy
from bench.pipeline_targets import DATASETS, timed_repro
from bench.recall_holds import short_themes, summary, test_summary
from bench.references import load_split, reference_b, reference_e, reference_e_scores
from bench.results_path import result_path, with_provenance
from harness.dvc_repo import stages_run
from themetag.atomic import write_json, write_text

TUNING_STAGES = ("tune@", "tune_costly@", "select")
UNTUNED = ("final", "thresholds")  # what the threshold experiments may change on a reused copy


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="goemotions")
    parser.add_argument("--confidence", type=float, nargs="+", default=[0.9, 0.75, 0.5, 0.0])
    parser.add_argument("--keep", type=Path, help="leave the tuned copy here (an empty or new folder)")
    parser.add_argument("--reuse", type=Path, help="a copy kept with --keep: run the margins on it, no tuning")
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args(argv)
    data = DATASETS[args.dataset]
    name = f"recall_margin_{args.dataset}"
    out: dict = {"dataset": args.dataset, "overrides": args.overrides, "margins": {}}

    def save() -> None:
        write_json(result_path("recall_margin", f"{name}.json"), out)
        write_text(result_path("recall_margin", f"{name}.md"), with_provenance("recall_margin", markdown(out)))

    with tempfile.TemporaryDirectory(prefix="bench-margin-") as tmp:
        if args.reuse:
            repo, default = kept_copy(args.reuse, args.overrides, ignore=UNTUNED), None
        else:
            repo, seconds, _stages, peak_mb = timed_repro(args.keep or Path(tmp) / "copy", data, args.overrides)
            repo.commit("tuned")
            out["repro_seconds"], out["peak_memory_mb"] = seconds, peak_mb
            default = yaml.safe_load((repo.path / "params.yaml").read_text())["thresholds"]["recall_confidence"]
            metrics = json.loads((repo.path / "metrics/metrics.json").read_text())
            out["margins"][str(default)] = {**summary(metrics, seconds), "stages_run": "dvc repro (all)"}
            save()
        for value in args.confidence:
            if value == default:
                continue
            start = time.perf_counter()
            sets = [a for o in [*args.overrides, f"thresholds.recall_confidence={value}"] for a in ("-S", o)]
            ran = stages_run(repo.run("dvc", "exp", "run", *sets).stdout)
            metrics = json.loads((repo.path / "metrics/metrics.json").read_text())
            out["margins"][str(value)] = {
                **summary(metrics, time.perf_counter() - start),
                "stages_run": ran,
                "retuned": [s for s in ran if s.startswith(TUNING_STAGES)],
            }
            save()
        params = yaml.safe_load((repo.path / "params.yaml").read_text())
        themes = list(metrics["test"]["themes"])
        train, test = load_split(data, themes)
        start = time.perf_counter()
        b = reference_b(train, test, themes, params["features"]["tfidf"], params["thresholds"]["min_recall"])
        out["reference_b"] = {**test_summary(b), "seconds": time.perf_counter() - start}
        out["per_theme"] = {
            "b": {t: {k: b["themes"][t][k] for k in ("precision", "recall", "support")} for t in themes}
        }
        start = time.perf_counter()
        scores = reference_e_scores(
            train, test, themes, params["features"]["tfidf"], params["folds"], params["final"]["model"]
        )
        out["reference_e"] = {}
        for value in out["margins"]:
            e = reference_e(train, test, scores, {**params["thresholds"], "recall_confidence": float(value)})
            out["reference_e"][value] = test_summary(e)
        out["reference_e_seconds"] = time.perf_counter() - start
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
        e = out.get("reference_e", {}).get(value)
        if e:
            low = short_themes(e["themes_30plus_below_0.45"])
            rows.append(
                [
                    f"(e) (b)'s model, same rule, {value}",
                    f"{e['macro_precision']:.3f} / {e['macro_recall']:.3f}",
                    low,
                    "",
                ]
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
        + (
            f"\n\nOne tuned run ({out['repro_seconds']:.0f} s); each other margin"
            if "repro_seconds" in out
            else "\n\nA kept tuned copy (`--reuse`); each margin"
        )
        + " is a `dvc exp run -S thresholds.recall_confidence=...` on it. (b) keeps no margin; (e) is (b)'s "
        "model (TF-IDF + logistic regression) with the pipeline's threshold rule at the same margin, chosen "
        "on its out-of-fold scores, and tagging with the fold models' average (or a refit) as the pipeline "
        "does, so it asks for the same recall. All measured in this run.\n"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
