"""Does the labelling loop pay? A pool-based simulation: suggested batches against random ones
and against the anchors' rule, with the data set's own labels playing the labeller.

    python -m bench.label_loop [--dataset semeval25] [--seeds 0 1 2] [--rounds 4] [--batch 200]
                               [--start 500] [--pool-sample 5000] [HYDRA_OVERRIDE ...]

Per seed: ``start`` training rows drawn at random (seeded); the pool is the rest of train.csv
with its labels hidden. Each round trains the pipeline (the stages' own code: labels, folds,
features, tuning, selection, thresholds, the bag, the evaluation on test.csv, which no choice
sees) and adds ``batch`` rows, labelled by the data set, chosen by one of three arms on the
same config and budget:

- (a) ``suggest``: the suggest stage itself (near each needy theme's threshold, diverse);
- (b) ``random``: rows drawn at random from the pool;
- (c) ``anchor``: small-text's BreakingTies / modAL's SVM_binary_minimum for binary themes:
  per theme in turn, the row nearest the default decision point (margin 0 or log-odds 0;
  probability 0.5 for the tree families), for every theme alike.

(a) and (c) each score a seeded sample of ``pool_sample`` pool rows (``suggest.max_pool``).
Reported per round: test macro precision and recall at the thresholds the rule chose, the themes
that meet the early-stop rule on test, and, on the themes that missed it when the batch was
chosen, their positives per 100 labelled rows, and the same for rare themes (fewer than 100
labelled positives so far, trained or not). Batches that are not random samples shift the
out-of-fold scores the thresholds are chosen on, so arms end at different test recalls; the macro
of each theme's best test precision at test recall >= 0.5 compares how well the arms' models
rank, apart from that (a measurement only: it chooses nothing). The default budget is the smoke one with the fast families,
the same for every arm. Each text is encoded once per process (an in-memory cache around the
encoder: same vectors, less time).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from sklearn.metrics import precision_recall_curve
from tabulate import tabulate

from bench.pipeline_targets import DATASETS
from harness.dvc_repo import ROOT
from harness.trained import run_stages
from stages import suggest
from themetag.atomic import read_json, write_json, write_text
from themetag.data.label_fixes import text_fingerprint
from themetag.data.labels import split_themes
from themetag.features.encoder import Encoder
from themetag.pipeline import paths
from themetag.tagging.bundle import load_bundle

ARMS = ("suggest", "random", "anchor")
TEXT, THEMES = "Processed Text", "Themes"
BUDGET = ["tuning=smoke", "models=fast"]
FEW_POSITIVES = 100  # suggest.few_positives' default


def cache_encoder() -> None:
    """Encode each distinct text once per process: the simulation retrains on overlapping rows."""
    original = Encoder.encode
    memo: dict[tuple[str, int, str], np.ndarray] = {}

    def encode(self, texts, progress=False):
        keys = [(self.model, self.max_tokens, str(t)) for t in texts]
        todo = list(dict.fromkeys(k for k in keys if k not in memo))
        if todo:
            for k, v in zip(todo, original(self, [k[2] for k in todo]), strict=True):
                memo[k] = v
        if not keys:
            return original(self, [])
        return np.stack([memo[k] for k in keys])

    Encoder.encode = encode


def train(work: Path, overrides: list[str]) -> dict:
    """One pipeline run in ``work`` (its data/ already written), by the stages' own code."""
    old = Path.cwd()
    os.chdir(work)
    try:
        shutil.rmtree(".optuna", ignore_errors=True)  # every round tunes afresh
        run_stages(overrides, review=False)
        return read_json(paths.METRICS_JSON)
    finally:
        os.chdir(old)


def precision_at_recall(work: Path, recall: float) -> float:
    """Macro over themes of the best test precision at test recall >= ``recall``: how well each
    model ranks, whatever threshold the rule set. A measurement only: it chooses nothing, and it
    compares arms whose thresholds transfer to the test set differently (a batch that is not a
    random sample shifts the out-of-fold score distribution the thresholds are chosen on)."""
    tagger = load_bundle(work / paths.BUNDLE)
    test = pd.read_csv(work / paths.TEST_LABELS, keep_default_na=False)
    scores = tagger.scores(test["text"].tolist())
    best = []
    for t in tagger.themes:
        y = test[t].to_numpy(dtype=int)
        if y.sum():
            p, r, _ = precision_recall_curve(y, scores[t].to_numpy(dtype=float))
            best.append(float(p[r >= recall].max()))
    return float(np.mean(best))


def missing_rule(metrics: dict, early_stop: dict) -> list[str]:
    """Themes whose test figures miss the early-stop rule."""
    return [
        t
        for t, m in metrics["test"]["themes"].items()
        if m["precision"] < early_stop["min_precision"] or m["recall"] < early_stop["min_recall"]
    ]


def anchor_rows(work: Path, pool: pd.DataFrame, candidates: np.ndarray, batch: int) -> list[int]:
    """Per theme in turn, the unpicked row nearest its default decision point."""
    tagger = load_bundle(work / paths.BUNDLE)
    scores = tagger.scores(pool[TEXT].iloc[candidates].tolist())
    dist = {}
    for t in tagger.themes:
        model = tagger.models[t][0]
        point = 0.0 if hasattr(model, "decision_function") or hasattr(model, "predict_joint_log_proba") else 0.5
        dist[t] = list(np.argsort(np.abs(scores[t].to_numpy() - point), kind="stable"))
    picked: list[int] = []
    while len(picked) < min(batch, len(candidates)):
        for t in tagger.themes:
            while dist[t] and dist[t][0] in picked:
                dist[t].pop(0)
            if dist[t] and len(picked) < batch:
                picked.append(dist[t].pop(0))
    return [int(candidates[i]) for i in picked]


def suggested_rows(work: Path, pool: pd.DataFrame) -> list[int]:
    """The suggest stage's batch, as pool rows (its ``unlabeled line`` less the header)."""
    old = Path.cwd()
    os.chdir(work)
    try:
        suggest.main()
    finally:
        os.chdir(old)
    batch = pd.read_csv(work / paths.LABEL_NEXT, dtype=str, keep_default_na=False)
    return [int(line) - 2 for line in batch["unlabeled line"]]


def run_arm(arm: str, dataset: str, seed: int, args, overrides: list[str], early_stop: dict, tmp: Path) -> list[dict]:
    data_dir = DATASETS[dataset]
    full = pd.read_csv(data_dir / "train.csv", dtype=str, keep_default_na=False)
    fps = np.asarray([text_fingerprint(t) for t in full[TEXT]], dtype=object)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(full))
    labelled = list(order[: args.start])
    work = tmp / f"{dataset}-{arm}-{seed}"
    shutil.copytree(ROOT / "conf", work / "conf")
    (work / "data").mkdir()
    shutil.copy(data_dir / "test.csv", work / "data/test.csv")
    rounds = []
    for r in range(args.rounds + 1):
        full.iloc[labelled].to_csv(work / "data/train.csv", index=False)
        pool_rows = np.setdiff1d(np.arange(len(full)), labelled)
        pool = full.iloc[pool_rows].reset_index(drop=True)
        pool[[TEXT]].to_csv(work / "data/unlabeled.csv", index=False)
        started = time.perf_counter()
        metrics = train(work, overrides)
        missing = missing_rule(metrics, early_stop)
        at_half = precision_at_recall(work, 0.5)
        result = {
            "round": r,
            "labelled": len(labelled),
            "test_macro_precision": metrics["test"]["macro"]["precision"],
            "test_macro_recall": metrics["test"]["macro"]["recall"],
            "test_macro_precision_at_recall_0.5": at_half,
            "themes_meeting_rule": len(metrics["test"]["themes"]) - len(missing),
            "themes": len(metrics["test"]["themes"]),
            "train_seconds": time.perf_counter() - started,
        }
        if r < args.rounds:
            have = set(fps[labelled])
            eligible = np.flatnonzero(
                [bool(t.strip()) and fps[i] not in have for t, i in zip(pool[TEXT], pool_rows, strict=True)]
            )
            sample = np.sort(rng.choice(eligible, size=min(args.pool_sample, len(eligible)), replace=False))
            if arm == "suggest":
                picked = suggested_rows(work, pool)
            elif arm == "random":
                picked = [int(i) for i in rng.choice(eligible, size=args.batch, replace=False)]
            else:
                picked = anchor_rows(work, pool, sample, args.batch)
            lists = [split_themes(c) for c in pool[THEMES].iloc[picked]]
            found = sum(t in ts for ts in lists for t in missing)
            result["batch_positives_on_missing_per_100"] = 100 * found / max(1, len(picked))
            # rare themes: fewer than suggest.few_positives labelled positives so far, trained or not.
            # Where nearly every theme misses the rule, the count above is bounded by labels per row
            # for any arm; these are the rows a labeller cannot find at random.
            have = pd.Series([t for c in full[THEMES].iloc[labelled] for t in split_themes(c)]).value_counts()
            everything = {t for c in full[THEMES] for t in split_themes(c)}
            rare = {t for t in everything if have.get(t, 0) < FEW_POSITIVES}
            result["rare_themes"] = len(rare)
            result["batch_positives_on_rare_per_100"] = (
                100 * sum(t in rare for ts in lists for t in ts) / max(1, len(picked))
            )
            result["batch_rows"] = len(picked)
            labelled += list(pool_rows[picked])
        rounds.append(result)
        print(f"label_loop {dataset} {arm} seed {seed} round {r}: {result}", flush=True)
    return rounds


def summarise(results: dict) -> str:
    lines = []
    for dataset, arms in results.items():
        rows = []
        for arm, seeds in arms.items():
            n_rounds = len(next(iter(seeds.values())))
            for r in range(n_rounds):
                per_seed = [s[r] for s in seeds.values()]
                pos = [
                    s["batch_positives_on_missing_per_100"]
                    for s in per_seed
                    if "batch_positives_on_missing_per_100" in s
                ]
                rare = [
                    s["batch_positives_on_rare_per_100"] for s in per_seed if "batch_positives_on_rare_per_100" in s
                ]
                rows.append(
                    [
                        arm,
                        r,
                        per_seed[0]["labelled"],
                        statistics.mean(s["test_macro_precision"] for s in per_seed),
                        statistics.mean(s["test_macro_recall"] for s in per_seed),
                        statistics.mean(s.get("test_macro_precision_at_recall_0.5", float("nan")) for s in per_seed),
                        statistics.mean(s["themes_meeting_rule"] for s in per_seed),
                        statistics.mean(pos) if pos else "",
                        statistics.mean(rare) if rare else "",
                    ]
                )
        headers = [
            "arm",
            "round",
            "labelled",
            "test macro P",
            "test macro R",
            "test macro P at test R 0.5",
            "themes meeting rule",
            "positives of missing themes / 100 rows",
            "positives of rare themes / 100 rows",
        ]
        lines += [
            f"#### {dataset} (mean of seeds {sorted(next(iter(arms.values())))})",
            "",
            tabulate(rows, headers, tablefmt="github", floatfmt=".3f"),
            "",
        ]
    return "\n".join(lines)


def markdown(results: dict, args) -> str:
    return (
        f"### The labelling loop, simulated (`python -m bench.label_loop`)\n\n{args.start} seeded rows, "
        f"{args.rounds} rounds of {args.batch}, pool sample {args.pool_sample}; smoke budget with the fast families "
        "unless overridden, the same for every arm. Test macro P / R at the thresholds the rule chose.\n\n"
        + summarise(results)
    )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", nargs="+", choices=sorted(DATASETS), default=["semeval25"])
    parser.add_argument("--arms", nargs="+", choices=ARMS, default=list(ARMS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--start", type=int, default=500)
    parser.add_argument("--pool-sample", type=int, default=5000)
    parser.add_argument("--tag", default="")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides (default: the smoke budget, fast families)")
    args = parser.parse_args(argv)
    overrides = [
        *(args.overrides or BUDGET),
        f"suggest.batch_rows={args.batch}",
        f"suggest.max_pool={args.pool_sample}",
    ]
    early_stop = yaml.safe_load((ROOT / "params.yaml").read_text())["tuning"]["early_stop"]
    cache_encoder()
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        for dataset in args.dataset:
            for arm in args.arms:
                for seed in args.seeds:
                    rounds = run_arm(arm, dataset, seed, args, overrides, early_stop, Path(tmp))
                    results.setdefault(dataset, {}).setdefault(arm, {})[seed] = rounds
    name = "label_loop" + (f"_{args.tag}" if args.tag else "")
    out = ROOT / "bench/results"
    write_json(out / f"{name}.json", {"args": vars(args), "overrides": overrides, "results": results})
    text = markdown(results, args)
    write_text(out / f"{name}.md", text)
    print(text)


if __name__ == "__main__":
    main(sys.argv[1:])
