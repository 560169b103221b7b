"""Encoders compared with one fixed, cheap harness on a data set's official split, with
scikit-learn's TunedThresholdClassifierCV on TF-IDF alongside in the same run.

    python -m bench.encoder_harness --dataset goemotions \
        [--encoder NAME=MODEL@MAX_TOKENS ...] [--vectors NAME=TEXTS.csv,VECTORS.npy ...] [--encoder-root DIR]

Per encoder: logistic regression per theme (C picked from C_GRID by out-of-fold average
precision), fitted on each of the pipeline's folds
(``folds.k``, ``folds.seed``, multi-label stratified); the pipeline's threshold rule
(``thresholds`` params, recall margin included) on the out-of-fold scores; test.csv scored by
the fold models' average (the pipeline's default ``final.model: bag``). It is a floor for the
pipeline on that encoder (no tuning, no TF-IDF, no other families), for when a full `dvc repro`
per encoder costs too much: on goemotions, one with all-mpnet-base-v2 takes over an hour.
``--vectors`` reuses training vectors a pipeline run wrote (``artifacts/texts.csv`` and its
vectors, matched by text); test texts are encoded here. ``--encoder-root`` is a folder holding
``artifacts/encoder/`` when a built encoder is used. Writes bench/results/encoder_harness/encoder_harness_<dataset>.{json,md}.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from joblib import Parallel, delayed
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score
from tabulate import tabulate

from bench.pipeline_targets import DATASETS
from bench.references import load_split, reference_b
from bench.results_path import result_path, with_provenance
from themetag.atomic import write_json, write_text
from themetag.data.folds import make_folds
from themetag.data.labels import split_themes
from themetag.features.encoder import Encoder
from themetag.thresholds.rules import choose
from themetag.thresholds.scoring import theme_metrics, with_averages

ROOT = Path(__file__).resolve().parents[1]


def themes_of(data_dir: Path, min_positives: int) -> list[str]:
    frame = pd.read_csv(data_dir / "train.csv", dtype=str, keep_default_na=False)
    counts = pd.Series([t for c in frame["Themes"] for t in split_themes(c)]).value_counts()
    return [t for t, n in counts.items() if n >= min_positives]


CACHE = Path("/tmp/encoder_harness_cache")


def encode(spec: str, texts: list[str], root: Path | None) -> np.ndarray:
    """Encoded once per spec and text list; kept in CACHE for the next run."""
    from themetag.fingerprint import fingerprint

    cached = CACHE / f"{fingerprint(spec, texts)}.npy"
    if cached.is_file():
        return np.load(cached)
    vectors = _encode(spec, texts, root)
    CACHE.mkdir(exist_ok=True)
    np.save(cached, vectors)
    return vectors


def _encode(spec: str, texts: list[str], root: Path | None) -> np.ndarray:
    model, _, tokens = spec.rpartition("@")
    old = Path.cwd()
    if root is not None:
        os.chdir(root)
    try:
        return Encoder(model, max_tokens=int(tokens), batch_size=32).encode(texts)
    finally:
        os.chdir(old)


C_GRID = (1.0, 4.0, 16.0, 64.0)


def oof_and_bag(X: np.ndarray, X_test: np.ndarray, y: np.ndarray, fold: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold and bagged test scores at the C (of C_GRID) with the best out-of-fold average
    precision: unit-length embeddings need less regularisation than C = 1 gives them."""
    best = (-1.0, None, None)
    ks = range(int(fold.max()) + 1)
    for C in C_GRID:
        oof, test = np.zeros(len(X)), np.zeros(len(X_test))
        for k in ks:
            model = LogisticRegression(C=C, max_iter=3000).fit(X[fold != k], y[fold != k])
            oof[fold == k] = model.decision_function(X[fold == k])
            test += model.decision_function(X_test) / len(ks)
        ap = average_precision_score(y, oof)
        if ap > best[0]:
            best = (ap, oof, test)
    return best[1], best[2]


def harness(X, X_test, train, test, themes, fold, rule) -> dict:
    scored = Parallel(n_jobs=2)(delayed(oof_and_bag)(X, X_test, train[t].to_numpy(), fold) for t in themes)
    per_theme = {}
    for t, (oof, s) in zip(themes, scored, strict=True):
        choice = choose(train[t].to_numpy(), oof, rule)
        per_theme[t] = theme_metrics(test[t].to_numpy(), s, choice.threshold)
    return with_averages(per_theme)


def summary(result: dict, min_support: int, min_recall: float) -> dict:
    themes = result["themes"]
    weak = [t for t, m in themes.items() if m["support"] >= min_support and m["recall"] < min_recall]
    return {
        "macro_precision": result["macro"]["precision"],
        "macro_recall": result["macro"]["recall"],
        "lowest_recall": min(m["recall"] for m in themes.values()),
        f"themes_with_{min_support}+_test_positives_below_recall_{min_recall}": weak,
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="goemotions")
    parser.add_argument("--encoder", action="append", default=[], help="NAME=MODEL@MAX_TOKENS")
    parser.add_argument("--vectors", action="append", default=[], help="NAME=TEXTS.csv,VECTORS.npy (training)")
    parser.add_argument("--encoder-root", type=Path, default=None)
    args = parser.parse_args(argv)
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    data_dir = DATASETS[args.dataset]
    themes = themes_of(data_dir, params["labels"]["min_positives"])
    train, test = load_split(data_dir, themes)
    fold = make_folds(train[themes], params["folds"]["k"], params["folds"]["seed"])
    rule = params["thresholds"]
    out: dict = {"dataset": args.dataset, "themes": len(themes), "rows": [len(train), len(test)], "systems": {}}
    start = time.perf_counter()
    b = reference_b(train, test, themes, params["features"]["tfidf"], rule["min_recall"])
    out["systems"]["TunedThresholdClassifierCV, TF-IDF"] = {"result": b, "seconds": time.perf_counter() - start}
    sources = {n: ("encoder", s) for n, s in (e.split("=", 1) for e in args.encoder)}
    sources |= {n: ("vectors", s) for n, s in (v.split("=", 1) for v in args.vectors)}
    for name, (kind, spec) in sources.items():
        start = time.perf_counter()
        if kind == "encoder":
            X = encode(spec, train["text"].tolist(), args.encoder_root)
            X_test = encode(spec, test["text"].tolist(), args.encoder_root)
        else:
            texts_csv, npy = spec.split(",")
            by_text = dict(zip(pd.read_csv(texts_csv, keep_default_na=False)["text"], np.load(npy), strict=True))
            X = np.stack([by_text[t] for t in train["text"]])
            model_spec = name.split("|", 1)[1] if "|" in name else None
            if model_spec is None:
                raise SystemExit(f"--vectors {name}: name it NAME|MODEL@MAX_TOKENS so test.csv can be encoded")
            X_test = encode(model_spec, test["text"].tolist(), args.encoder_root)
        encoded = time.perf_counter() - start
        result = harness(X, X_test, train, test, themes, fold, rule)
        out["systems"][name] = {"result": result, "encode_seconds": encoded, "seconds": time.perf_counter() - start}
    min_recall = 0.45
    rows = []
    for name, sysres in out["systems"].items():
        s = summary(sysres["result"], 30, min_recall)
        sysres["summary"] = s
        weak = s[f"themes_with_30+_test_positives_below_recall_{min_recall}"]
        rows.append(
            [
                name,
                f"{s['macro_precision']:.3f}",
                f"{s['macro_recall']:.3f}",
                f"{s['lowest_recall']:.3f}",
                len(weak),
                f"{sysres['seconds']:.0f}",
            ]
        )
    write_json(result_path("encoder_harness", f"encoder_harness_{args.dataset}.json"), out)
    markdown = (
        f"### {args.dataset}: encoders under one harness (LR per theme, C picked on the folds, threshold rule "
        "and bag), test.csv\n\n"
        + tabulate(
            rows,
            ["system", "macro P", "macro R", "lowest R", "themes (>= 30 test positives) below R 0.45", "seconds"],
            tablefmt="github",
        )
        + "\n"
    )
    write_text(
        result_path("encoder_harness", f"encoder_harness_{args.dataset}.md"),
        with_provenance("encoder_harness", markdown),
    )
    print(markdown)


if __name__ == "__main__":
    main(sys.argv[1:])
