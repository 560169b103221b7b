"""Cold `dvc repro` of two revisions of the project, alternated in one run: time, memory, quality.

    python -m bench.race_targets [--dataset mams_acsa|semeval25|goemotions] [--base REV] [--repeats 2]
        [--only new|base] [--keep DIR]

Each run is a fresh copy of that revision's project on the whole data set with the default config
(no DVC cache, no Optuna storage, an empty vector cache), made by that revision's own
``tests/dvc_repo.py``, and timed here. Runs alternate base, new, base, new... so load drift hits
both sides; the medians and their ratio go to ``bench/results/race_targets/race_targets_<dataset>.json`` and
``.md``, with test macro precision / recall, every theme's test figures, the themes with at least
30 test positives that fall below recall 0.45 only in the new revision, and seconds per stage.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from tabulate import tabulate

from bench.results_path import result_path, with_provenance
from bench.timing import staged_run
from harness.dvc_repo import ROOT
from themetag.atomic import write_json, write_text

DATASETS = {
    "mams_acsa": ROOT / "data",
    "semeval25": ROOT / "bench/data/semeval25",
    "goemotions": ROOT / "bench/data/goemotions",
}
MAKE_COPY = (  # with the revision's own helper: harness/ now, tests/ in revisions before it
    "import sys; from pathlib import Path\n"
    "try:\n    from harness.dvc_repo import DvcRepo\nexcept ImportError:\n    from tests.dvc_repo import DvcRepo\n"
    "kw = dict(train_rows=None, test_rows=None, families='default', tuning='default', data_dir=Path(sys.argv[2]))\n"
    "try:\n    DvcRepo(Path(sys.argv[1]), one_encoder=False, **kw)\n"
    "except TypeError:  # revisions before model: auto had no such argument\n    DvcRepo(Path(sys.argv[1]), **kw)"
)


def export(rev: str, dest: Path) -> Path:
    """The files of ``rev`` (a commit, or ``WORKTREE`` for the working tree) in ``dest``."""
    if rev == "WORKTREE":
        shutil.copytree(ROOT, dest, ignore=shutil.ignore_patterns(".venv", ".git", "__pycache__", ".optuna"))
        return dest
    dest.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def cold_run(src: Path, data_dir: Path, work: Path) -> dict:
    """One cold `dvc repro` of the project in ``src`` on ``data_dir``; its figures."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["THEMETAG_VECTOR_CACHE"] = str(work / "vector-cache")  # empty: a cold run encodes every text
    env["THEMETAG_ENCODER_CACHE"] = str(work / "encoder-cache")  # and fetches every encoder it builds
    subprocess.run([sys.executable, "-c", MAKE_COPY, str(work / "p"), str(data_dir)], cwd=src, env=env, check=True)
    env.update(DVC_NO_ANALYTICS="1", DVC_NO_UPDATER="1")
    seconds, stages, peak_mb, _ = staged_run(["dvc", "repro"], work / "p", env)
    metrics = json.loads((work / "p/metrics/metrics.json").read_text())
    return {"seconds": seconds, "stages": stages, "peak_mb": peak_mb, "test": metrics["test"]}


def summary(run: dict) -> dict:
    test = run["test"]
    return {
        "macro_precision": test["macro"]["precision"],
        "macro_recall": test["macro"]["recall"],
        "themes": {
            t: {k: m[k] for k in ("precision", "recall", "support", "model", "space")}
            for t, m in test["themes"].items()
        },
    }


def newly_short(base: dict, new: dict) -> list[str]:
    """Themes with >= 30 test positives below recall 0.45 in ``new`` and not in ``base``."""
    return [
        t
        for t, m in new["themes"].items()
        if m["support"] >= 30 and m["recall"] < 0.45 and base["themes"].get(t, {}).get("recall", 1.0) >= 0.45
    ]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="mams_acsa")
    parser.add_argument("--base", default="HEAD", help="the revision to compare against (default HEAD)")
    parser.add_argument("--new", default="WORKTREE", help="the new revision (default: the working tree)")
    parser.add_argument("--repeats", type=int, default=2, help="cold runs per side, alternated")
    parser.add_argument("--only", choices=("base", "new"), help="run one side only (no ratio)")
    parser.add_argument("--name", help="results file name (default race_targets_<dataset>)")
    parser.add_argument("--keep", type=Path, help="keep each run's artifacts/ and metrics/ here (bench.race_regret)")
    args = parser.parse_args(argv)
    sides = [s for s in ("base", "new") if args.only in (None, s)]
    runs: dict[str, list[dict]] = {s: [] for s in sides}
    with tempfile.TemporaryDirectory(prefix="race-") as tmp:
        srcs = {s: export(getattr(args, s), Path(tmp) / f"src-{s}") for s in sides}
        for i in range(args.repeats):
            for side in sides:
                work = Path(tmp) / f"{side}-{i}"
                work.mkdir()
                run = cold_run(srcs[side], DATASETS[args.dataset], work)
                print(f"{side} run {i + 1}: {run['seconds']:.1f}s, peak {run['peak_mb']:.0f} MB", flush=True)
                runs[side].append(run)
                if args.keep:
                    for part in ("artifacts", "metrics"):
                        big = shutil.ignore_patterns("embeddings", "features", "encoder", "*.joblib")
                        shutil.copytree(
                            work / "p" / part, args.keep / f"{side}-{i}" / part, ignore=big, dirs_exist_ok=True
                        )
                shutil.rmtree(work, ignore_errors=True)
    result: dict = {"dataset": args.dataset, "base": args.base, "new": args.new, "repeats": args.repeats}
    for side in sides:
        times = [r["seconds"] for r in runs[side]]
        result[side] = {
            "seconds": times,
            "median_seconds": statistics.median(times),
            "peak_mb": max(r["peak_mb"] for r in runs[side]),
            "stages": runs[side][-1]["stages"],
            **summary(runs[side][-1]),  # quality is the same on every run of one side (deterministic)
        }
    rows = [
        [
            s,
            f"{result[s]['median_seconds']:.1f}",
            f"{result[s]['peak_mb']:,.0f}",
            f"{result[s]['macro_precision']:.3f} / {result[s]['macro_recall']:.3f}",
        ]
        for s in sides
    ]
    md = (
        f"### {args.dataset}: cold `dvc repro` of {args.base} and {args.new} (empty DVC, Optuna, vector and encoder caches), {args.repeats} run(s) per side, "
        "alternated (`python -m bench.race_targets`)\n\n"
    )
    md += tabulate(rows, ["revision", "median seconds", "peak MB", "test macro P / R"], tablefmt="github") + "\n"
    if len(sides) == 2:
        result["time_ratio"] = result["new"]["median_seconds"] / result["base"]["median_seconds"]
        result["precision_change"] = result["new"]["macro_precision"] - result["base"]["macro_precision"]
        result["newly_below_recall_0.45"] = newly_short(result["base"], result["new"])
        md += (
            f"\nnew / base time: **{result['time_ratio']:.2f}x**; test macro precision change "
            f"{result['precision_change']:+.3f}; themes with >= 30 test positives newly below recall 0.45: "
            f"{result['newly_below_recall_0.45'] or 'none'}\n\n"
        )
        themes = list(result["base"]["themes"])
        per = [
            [
                t,
                *(
                    f"{result[s]['themes'][t]['precision']:.3f} / {result[s]['themes'][t]['recall']:.3f} "
                    f"({result[s]['themes'][t]['model']}-{result[s]['themes'][t]['space']})"
                    for s in sides
                ),
                result["base"]["themes"][t]["support"],
            ]
            for t in themes
        ]
        md += tabulate(per, ["theme", "base P / R (candidate)", "new P / R (candidate)", "test positives"], "github")
        md += "\n"
    for side in sides:
        top = sorted(result[side]["stages"].items(), key=lambda kv: -kv[1])[:12]
        md += f"\nSlowest stages, {side} (last run):\n\n" + tabulate(
            top, ["stage", "seconds"], "github", floatfmt=".1f"
        )
        md += "\n"
    name = args.name or f"race_targets_{args.dataset}"
    write_json(result_path("race_targets", f"{name}.json"), result)
    write_text(result_path("race_targets", f"{name}.md"), with_provenance("race_targets", md))
    print(md)


if __name__ == "__main__":
    main(sys.argv[1:])
