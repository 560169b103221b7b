"""Does the labelling loop pay? A pool-based simulation: suggested batches against random ones
and against the anchors' rule, with the data set's own labels playing the labeller.

    python -m bench.label_loop [--dataset semeval25] [--seeds 0 1 2 3 4] [--rounds 4] [--batch 200]
                               [--start 500] [--pool-sample 5000] [--arms suggest random] [HYDRA_OVERRIDE ...]

Per seed: ``start`` training rows drawn at random (seeded); the pool is the rest of train.csv
with its labels hidden. Each round trains the pipeline (the stages' own code: labels, folds,
features, tuning, selection, thresholds, the bag, the evaluation on test.csv, which no choice
sees) and adds ``batch`` rows, labelled by the data set, chosen by one of three arms on the
same config and budget:

- (a) ``suggest``: the suggest stage itself (near each needy theme's threshold, diverse, beside
  its random share), with ``data/picked.csv`` written as ``themetag append-batch`` would, so
  the thresholds rest on the rows that are a sample;
- (b) ``random``: rows drawn at random from the pool;
- ``no_search``: the suggest stage without its search for untrained themes' positives
  (``suggest.search_untrained=false``);
- ``share_all``: ``no_search`` without the ledger: the random share is labelled, but the
  thresholds rest on every row (what the share alone costs or gives);
- ``model_only``: the suggest stage with no random share (``suggest.random_share=0``) and no
  ledger, so thresholds rest on every row, model-picked or not (the stage before issue 32);
- ``no_forecast``: the suggest stage with its quota not steered by the learning curves
  (``suggest.follow_forecast=false``): what following the forecast saves in labels;
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
the same for every arm, with the encoder pinned to MiniLM (the probe's choice is not what is
compared). Each text is encoded once per process (an in-memory cache around the encoder: same
vectors, less time).

The result is a learning curve per figure and arm (mean over seeds, and a bootstrap interval of
the paired difference to random), and the headline ``labels_to_match_random``: the added labels
the arm needs to reach random's figure at its last round, interpolated on the arm's mean curve
(``bench/label_curves.py``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from sklearn.metrics import precision_recall_curve
from tabulate import tabulate

from bench.label_curves import curves
from bench.pipeline_targets import DATASETS
from bench.results_path import RESULTS, with_provenance
from harness.dvc_repo import ROOT
from harness.trained import run_stages
from stages import suggest
from themetag.atomic import read_json, write_json, write_text
from themetag.data.label_fixes import text_fingerprint
from themetag.data.labels import split_themes
from themetag.features.encoder import Encoder
from themetag.labelling.next_batch import PICKED_BY
from themetag.pipeline import paths
from themetag.tagging.bundle import load_bundle

ARMS = ("suggest", "random", "anchor", "model_only", "no_search", "share_all", "no_forecast")
TEXT, THEMES = "Processed Text", "Themes"
# the suggest stage's variants: what each arm turns off
ARM_OVERRIDES = {
    "model_only": ["suggest.random_share=0", "suggest.search_untrained=false"],
    "no_search": ["suggest.search_untrained=false"],
    "no_forecast": ["suggest.follow_forecast=false"],
    "share_all": ["suggest.search_untrained=false"],
}
NO_LEDGER = ("model_only", "share_all")  # thresholds on every row, model-picked or not
BUDGET = ["tuning=smoke", "models=fast", "features.embeddings.model=all-MiniLM-L6-v2"]
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


def precision_at_recall(work: Path, recall: float) -> dict[str, float]:
    """Macro over themes of the best test precision at test recall >= ``recall``: how well each
    model ranks, whatever threshold the rule set. A measurement only: it chooses nothing, and it
    compares arms whose thresholds transfer to the test set differently (a batch that is not a
    random sample shifts the out-of-fold score distribution the thresholds are chosen on)."""
    tagger = load_bundle(work / paths.BUNDLE)
    test = pd.read_csv(work / paths.TEST_LABELS, keep_default_na=False)
    scores = tagger.scores(test["text"].tolist())
    best = {}
    for t in tagger.themes:
        y = test[t].to_numpy(dtype=int)
        if y.sum():
            p, r, _ = precision_recall_curve(y, scores[t].to_numpy(dtype=float))
            best[t] = float(p[r >= recall].max())
    return best


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


def suggested_rows(work: Path, pool: pd.DataFrame) -> tuple[list[int], list[str]]:
    """The suggest stage's batch, as pool rows (its ``unlabeled line`` less the header), and how
    each was picked (``model`` or ``random``)."""
    old = Path.cwd()
    os.chdir(work)
    try:
        suggest.main()
    finally:
        os.chdir(old)
    batch = pd.read_csv(work / paths.LABEL_NEXT, dtype=str, keep_default_na=False)
    return [int(line) - 2 for line in batch["unlabeled line"]], batch[PICKED_BY].tolist()


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
    how: dict[int, str] = {}  # full row -> model | random, for the suggest arm's data/picked.csv
    for r in range(args.rounds + 1):
        full.iloc[labelled].to_csv(work / "data/train.csv", index=False)
        ledger = pd.DataFrame({"text": full[TEXT].iloc[list(how)].tolist(), "picked": list(how.values())})
        ledger.to_csv(work / "data/picked.csv", index=False)
        pool_rows = np.setdiff1d(np.arange(len(full)), labelled)
        pool = full.iloc[pool_rows].reset_index(drop=True)
        pool[[TEXT]].to_csv(work / "data/unlabeled.csv", index=False)
        started = time.perf_counter()
        metrics = train(work, overrides + ARM_OVERRIDES.get(arm, []))
        missing = missing_rule(metrics, early_stop)
        per_theme = precision_at_recall(work, 0.5)
        at_half = float(np.mean(list(per_theme.values())))
        result = {
            "round": r,
            "labelled": len(labelled),
            "test_macro_precision": metrics["test"]["macro"]["precision"],
            "test_macro_recall": metrics["test"]["macro"]["recall"],
            "test_macro_precision_at_recall_0.5": at_half,
            # the pipeline's own estimate of the rule's figures (nested, out of fold): how far it is
            # from test says whether the rows it rests on were a sample of new data
            "nested_macro_precision": metrics["cv_nested"]["macro"]["precision"],
            "nested_macro_recall": metrics["cv_nested"]["macro"]["recall"],
            "themes_meeting_rule": len(metrics["test"]["themes"]) - len(missing),
            "themes": len(metrics["test"]["themes"]),
            "theme_precision_at_recall_0.5": per_theme,
            "theme_test": {
                t: {"precision": m["precision"], "recall": m["recall"]} for t, m in metrics["test"]["themes"].items()
            },
            "train_seconds": time.perf_counter() - started,
        }
        if r < args.rounds:
            have = set(fps[labelled])
            eligible = np.flatnonzero(
                [bool(t.strip()) and fps[i] not in have for t, i in zip(pool[TEXT], pool_rows, strict=True)]
            )
            sample = np.sort(rng.choice(eligible, size=min(args.pool_sample, len(eligible)), replace=False))
            if arm in ARM_OVERRIDES or arm == "suggest":
                picked, picked_by = suggested_rows(work, pool)
                if arm not in NO_LEDGER:
                    how.update(zip((int(pool_rows[i]) for i in picked), picked_by, strict=True))
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


def fmt_interval(x: list) -> str:
    return f"[{x[0]:+.3f}, {x[1]:+.3f}]"


def fmt_labels(m: dict) -> str:
    lo, hi = m["interval"]
    beyond = f"> {m['never_within']:.0f}"
    point = f"never within {m['never_within']:.0f}" if m["labels"] is None else f"{m['labels']:.0f}"
    low = beyond if lo is None else f"{lo:.0f}"
    return f"{point} (95% interval {low} to {beyond if hi is None else f'{hi:.0f}'})"


def test_prevalence(dataset: str) -> dict[str, float]:
    """Each theme's share of the data set's test rows (themes spelled as the pipeline does)."""
    test = pd.read_csv(DATASETS[dataset] / "test.csv", dtype=str, keep_default_na=False)
    counts = pd.Series([t for c in test[THEMES] for t in split_themes(c)]).value_counts()
    return {t: n / len(test) for t, n in counts.items()}


def summarise(results: dict, start: int) -> tuple[str, dict]:
    lines, headline = [], {}
    for dataset, arms in results.items():
        if "random" not in arms or len(arms) < 2:
            continue
        c = curves(arms, start, test_prevalence(dataset))
        headline[dataset] = c
        figs = c["figures"]
        rows = []
        for arm in arms:
            for r, added in enumerate(c["added"]):
                row = [arm, int(added)]
                for f in ("precision_at_recall_0.5", "rule_precision", "rule_recall"):
                    row.append(figs[f][arm]["mean"][r])
                    row.append(fmt_interval(figs[f][arm]["diff_interval"][r]) if arm != "random" else "")
                rows.append(row)
        headers = [
            "arm",
            "added labels",
            "best test P at test R >= 0.5",
            "minus random (95%)",
            "test P at the rule's thresholds",
            "minus random (95%)",
            "test R at the rule's thresholds",
            "minus random (95%)",
        ]
        seeds = sorted(next(iter(arms.values())), key=int)
        lines += [f"#### {dataset} (mean of seeds {seeds}; intervals: bootstrap over paired seeds)", ""]
        for arm, m in c["labels_to_match_random"].items():
            for f, v in m.items():
                lines.append(
                    f"- {arm}, {f}: labels to match random's {v['random_figure']:.3f} at {v['never_within']:.0f} "
                    f"added: **{fmt_labels(v)}**"
                )
        for arm, w in c["worst_theme"].items():
            for f, per_round in w.items():
                worst = min((x for x in per_round if x), key=lambda x: x["diff"], default=None)
                if worst:
                    lines.append(
                        f"- {arm}, {f}: worst theme at any round {worst['theme']} {worst['diff']:+.3f} "
                        f"{fmt_interval(worst['interval'])}"
                    )
        lines += ["", tabulate(rows, headers, tablefmt="github", floatfmt=".3f"), ""]
        gaps = estimate_gaps(arms)
        if gaps:
            lines += [
                "The pipeline's nested estimate of the rule's macro precision / recall minus the test figure, at "
                "the last round (mean over seeds, and the range): rows the model picked are not a sample of new "
                "data, so an estimate that rests on them may miss.",
                "",
                tabulate(gaps, ["arm", "precision: estimate - test", "recall: estimate - test"], tablefmt="github"),
                "",
            ]
    return "\n".join(lines), headline


def estimate_gaps(arms: dict) -> list[list]:
    """Per arm that recorded it: nested estimate minus test, at the last round, over seeds."""
    out = []
    for arm, seeds in arms.items():
        last = [rounds[-1] for rounds in seeds.values() if "nested_macro_precision" in rounds[-1]]
        if last:
            cells = []
            for key in ("precision", "recall"):
                gap = [r[f"nested_macro_{key}"] - r[f"test_macro_{key}"] for r in last]
                cells.append(f"{np.mean(gap):+.3f} ({min(gap):+.3f} to {max(gap):+.3f})")
            out.append([arm, *cells])
    return out


def markdown(results: dict, args) -> tuple[str, dict]:
    text, headline = summarise(results, args.start)
    intro = (
        f"### The labelling loop, simulated (`python -m bench.label_loop`)\n\n{args.start} seeded rows, "
        f"{args.rounds} rounds of {args.batch}, pool sample {args.pool_sample}; smoke budget with the fast families "
        "and MiniLM unless overridden, the same for every arm. Figures on each data set's test.csv, which no "
        "choice sees.\n\n"
    )
    if getattr(args, "merged_from", None):
        intro += f"Merged from: {', '.join(f'`{m}`' for m in args.merged_from)}.\n\n"
    return intro + text, headline


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", nargs="+", choices=sorted(DATASETS), default=["semeval25"])
    parser.add_argument("--arms", nargs="+", choices=ARMS, default=["suggest", "random"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--start", type=int, default=500)
    parser.add_argument("--pool-sample", type=int, default=5000)
    parser.add_argument("--tag", default="")
    parser.add_argument(
        "--summarise",
        nargs="+",
        metavar="JSON[:OLD=NEW,...]",
        help="run nothing: summarise these results files, merged by data set, arm and seed (an arm may be renamed "
        "per file, e.g. a run from before the stage's search existed: old.json:suggest=no_search)",
    )
    parser.add_argument("overrides", nargs="*", help="Hydra overrides (default: the smoke budget, fast families)")
    args = parser.parse_args(argv)
    overrides = [
        *(args.overrides or BUDGET),
        f"suggest.batch_rows={args.batch}",
        f"suggest.max_pool={args.pool_sample}",
    ]
    name = "label_loop" + (f"_{args.tag}" if args.tag else "")
    out = RESULTS / "label_loop"
    if args.summarise:
        kept, results = merged(args.summarise)
        run = argparse.Namespace(**{**kept["args"], "merged_from": [Path(s).name for s in args.summarise]})
        write_summary(out / name, run, kept["overrides"], results)
        return
    early_stop = yaml.safe_load((ROOT / "params.yaml").read_text())["tuning"]["early_stop"]
    cache_encoder()
    partial = out / f"{name}.partial.json"
    setup = {k: getattr(args, k) for k in ("rounds", "batch", "start", "pool_sample")}
    results: dict = {}
    if partial.is_file() and read_json(partial).get("setup") == {**setup, "overrides": overrides}:
        results = read_json(partial)["results"]  # an interrupted run resumes at the next arm and seed
    with tempfile.TemporaryDirectory() as tmp:
        for dataset in args.dataset:
            for seed in args.seeds:
                for arm in args.arms:
                    if str(seed) in results.get(dataset, {}).get(arm, {}):
                        continue
                    rounds = run_arm(arm, dataset, seed, args, overrides, early_stop, Path(tmp))
                    results.setdefault(dataset, {}).setdefault(arm, {})[str(seed)] = rounds
                    write_json(partial, {"setup": {**setup, "overrides": overrides}, "results": results})
    write_summary(out / name, args, overrides, results)
    partial.unlink(missing_ok=True)


def merged(specs: list[str]) -> tuple[dict, dict]:
    """The first file's run, and every file's results merged by data set, arm and seed (a seed of
    an arm in two files is an error)."""
    first, results = None, {}
    for spec in specs:
        path, _, renames = spec.partition(":")
        kept = read_json(path)
        first = first or kept
        if {k: kept["args"][k] for k in ("rounds", "batch", "start", "pool_sample")} != {
            k: first["args"][k] for k in ("rounds", "batch", "start", "pool_sample")
        }:
            raise SystemExit(f"{path}: another setup than {specs[0]}; only runs of one setup merge")
        new_name = dict(r.split("=", 1) for r in renames.split(",") if r)
        for dataset, arms in kept["results"].items():
            for arm, seeds in arms.items():
                arm = new_name.get(arm, arm)
                have = results.setdefault(dataset, {}).setdefault(arm, {})
                if set(have) & set(seeds):
                    raise SystemExit(
                        f"{path}: {dataset} arm {arm!r} seeds {sorted(set(have) & set(seeds))} are in an earlier file too; rename one"
                    )
                have.update(seeds)
    return first, results


def write_summary(stem: Path, args, overrides: list[str], results: dict) -> None:
    """``<stem>.json`` (args, summary with ``labels_to_match_random``, every round) and ``.md``."""
    text, headline = markdown(results, args)
    summary = {d: {"labels_to_match_random": c["labels_to_match_random"], "curves": c} for d, c in headline.items()}
    kept = {k: v for k, v in vars(args).items() if k != "summarise"}
    write_json(
        stem.with_suffix(".json"), {"args": kept, "overrides": overrides, "summary": summary, "results": results}
    )
    write_text(stem.with_suffix(".md"), with_provenance("label_loop", text))
    print(text)


if __name__ == "__main__":
    main(sys.argv[1:])
