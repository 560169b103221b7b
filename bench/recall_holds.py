"""Does recall hold on new data? The pipeline before and after the pooled objective, and the bag.

    python -m bench.recall_holds [--dataset mams_acsa|semeval25|goemotions] [--seeds 42 7 ...] [--tag NAME]
                                 [--reuse DIR] [HYDRA_OVERRIDE ...]

In one invocation, on the dataset's own test split, in throw-away copies of the project:
- before: ``tuning.objective=fold_mean final.model=refit`` (per-fold mean objective, one refit model);
- refit:  the pooled objective with ``final.model=refit``;
- bag:    the pooled objective with ``final.model=bag`` (the defaults; a `dvc exp run` on the refit
  copy, so only train_final, package and evaluate rerun).
For each: macro test precision and recall, the themes with >= 30 test positives whose test recall
is below 0.45, and per family the mean shortfall (nested recall minus test recall). Extra Hydra
overrides (e.g. ``models=fast``) apply to all three. ``--seeds`` repeats all three per seed (folds
and sampler), since one split's test figures differ by a few hundredths from seed to seed.
``--reuse DIR`` takes the refit run from a kept, tuned copy with ``final.model=refit`` (checked:
same composed parameters, clean ``dvc status``) and runs the bag there, so a dataset that takes
an hour to tune is tuned once for refit, not twice. Writes
bench/results/recall_holds/recall_holds_<dataset>[_<tag>].{json,md}.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tabulate import tabulate

from bench.copies import kept_copy
from bench.pipeline_targets import DATASETS, timed_repro
from bench.results_path import result_path, with_provenance
from harness.dvc_repo import DvcRepo
from themetag.atomic import write_json, write_text

BEFORE = ["tuning.objective=fold_mean", "final.model=refit"]


def test_summary(test: dict) -> dict:
    """Macro test P/R and the themes with >= 30 test positives below recall 0.45."""
    themes = test["themes"]
    return {
        "macro_precision": test["macro"]["precision"],
        "macro_recall": test["macro"]["recall"],
        "themes_30plus_below_0.45": {
            t: m["recall"] for t, m in themes.items() if m["support"] >= 30 and m["recall"] < 0.45
        },
    }


def short_themes(low: dict[str, float]) -> str:
    """``themes_30plus_below_0.45`` as table text."""
    return ", ".join(f"{t} {v:.3f}" for t, v in low.items()) or "none"


def summary(metrics: dict, seconds: float | None) -> dict:
    test = metrics["test"]["themes"]
    audit = metrics["recall_audit"]
    return {
        **test_summary(metrics["test"]),
        "themes": len(test),
        "min_recall_30plus": min((m["recall"] for m in test.values() if m["support"] >= 30), default=None),
        "flagged_shortfall": [t for t, a in audit["themes"].items() if a["flagged"]],
        "mean_shortfall_by_family": {f: v["mean_shortfall"] for f, v in audit["families"].items()},
        "mean_shortfall": sum(a["shortfall"] for a in audit["themes"].values()) / len(audit["themes"]),
        "selected": {t: f"{m['model']}-{m['space']}" for t, m in test.items()},
        "seconds": seconds,
    }


def run(data_dir: Path, overrides: list[str], tmp: Path, name: str) -> tuple[DvcRepo, dict]:
    repo, seconds, _stages, _peak_mb = timed_repro(tmp / name, data_dir, overrides)
    return repo, summary(json.loads((repo.path / "metrics/metrics.json").read_text()), seconds)


def kept_refit(path: Path, overrides: list[str]) -> tuple[DvcRepo, dict]:
    """The refit run from a kept, tuned copy, after checking that it is the run this benchmark
    would make: same composed parameters, nothing out of date. Its quality figures are what a new
    run would give (two clean runs are byte-identical); its time is not measured here."""
    repo = kept_copy(path, [*overrides, "final.model=refit"])
    return repo, summary(json.loads((repo.path / "metrics/metrics.json").read_text()), None)


def run_seed(data: Path, overrides: list[str], tmp: Path, reuse: Path | None = None) -> dict:
    """before, refit and bag on one fold/sampler seed (``overrides`` may set it)."""
    results = {}
    if reuse:
        repo, results["refit"] = kept_refit(reuse, overrides)
    else:
        repo, results["refit"] = run(data, [*overrides, "final.model=refit"], tmp, "refit")
        repo.commit("refit")
    _, results["before"] = run(data, [*overrides, *BEFORE], tmp, "before")
    start = time.perf_counter()
    repo.run("dvc", "exp", "run", "-S", "final.model=bag")
    metrics = json.loads((repo.path / "metrics/metrics.json").read_text())
    results["bag"] = summary(metrics, time.perf_counter() - start)
    return results


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="mams_acsa")
    parser.add_argument(
        "--seeds", type=int, nargs="+", help="repeat on these folds.seed = tuning.seed values (default: the config's)"
    )
    parser.add_argument("--tag", default="", help="suffix of the result files")
    parser.add_argument(
        "--reuse",
        type=Path,
        help="a tuned copy with final.model=refit (`bench.recall_margin --keep DIR final.model=refit`)",
    )
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args(argv)
    if args.reuse and args.seeds:
        parser.error("--reuse takes one tuned copy, so not --seeds")
    data = DATASETS[args.dataset]
    name = f"recall_holds_{args.dataset}{'_' + args.tag if args.tag else ''}"
    out: dict = {"dataset": args.dataset, "overrides": args.overrides, "seeds": {}}
    for seed in args.seeds or [None]:
        seeded = [] if seed is None else [f"folds.seed={seed}", f"tuning.seed={seed}"]
        with tempfile.TemporaryDirectory(prefix="bench-recall-") as tmp:
            out["seeds"][str(seed or "config")] = run_seed(data, [*args.overrides, *seeded], Path(tmp), args.reuse)
        write_json(result_path("recall_holds", f"{name}.json"), out)
    write_text(result_path("recall_holds", f"{name}.md"), with_provenance("recall_holds", markdown(out)))
    print(markdown(out))


VARIANTS = (
    ("before: fold_mean + refit", "before"),
    ("after: pooled + refit", "refit"),
    ("pooled + bag (default)", "bag"),
)


def markdown(out: dict) -> str:
    seeds = out["seeds"]
    families = sorted({f for r in seeds.values() for v in r.values() for f in v["mean_shortfall_by_family"]})
    rows = []
    for seed, results in seeds.items():
        for label, key in VARIANTS:
            r = results[key]
            low = short_themes(r["themes_30plus_below_0.45"])
            rows.append(
                ([seed] if len(seeds) > 1 else [])
                + [label, f"{r['macro_precision']:.3f} / {r['macro_recall']:.3f}", low, f"{r['mean_shortfall']:+.3f}"]
                + [
                    f"{r['mean_shortfall_by_family'][f]:+.3f}" if f in r["mean_shortfall_by_family"] else ""
                    for f in families
                ]
            )
    if len(seeds) > 1:
        for label, key in VARIANTS:
            p = statistics.mean(r[key]["macro_precision"] for r in seeds.values())
            rec = statistics.mean(r[key]["macro_recall"] for r in seeds.values())
            below = sum(len(r[key]["themes_30plus_below_0.45"]) for r in seeds.values())
            short = statistics.mean(r[key]["mean_shortfall"] for r in seeds.values())
            rows.append(["mean", label, f"{p:.3f} / {rec:.3f}", f"{below} in all seeds", f"{short:+.3f}"])
    variant = f" with `{' '.join(out['overrides'])}`" if out["overrides"] else ""
    seeds_note = (
        f" Seeds (`folds.seed` = `tuning.seed`): {', '.join(seeds)}; each seed's three runs share its folds."
        if len(seeds) > 1
        else ""
    )
    return (
        f"### {out['dataset']}{variant}: recall on test.csv (`python -m bench.recall_holds`)\n\n"
        + tabulate(
            rows,
            (["seed"] if len(seeds) > 1 else [])
            + ["pipeline", "macro P / R", "themes with >= 30 test positives below R 0.45", "mean shortfall"]
            + [f"shortfall {f}" for f in families],
            tablefmt="github",
        )
        + "\n\nShortfall: nested-CV recall minus test recall, mean over themes (per family: over the themes "
        f"that selected it). All measured in this run.{seeds_note}\n"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
