"""Does recall hold on new data? The pipeline before and after the pooled objective, and the bag.

    python -m bench.recall_holds [--dataset mams_acsa|semeval25|goemotions] [HYDRA_OVERRIDE ...]

In one invocation, on the dataset's own test split, in throw-away copies of the project:
- before: ``tuning.objective=fold_mean final.model=refit`` (per-fold mean objective, one refit model);
- refit:  the pooled objective with ``final.model=refit`` (the defaults);
- bag:    the pooled objective with ``final.model=bag`` (a `dvc exp run` on the refit copy, so
  only train_final, package and evaluate rerun).
For each: macro test precision and recall, the themes with >= 30 test positives whose test recall
is below 0.45, and per family the mean shortfall (nested recall minus test recall). Extra Hydra
overrides (e.g. ``models=fast``) apply to all three. Writes bench/results/recall_holds_<dataset>.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from tabulate import tabulate

from bench.pipeline_targets import DATASETS, timed_repro
from stages.atomic import write_json, write_text
from tests.dvc_repo import ROOT, DvcRepo

BEFORE = ["tuning.objective=fold_mean", "final.model=refit"]


def summary(metrics: dict, seconds: float) -> dict:
    test = metrics["test"]["themes"]
    low = {t: m["recall"] for t, m in test.items() if m["support"] >= 30 and m["recall"] < 0.45}
    audit = metrics["recall_audit"]
    return {
        "macro_precision": metrics["test"]["macro"]["precision"],
        "macro_recall": metrics["test"]["macro"]["recall"],
        "themes": len(test),
        "themes_30plus_below_0.45": low,
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


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="mams_acsa")
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args(argv)
    data = DATASETS[args.dataset]
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-recall-") as tmp:
        _, results["before"] = run(data, [*args.overrides, *BEFORE], Path(tmp), "before")
        repo, results["refit"] = run(data, [*args.overrides, "final.model=refit"], Path(tmp), "refit")
        repo.commit("refit")
        start = time.perf_counter()
        repo.run("dvc", "exp", "run", "-S", "final.model=bag")
        metrics = json.loads((repo.path / "metrics/metrics.json").read_text())
        results["bag"] = summary(metrics, time.perf_counter() - start)
    out = {"dataset": args.dataset, "overrides": args.overrides, "results": results}
    name = f"recall_holds_{args.dataset}"
    write_json(ROOT / f"bench/results/{name}.json", out)
    write_text(ROOT / f"bench/results/{name}.md", markdown(out))
    print(markdown(out))


def markdown(out: dict) -> str:
    results = out["results"]
    families = sorted({f for r in results.values() for f in r["mean_shortfall_by_family"]})
    rows = []
    for label, key in (
        ("before: fold_mean + refit", "before"),
        ("after: pooled + refit (default)", "refit"),
        ("pooled + bag", "bag"),
    ):
        r = results[key]
        low = ", ".join(f"{t} {v:.3f}" for t, v in r["themes_30plus_below_0.45"].items()) or "none"
        rows.append(
            [label, f"{r['macro_precision']:.3f} / {r['macro_recall']:.3f}", low, f"{r['mean_shortfall']:+.3f}"]
            + [
                f"{r['mean_shortfall_by_family'][f]:+.3f}" if f in r["mean_shortfall_by_family"] else ""
                for f in families
            ]
        )
    variant = f" with `{' '.join(out['overrides'])}`" if out["overrides"] else ""
    return (
        f"### {out['dataset']}{variant}: recall on test.csv (`python -m bench.recall_holds`)\n\n"
        + tabulate(
            rows,
            ["pipeline", "macro P / R", "themes with >= 30 test positives below R 0.45", "mean shortfall"]
            + [f"shortfall {f}" for f in families],
            tablefmt="github",
        )
        + "\n\nShortfall: nested-CV recall minus test recall, mean over themes (per family: over the themes "
        "that selected it). All three measured in this run.\n"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
