"""How far tuning moves a candidate beyond its portfolio: the evidence for ``tuning.race.margin``.

    python -m bench.race_screen [--dataset mams_acsa|semeval25|goemotions] [--keep DIR | --reuse DIR]

Runs the default config with racing off (``tuning.race.margin=null``: every candidate tuned to
its full budget) in a fresh copy, then, per theme and candidate, compares the best value of the
family's portfolio (the study's first trials) with the best after the whole study. A margin is
safe when no candidate that ends within 0.005 of a theme's winner started more than the margin
behind that theme's screen leader. Writes ``bench/results/race_screen/race_screen_<dataset>.{json,md}``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import pandas as pd
from tabulate import tabulate

from bench.copies import default_copy, kept_copy
from bench.results_path import result_path, with_provenance
from harness.dvc_repo import ROOT
from themetag.atomic import read_json, write_json, write_text

DATASETS = {
    "mams_acsa": ROOT / "data",
    "semeval25": ROOT / "bench/data/semeval25",
    "goemotions": ROOT / "bench/data/goemotions",
}
NO_RACE = ["tuning.race.margin=null"]
MARGINS = (0.02, 0.03, 0.05, 0.08)


def values(run: Path) -> dict[str, dict[str, dict]]:
    """Per theme and candidate: the portfolio's best value and the study's best, from the trial
    histories the run kept (the portfolio trials are each study's first ones)."""
    import yaml

    families = yaml.safe_load((run / "params.yaml").read_text())["families"]
    out: dict[str, dict[str, dict]] = {}
    for summary in sorted((run / "artifacts/tune").glob("*/*/summary.json")):
        s = read_json(summary)
        if s.get("skipped"):
            continue
        name = summary.parent.name
        n = len(families[s["family"]].get("portfolio") or [])
        for res in s["themes"]:
            trials = pd.read_csv(summary.parent / "trials" / f"{res['theme']}.csv")
            first = trials[(trials["number"] < n) & (trials["state"] == "COMPLETE")]["value"]
            out.setdefault(res["theme"], {})[name] = {
                "screen": float(first.max()) if len(first) else None,
                "final": res["best_value"],
                "trials": res["trials_complete"] + res["trials_pruned"],
            }
    return out


def analyse(table: dict[str, dict[str, dict]]) -> dict:
    gains, within_gains, rows, unsafe = [], [], [], {m: [] for m in MARGINS}
    for theme, cands in table.items():
        screened = {c: v for c, v in cands.items() if v["screen"] is not None}
        lead = max(screened.values(), key=lambda v: v["screen"])["screen"]
        win = max(v["final"] for v in cands.values())
        for c, v in screened.items():
            gap, gain = lead - v["screen"], v["final"] - v["screen"]
            gains.append(gain)
            if gap <= 0.05:
                within_gains.append(gain)
            for m in MARGINS:
                if gap > m and v["final"] >= win - 0.005:
                    unsafe[m].append(f"{theme}: {c} (gap {gap:.3f}, final {v['final']:.3f}, winner {win:.3f})")
            rows.append([theme, c, f"{v['screen']:.3f}", f"{v['final']:.3f}", f"{gap:+.3f}", f"{gain:+.3f}"])
    return {
        "max_gain": max(gains),
        "max_gain_within_0.05": max(within_gains) if within_gains else None,
        "winners_or_near_raced_out": {str(m): unsafe[m] for m in MARGINS},
        "rows": rows,
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="mams_acsa")
    parser.add_argument("--keep", type=Path, help="run in this new folder and leave it there")
    parser.add_argument("--reuse", type=Path, help="a folder an earlier --keep left (racing off)")
    args = parser.parse_args(argv)
    if args.reuse:
        run = kept_copy(args.reuse, NO_RACE).path
        table = values(run)
    else:
        with tempfile.TemporaryDirectory(prefix="race-screen-") as tmp:
            path = args.keep or Path(tmp)
            if args.keep:
                path.mkdir(parents=True)
            repo = default_copy(path, DATASETS[args.dataset], NO_RACE)
            repo.run("dvc", "repro")
            table = values(repo.path)
    result = analyse(table)
    write_json(result_path("race_screen", f"race_screen_{args.dataset}.json"), {"dataset": args.dataset, **result})
    md = (
        f"### {args.dataset}: portfolio (screen) against the whole study, racing off\n\n"
        f"Largest gain of a study over its portfolio: {result['max_gain']:+.3f}; among candidates within 0.05 of "
        f"the screen leader: {result['max_gain_within_0.05']:+.3f}.\n\n"
        + "\n".join(
            f"- margin {m}: {len(v)} candidate(s) ending within 0.005 of the winner would be raced out"
            + (f" ({'; '.join(v)})" if v else "")
            for m, v in result["winners_or_near_raced_out"].items()
        )
        + "\n\n"
        + tabulate(result["rows"], ["theme", "candidate", "screen", "final", "gap to leader", "gain"], "github")
        + "\n"
    )
    write_text(result_path("race_screen", f"race_screen_{args.dataset}.md"), with_provenance("race_screen", md))
    print(md)


if __name__ == "__main__":
    main(sys.argv[1:])
