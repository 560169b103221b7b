"""What a costly candidate's trials beyond its portfolio buy, read from kept runs.

    python -m bench.costly_trials --projects DIR [DIR ...] --name NAME

Each DIR holds a finished run's ``artifacts/`` (a ``bench.race_targets --keep`` side, or a
``bench.label_round`` retune arm) tuned with trials beyond the portfolio
(``tuning.race.extra_trials: null``, the default before costly candidates stopped at it). Per
costly study (``artifacts/tune/costly/<candidate>/trials/<theme>.csv``): the best value of its
portfolio trials, its best value, the gain, the seconds its trials spent on the portfolio and
beyond it, and whether the gain changed the theme's winner: selection rerun with that
candidate's value set back to its portfolio's best. The values are out of fold but chosen on
those folds, so a gain here is an upper bound on what the trials buy. Results go to
``bench/results/costly_trials/<name>.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd
import yaml
from tabulate import tabulate

from bench.results_path import result_path, with_provenance
from harness.dvc_repo import ROOT
from themetag.atomic import write_json, write_text


def portfolio_sizes(project: Path) -> dict[str, int]:
    """Each family's portfolio size, from the project's params.yaml (this project's if not kept)."""
    params = project / "params.yaml"
    families = yaml.safe_load((params if params.is_file() else ROOT / "params.yaml").read_text())["families"]
    return {name: len(conf.get("portfolio") or []) for name, conf in families.items()}


def winner(candidates: dict[str, dict], override: dict[str, float]) -> str:
    """The candidate with the best objective, with ``override``'s values in place of theirs."""
    values = {c: override.get(c, v["objective"]) for c, v in candidates.items()}
    return max(values, key=lambda c: values[c])


def studies(project: Path) -> tuple[list[dict], int]:
    """One row per costly study of a kept run that ran past its portfolio; and how many stopped
    at it (raced out, or settled by its portfolio)."""
    sizes = portfolio_sizes(project)
    selection = json.loads((project / "artifacts/selection.json").read_text())
    rows, stopped = [], 0
    for trials_csv in sorted((project / "artifacts/tune/costly").glob("*/trials/*.csv")):
        cand, theme = trials_csv.parents[1].name, trials_csv.stem
        n_points = sizes[cand.split("-", 1)[0]]
        trials = pd.read_csv(trials_csv)
        seconds = pd.to_timedelta(trials["duration"]).dt.total_seconds()
        first = trials["number"] < n_points
        done = trials["state"] == "COMPLETE"
        if first.all():  # raced out or settled at its portfolio: nothing beyond it to measure
            stopped += 1
            continue
        point_best = trials.loc[first & done, "value"].max()
        best = trials.loc[done, "value"].max()
        entry = selection[theme]
        chosen = entry["candidate"]
        with_portfolio = winner(entry["candidates"], {cand: point_best}) if cand in entry["candidates"] else chosen
        rows.append(
            {
                "run": "/".join(project.parts[-2:]),
                "candidate": cand,
                "theme": theme,
                "trials": len(trials),
                "portfolio best": round(float(point_best), 4),
                "best": round(float(best), 4),
                "gain": round(float(best - point_best), 4),
                "portfolio s": round(float(seconds[first].sum()), 1),
                "beyond s": round(float(seconds[~first].sum()), 1),
                "winner": chosen,
                "winner at the portfolio": with_portfolio,
            }
        )
    return rows, stopped


def report(name: str, runs: int, rows: list[dict], stopped: int) -> tuple[dict, str]:
    """The summary and the markdown of the studies that ran past their portfolio."""
    table = pd.DataFrame(rows)
    changed = table[table["winner"] != table["winner at the portfolio"]]
    summary = {
        "runs": runs,
        "studies": len(table),
        "studies that stopped at the portfolio": stopped,
        "studies that gained": int((table["gain"] > 0).sum()),
        "max gain": float(table["gain"].max()),
        "median gain": float(table["gain"].median()),
        "winners changed": len(changed),
        "seconds on portfolios": float(table["portfolio s"].sum()),
        "seconds beyond": float(table["beyond s"].sum()),
    }
    total = summary["seconds beyond"] + summary["seconds on portfolios"]
    md = (
        f"### {name}: what costly candidates' trials beyond the portfolio bought (`python -m bench.costly_trials`)\n\n"
        f"{len(table)} costly studies that ran past their portfolio, in {runs} kept runs "
        f"({stopped} more stopped at it: raced out, or settled). "
        f"Gain over the portfolio's best (out of fold, in-sample: an upper bound): median {summary['median gain']:.4f}, "
        f"max {summary['max gain']:.4f}, {summary['studies that gained']} of {len(table)} gained; winners changed: "
        f"**{len(changed)}**. The trials beyond the portfolio took {summary['seconds beyond'] / total:.0%} of these "
        f"studies' trial seconds ({summary['seconds beyond']:.0f} of {total:.0f}).\n\n"
        + tabulate(table, headers="keys", tablefmt="github", showindex=False)
        + "\n"
    )
    return summary, md


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=Path, nargs="+", required=True)
    parser.add_argument("--name", required=True)
    args = parser.parse_args(argv)
    found = [studies(project) for project in args.projects]
    rows = [row for got, _ in found for row in got]
    stopped = sum(n for _, n in found)
    if not rows:  # every costly study stopped at its portfolio: the default changes nothing here
        summary = {"runs": len(args.projects), "studies": 0, "studies that stopped at the portfolio": stopped}
        md = (
            f"### {args.name}: what costly candidates' trials beyond the portfolio bought (`python -m bench.costly_trials`)\n\n"
            f"No costly study ran past its portfolio in {len(args.projects)} kept runs: all {stopped} stopped at it "
            "(raced out, or settled), so stopping there by default changes nothing on this data.\n"
        )
        rows = []
    else:
        summary, md = report(args.name, len(args.projects), rows, stopped)
    write_json(result_path("costly_trials", f"{args.name}.json"), {"summary": summary, "studies": rows})
    write_text(result_path("costly_trials", f"{args.name}.md"), with_provenance("costly_trials", md))
    print(md)


if __name__ == "__main__":
    main()
