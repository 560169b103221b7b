"""Would a gap rule have cut costly studies safely? Replayed on the trials of kept, tuned copies.

    python -m bench.gap_skip DIR [DIR ...] [--after 1 2 3] [--allowance 0.1 0.2 0.3]

Issue 14 asked that a costly candidate skip a theme when "a gap that its past results say it
cannot close" separates it from the cheap candidates' best. This replays such a rule on every
costly study of each copy (kept with ``--keep`` by another benchmark): after the study's first
``after`` trials, cut it if the cheap candidates' best objective exceeds its best so far by more
than ``allowance``. A cut is *wrong* when the full study went on to reach the cheap best (it could
have been selected). ``saved`` is the share of the costly studies' fitting seconds the cuts
would have saved. The trials replayed are the ones the study ran, in order, so the figures are
exact for that run. Writes bench/results/gap_skip/gap_skip.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd
from tabulate import tabulate

from bench.results_path import result_path, with_provenance
from themetag.atomic import write_json, write_text


def studies(copy: Path) -> list[dict]:
    """Per costly study of a copy: its trial values and fit seconds in order, and the cheap best."""
    selection = json.loads((copy / "artifacts/selection.json").read_text())
    costly = {p.name for p in (copy / "artifacts/tune/costly").iterdir() if p.is_dir()}
    out = []
    for theme, sel in selection.items():
        cheap = max(v["objective"] for name, v in sel["candidates"].items() if name not in costly)
        for name in sorted(costly & sel["candidates"].keys()):
            trials = copy / "artifacts/tune/costly" / name / "trials" / f"{theme}.csv"
            if not trials.exists():
                continue
            done = pd.read_csv(trials).query("state == 'COMPLETE'")
            out.append(
                {
                    "theme": theme,
                    "candidate": name,
                    "cheap_best": cheap,
                    "values": done["value"].tolist(),
                    "fit_seconds": done["user_attrs_fit_seconds"].tolist(),
                    "selected": sel["candidate"] == name,
                }
            )
    return out


def replay(found: list[dict], after: int, allowance: float) -> dict:
    cut = wrong = 0
    saved = total = 0.0
    wrong_cuts = []
    for s in found:
        total += sum(s["fit_seconds"])
        if len(s["values"]) > after and s["cheap_best"] - max(s["values"][:after]) > allowance:
            cut += 1
            saved += sum(s["fit_seconds"][after:])
            if max(s["values"]) >= s["cheap_best"]:
                wrong += 1
                wrong_cuts.append(
                    f"{s['candidate']} on {s['theme']}: {max(s['values'][:after]):.3f} after {after}, "
                    f"{max(s['values']):.3f} at the end, cheap best {s['cheap_best']:.3f}"
                    + (" (selected)" if s["selected"] else "")
                )
    return {
        "studies": len(found),
        "cut": cut,
        "wrong": wrong,
        "wrong_cuts": wrong_cuts,
        "saved_share": saved / total if total else 0.0,
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("copies", type=Path, nargs="+")
    parser.add_argument("--after", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--allowance", type=float, nargs="+", default=[0.1, 0.2, 0.3])
    args = parser.parse_args(argv)
    out = {}
    for copy in args.copies:
        found = studies(copy)
        out["/".join(copy.resolve().parts[-2:])] = {
            f"{a}/{g}": replay(found, a, g) for a in args.after for g in args.allowance
        }
    write_json(result_path("gap_skip", "gap_skip.json"), out)
    rows = []
    for copy, rules in out.items():
        for rule, r in rules.items():
            after, allowance = rule.split("/")
            rows.append(
                [
                    copy,
                    after,
                    allowance,
                    f"{r['cut']} / {r['studies']}",
                    r["wrong"],
                    f"{r['saved_share']:.0%}",
                ]
            )
    wrong = sorted({w for rules in out.values() for r in rules.values() for w in r["wrong_cuts"]})
    markdown = (
        "### A gap rule for costly candidates, replayed on kept runs (`python -m bench.gap_skip`)\n\n"
        + tabulate(
            rows,
            ["copy", "after trials", "allowance", "studies cut", "wrong cuts", "costly fit time saved"],
            "github",
        )
        + "\n\nWrong cuts (the study went on to reach the cheap candidates' best):\n\n"
        + "".join(f"- {w}\n" for w in wrong)
    )
    write_text(result_path("gap_skip", "gap_skip.md"), with_provenance("gap_skip", markdown))
    print(markdown)


if __name__ == "__main__":
    main(sys.argv[1:])
