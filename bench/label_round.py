"""Labelling rounds with the tuning record against a full retune: time and test figures.

    python -m bench.label_round [--dataset mams_acsa] [--rows 200] [--rounds 3] [--seed 0] [--retunes N]

``--rounds`` x ``--rows`` training rows, drawn at random (seeded), are held out of ``train.csv``.

* **reuse**: a fresh copy of the rest runs cold (`dvc repro`, empty caches), then each round
  appends the next ``--rows`` held-out rows with ``themetag append-batch`` (which keeps the last
  run's tuning in ``data/tuning_record.json``), runs `dvc repro` and commits: what a team does.
  A round starts from the committed state of the round before: its DVC cache, Optuna storage
  and vector cache.
* **retune**: for each round, a fresh copy holding the same rows runs cold: every theme tuned.
  ``--retunes N`` runs it for the first N rounds only (a cold goemotions run takes about 40
  minutes); with 0 the ratio's cold run is the reuse arm's own, less its encoder stage.
  ``--reuse-again`` (with ``--work``) runs the reuse arm again beside the kept retune arm: for a
  setting, such as ``reuse.switch_sd``, that only a round reads.

The round's time is given against the cold runs' (median of each), and each round's test
figures beside the retune's on the same rows: macro precision, and per theme with at least 30
test positives, the difference against the bootstrap sd of the retune's precision (1,000
resamples of the test rows at the theme's threshold). To tell noise from a loss, the same
difference is also given in sds of the paired difference, and at matched recall (``paired``).
Results go to ``bench/results/label_round/<dataset>.{json,md}``.
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

import numpy as np
import pandas as pd
from tabulate import tabulate

from bench.copies import default_copy
from bench.timing import staged_run
from harness.dvc_repo import ROOT, DvcRepo
from themetag.atomic import write_json, write_text

DATASETS = {
    "mams_acsa": ROOT / "data",
    "semeval25": ROOT / "bench/data/semeval25",
    "goemotions": ROOT / "bench/data/goemotions",
}
OUT = ROOT / "bench/results/label_round"


def copy(path: Path, data_dir: Path, train: pd.DataFrame) -> DvcRepo:
    shutil.rmtree(path, ignore_errors=True)  # a copy an interrupted run left half made
    repo = default_copy(path, data_dir, [])
    train.to_csv(repo.path / "data/train.csv", index=False)
    repo.commit("training rows of this run")
    repo.env["THEMETAG_VECTOR_CACHE"] = str(path.parent / f"{path.name}-vectors")
    # one weights cache for every copy: only the first cold run fetches all-mpnet-base-v2, so the
    # other cold runs, the ratio's baseline, are the cheaper "without the one-time fetch" ones
    repo.env["THEMETAG_ENCODER_CACHE"] = str(path.parent / "encoders")
    return repo


def resamples(rows: int, n: int = 1000, seed: int = 0) -> np.ndarray:
    """``n`` bootstrap resamples of ``rows`` test rows, as row indices (n x rows)."""
    return np.random.default_rng(seed).integers(0, rows, size=(n, rows))


def resampled_precision(y: np.ndarray, tagged: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Precision in each resample of ``idx``; NaN where it tags nothing."""
    tp, t = (y[idx] & tagged[idx]).sum(1), tagged[idx].sum(1)
    return np.where(t > 0, tp / np.maximum(t, 1), np.nan)


def bootstrap_sd(y: np.ndarray, tagged: np.ndarray, n: int = 1000, seed: int = 0) -> float:
    """The sd of precision over bootstrap resamples of the test rows (resamples tagging nothing left out)."""
    p = resampled_precision(y, tagged, resamples(len(y), n, seed))
    return float(np.std(p[~np.isnan(p)]))


def test_figures(repo: DvcRepo) -> dict:
    """Macro figures, and per theme: test precision, recall, positives and the bootstrap sd."""
    metrics = json.loads((repo.path / "metrics/metrics.json").read_text())["test"]
    scores = pd.read_csv(repo.path / "artifacts/test_scores.csv")
    labels = pd.read_csv(repo.path / "artifacts/test_labels.csv", keep_default_na=False)
    themes = {}
    for theme, m in metrics["themes"].items():
        y = labels[theme].to_numpy(dtype=bool)
        tagged = scores[theme].to_numpy() >= float(m["threshold"])
        themes[theme] = {
            "precision": m["precision"],
            "recall": m["recall"],
            "support": m["support"],
            "sd": bootstrap_sd(y, tagged),
            "threshold": float(m["threshold"]),
        }
    return {"macro": metrics["macro"], "themes": themes}


def precision_at(scores: np.ndarray, y: np.ndarray, hits: int) -> float | None:
    """Precision of the top-scored rows, taken until ``hits`` true positives (None: never)."""
    found = np.cumsum(y[np.argsort(-scores, kind="stable")])
    if found[-1] < hits:
        return None
    k = int(np.argmax(found >= hits)) + 1
    return float(hits / k)


def paired(reuse: Path, retune: Path, labels: Path, figures: tuple[dict, dict], n: int = 1000, seed: int = 0) -> dict:
    """Per theme, reuse against retune on the same test rows (a measurement: it chooses nothing).

    ``paired_sd``: the sd of the precision difference over bootstrap resamples drawn once for
    both arms; two models of one theme err on many of the same rows, so this is the noise of
    the difference itself, where the retune's own sd is the criterion the issue states.
    ``matched``: reuse's test precision at the retune's test recall minus the retune's, each
    arm's top rows taken until they hold the retune's true positives: the difference apart
    from where each arm's threshold landed on the precision-recall curve."""
    a, b, y_all = pd.read_csv(reuse), pd.read_csv(retune), pd.read_csv(labels, keep_default_na=False)
    idx = resamples(len(y_all), n, seed)  # the same resamples for both arms
    out = {}
    for theme, fb in figures[1]["themes"].items():
        y = y_all[theme].to_numpy(dtype=bool)
        ta = a[theme].to_numpy() >= figures[0]["themes"][theme]["threshold"]
        tb = b[theme].to_numpy() >= fb["threshold"]
        diffs = resampled_precision(y, ta, idx) - resampled_precision(y, tb, idx)
        diffs = diffs[~np.isnan(diffs)]  # resamples where either arm tags nothing
        need = int((y & tb).sum())
        matched = None
        if need:
            got = precision_at(a[theme].to_numpy(), y, need)
            matched = None if got is None else float(got - precision_at(b[theme].to_numpy(), y, need))
        out[theme] = {"paired_sd": float(np.std(diffs)) if len(diffs) else None, "matched": matched}
    return out


def timed(repo: DvcRepo) -> dict:
    seconds, stages, peak, _ = staged_run(["dvc", "repro"], repo.path, repo.env)
    reuse = json.loads((repo.path / "artifacts/reuse/summary.json").read_text())
    retuned = {t: r["why"] for t, r in reuse["themes"].items() if r["action"] == "tune"}
    return {"seconds": seconds, "stages": stages, "peak_mb": peak, "test": test_figures(repo), "retuned": retuned}


def held_out(data_dir: Path, rows: int, rounds: int, seed: int) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    train = pd.read_csv(data_dir / "train.csv", dtype=str, keep_default_na=False)
    pick = np.random.default_rng(seed).permutation(len(train))[: rows * rounds]
    rest = train.drop(index=train.index[pick])
    return rest, [train.iloc[pick[r * rows : (r + 1) * rows]] for r in range(rounds)]


def run(
    tmp: Path, dataset: str, rows: int, rounds: int, seed: int, log: dict, save, retunes: int | None = None
) -> None:
    data_dir = DATASETS[dataset]
    base, batches = held_out(data_dir, rows, rounds, seed)
    if "reuse" not in log:
        repo = copy(tmp / "reuse", data_dir, base)
        cold = timed(repo)
        repo.commit("cold run")
        steps = [{"round": 0, **cold}]
        for r, batch in enumerate(batches, 1):
            batch_csv = tmp / f"batch-{r}.csv"
            batch.to_csv(batch_csv, index=False)
            out = repo.run(sys.executable, "-m", "themetag", "append-batch", str(batch_csv)).stdout
            # a held-out row whose text is still in train.csv (goemotions repeats texts) is passed over
            assert " rows appended to " in out, out
            steps.append({"round": r, **timed(repo), "append": out.strip()})
            shutil.copy(repo.path / "artifacts/test_scores.csv", tmp / f"reuse-{r}-test_scores.csv")
            repo.commit(f"round {r}")
        log["reuse"] = steps
        save()
    log.setdefault("retune", [])
    for r in range(len(log["retune"]) + 1, (rounds if retunes is None else retunes) + 1):
        train = pd.concat([base, *batches[:r]])
        repo = copy(tmp / f"retune-{r}", data_dir, train)
        log["retune"].append({"round": r, **timed(repo)})
        save()
    for step in log["retune"]:  # each retune against the reuse arm (run again with --reuse-again)
        kept, art = tmp / f"reuse-{step['round']}-test_scores.csv", tmp / f"retune-{step['round']}" / "artifacts"
        if kept.is_file() and art.is_dir():  # runs from before this comparison kept no scores
            figures = (log["reuse"][step["round"]]["test"], step["test"])
            step["paired"] = paired(kept, art / "test_scores.csv", art / "test_labels.csv", figures)
    save()


def summary(log: dict) -> dict:
    rounds = [s for s in log["reuse"] if s["round"] > 0]
    colds = [s["seconds"] for s in log["retune"]]  # not the reuse arm's first run: it fetched the encoder
    baseline = "the retune arm's cold runs"
    if not colds:  # --retunes 0: the reuse arm's own cold run, less its one-time encoder build
        first = log["reuse"][0]
        colds = [first["seconds"] - first["stages"].get("encoder", 0.0)]
        baseline = "the reuse arm's cold run less its encoder stage (no retune arm)"
    out = {
        "round_seconds": [s["seconds"] for s in rounds],
        "cold_seconds": colds,
        "cold_baseline": baseline,
        "ratio": statistics.median(s["seconds"] for s in rounds) / statistics.median(colds),
        "rounds": [],
    }
    for step, full in zip(rounds, log["retune"], strict=False):  # rounds past --retunes: no retune
        worst, worst_paired, matched = [], [], []
        pairs = full.get("paired", {})
        for theme, f in full["test"]["themes"].items():
            got = step["test"]["themes"][theme]
            if f["support"] >= 30:
                worst.append((got["precision"] - f["precision"]) / max(f["sd"], 1e-9))
                if pairs.get(theme, {}).get("paired_sd"):
                    worst_paired.append((got["precision"] - f["precision"]) / max(pairs[theme]["paired_sd"], 1e-9))
                if pairs.get(theme, {}).get("matched") is not None:
                    matched.append(pairs[theme]["matched"])
        out["rounds"].append(
            {
                "round": step["round"],
                "reuse_macro_precision": step["test"]["macro"]["precision"],
                "retune_macro_precision": full["test"]["macro"]["precision"],
                "reuse_macro_recall": step["test"]["macro"]["recall"],
                "retune_macro_recall": full["test"]["macro"]["recall"],
                "worst_theme_sds": min(worst) if worst else None,
                "worst_theme_paired_sds": min(worst_paired) if worst_paired else None,
                "worst_theme_matched": min(matched) if matched else None,
                "retuned": step["retuned"],
            }
        )
    return out


def markdown(dataset: str, rows: int, log: dict, s: dict) -> str:
    table = [
        [
            r["round"],
            f"{log['reuse'][r['round']]['seconds']:.1f}",
            f"{log['retune'][r['round'] - 1]['seconds']:.1f}",
            f"{r['reuse_macro_precision']:.3f} / {r['reuse_macro_recall']:.3f}",
            f"{r['retune_macro_precision']:.3f} / {r['retune_macro_recall']:.3f}",
            f"{r['reuse_macro_precision'] - r['retune_macro_precision']:+.3f}",
            "-" if r["worst_theme_sds"] is None else f"{r['worst_theme_sds']:+.2f}",
            "-" if r.get("worst_theme_paired_sds") is None else f"{r['worst_theme_paired_sds']:+.2f}",
            "-" if r.get("worst_theme_matched") is None else f"{r['worst_theme_matched']:+.3f}",
            ", ".join(r["retuned"]) or "none",
        ]
        for r in s["rounds"]
    ]
    for step in log["reuse"][len(s["rounds"]) + 1 :]:  # rounds past --retunes
        m = step["test"]["macro"]
        reuse = f"{m['precision']:.3f} / {m['recall']:.3f}"
        table.append(
            [step["round"], f"{step['seconds']:.1f}", "-", reuse, *["-"] * 5, ", ".join(step["retuned"]) or "none"]
        )
    head = [
        "round",
        "reuse s",
        "retune (cold) s",
        "reuse test P / R",
        "retune test P / R",
        "ΔP",
        "worst theme Δ/sd",
        "worst Δ/paired sd",
        "worst ΔP, matched recall",
        "retuned",
    ]
    stages = log["reuse"][-1]["stages"]
    slow = sorted(stages, key=lambda k: -stages[k])[:10]
    return (
        f"### {dataset}: {len(s['round_seconds'])} labelling rounds of {rows} rows, reuse against a full retune\n\n"
        f"Command: `python -m bench.label_round --dataset {dataset} --rows {rows} --rounds {len(s['round_seconds'])}"
        + ("" if len(s["rounds"]) == len(s["round_seconds"]) else f" --retunes {len(s['rounds'])}")
        + f"`; "
        f"commit {log['commit']}.\n\n"
        f"Cold run of the first {len(log['reuse'][0]['test']['themes'])}-theme copy: "
        f"{log['reuse'][0]['seconds']:.1f} s. Round / cold (medians): **{s['ratio']:.2f}** "
        f"(rounds {', '.join(f'{x:.1f}' for x in s['round_seconds'])} s; cold: {s['cold_baseline']}, "
        f"{', '.join(f'{x:.1f}' for x in s['cold_seconds'])} s).\n\n"
        + tabulate(table, head, tablefmt="github")
        + "\n\n`worst theme Δ/sd`: the lowest (reuse - retune) test precision over themes with >= 30 test "
        "positives, in bootstrap sds of the retune's precision (the issue's criterion). `worst Δ/paired sd`: the "
        "same difference in sds of the difference itself (one bootstrap for both arms). `worst ΔP, matched "
        "recall`: the lowest (reuse - retune) test precision with reuse taken at the retune's test recall. Both "
        "are measured on test.csv to explain a difference; they choose nothing. Slowest stages of the last "
        "round:\n\n" + tabulate([[k, f"{stages[k]:.1f}"] for k in slow], ["stage", "s"], tablefmt="github") + "\n"
    )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="mams_acsa")
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, default=None, help="keep the copies here; an interrupted run resumes")
    parser.add_argument(
        "--retunes", type=int, default=None, help="retune only the first N rounds (default: all; 0: time only)"
    )
    parser.add_argument(
        "--reuse-again",
        action="store_true",
        help="with --work: run the reuse arm again and keep the retune arm's cold runs (a reuse setting changed)",
    )
    args = parser.parse_args(argv)
    os.environ.pop("PYTHONPATH", None)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    with tempfile.TemporaryDirectory(prefix="label-round-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        log_path = work / f"{args.dataset}.log.json"
        log = json.loads(log_path.read_text()) if log_path.exists() else {"commit": commit.strip()}
        if args.reuse_again and log.pop("reuse", None):
            log["commit"] = f"{commit.strip()} (reuse arm; retune arm at {log['commit']})"
            for stale in ("reuse", "reuse-vectors"):
                shutil.rmtree(work / stale, ignore_errors=True)
        run(work, args.dataset, args.rows, args.rounds, args.seed, log, lambda: write_json(log_path, log), args.retunes)
    s = summary(log)
    write_json(OUT / f"{args.dataset}.json", {"dataset": args.dataset, "rows": args.rows, **s, "log": log})
    md = markdown(args.dataset, args.rows, log, s)
    write_text(OUT / f"{args.dataset}.md", md)
    print(md)


if __name__ == "__main__":
    main(sys.argv[1:])
