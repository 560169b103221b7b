"""The encoder probe's cost on long texts, with and without its word-piece budget.

    python -m bench.probe_budget [--docs 1200] [--rows-per-doc 12] [--repeats 1]

This project has no labelled set of long texts, so the benchmark makes one from goemotions.
Each document joins ``--rows-per-doc`` consecutive training rows (about 240 word pieces), and
its themes are the union of theirs. In a fresh copy of the project, `dvc repro encoder_probe` runs
with the default ``encoder_probe.max_word_pieces`` and with the budget lifted, alternated. Each run
starts with an empty vector cache. The output is the probe stage's seconds, the rows and input
length it probed, and its decision. Results go to ``bench/results/probe_budget/``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

import pandas as pd
from tabulate import tabulate

from bench.copies import default_copy
from bench.results_path import result_path, with_provenance
from bench.timing import staged_run
from harness.dvc_repo import ROOT
from themetag.atomic import write_json, write_text

UNBOUNDED = "encoder_probe.max_word_pieces=100000000"


def long_documents(docs: int, per_doc: int) -> pd.DataFrame:
    rows = pd.read_csv(ROOT / "bench/data/goemotions/train.csv", dtype=str, keep_default_na=False)
    rows = rows.iloc[: docs * per_doc]
    out = []
    for i in range(0, len(rows), per_doc):
        part = rows.iloc[i : i + per_doc]
        themes = dict.fromkeys(t.strip() for cell in part["Themes"] for t in cell.split(",") if t.strip())
        out.append({"Processed Text": " ".join(part["Processed Text"]), "Themes": ", ".join(themes)})
    return pd.DataFrame(out)


def probe_run(work: Path, data: Path, lifted: bool, i: int) -> dict:
    name = f"{'lifted' if lifted else 'budget'}-{i}"
    repo = default_copy(work / name, data, [UNBOUNDED] if lifted else [])
    repo.env["THEMETAG_VECTOR_CACHE"] = str(work / f"{name}-vectors")  # empty: every text encoded
    repo.run("dvc", "repro", "encoder")  # builds (or copies) all-mpnet-base-v2: not the probe's cost
    _, stages, _, _ = staged_run(["dvc", "repro", "encoder_probe"], repo.path, repo.env)
    figures = json.loads((repo.path / "metrics/encoder_probe.json").read_text())
    return {
        "probe_seconds": stages["encoder_probe"],
        "stage_seconds": figures["seconds"],
        "rows": figures["rows"],
        "budget": figures.get("budget"),
        "chosen": figures["chosen"],
        "gain": figures["gain"],
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1200)
    parser.add_argument("--rows-per-doc", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)
    os.environ.pop("PYTHONPATH", None)
    with tempfile.TemporaryDirectory(prefix="probe-budget-") as tmp:
        work = Path(tmp)
        data = work / "data"
        data.mkdir()
        long_documents(args.docs, args.rows_per_doc).to_csv(data / "train.csv", index=False)
        pd.read_csv(ROOT / "bench/data/goemotions/test.csv", dtype=str, keep_default_na=False).head(200).to_csv(
            data / "test.csv", index=False
        )
        runs = {"budget": [], "lifted": []}
        for i in range(args.repeats):
            for lifted in (False, True):
                runs["lifted" if lifted else "budget"].append(probe_run(work, data, lifted, i))
    med = {k: statistics.median(r["stage_seconds"] for r in v) for k, v in runs.items()}
    result = {"args": vars(args), "runs": runs, "median_seconds": med, "ratio": med["budget"] / med["lifted"]}
    write_json(result_path("probe_budget", "probe_budget_goemotions_long.json"), result)
    b, u = runs["budget"][-1], runs["lifted"][-1]
    rows = [
        ["probe seconds (median)", f"{med['budget']:.1f}", f"{med['lifted']:.1f}"],
        ["rows probed", b["rows"], u["rows"]],
        ["input cut to (word pieces)", (b["budget"] or {}).get("max_tokens") or "-", "-"],
        ["word pieces in the 1,000-row sample", (b["budget"] or {}).get("word_pieces"), "-"],
        ["chosen", b["chosen"], u["chosen"]],
    ]
    md = (
        f"### The encoder probe on {args.docs} long texts ({args.rows_per_doc} goemotions rows each), with and "
        f"without its budget\n\n"
        + tabulate(rows, ["", "budget (default)", "lifted"], tablefmt="github")
        + f"\n\nbudget / lifted: **{result['ratio']:.2f}x**; why: {(b['budget'] or {}).get('why')}\n"
    )
    write_text(result_path("probe_budget", "probe_budget_goemotions_long.md"), with_provenance("probe_budget", md))
    print(md)


if __name__ == "__main__":
    main(sys.argv[1:])
