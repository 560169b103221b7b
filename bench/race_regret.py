"""What a narrower race would have lost: the evidence for the margin, from one finished run.

    python -m bench.race_regret --project DIR [--name goemotions]

``DIR`` is a project after `dvc repro` with the race on (``bench.race_targets --keep`` leaves
one). Per theme, the screen's values say who the race kept; the tune stages' values (all rows,
out of fold) say what each kept candidate reached. For a narrower margin m, the candidates
within m of the screen's leader would have gone on; the theme's loss is the best tuned value
among all that went on less the best among those within m. Also measured: what tuning added
beyond each study's portfolio (its best value less the best of its portfolio trials), which is
what a margin must cover. Results go to ``bench/results/race_regret/race_regret_<name>.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import pandas as pd
from tabulate import tabulate

from bench.results_path import result_path, with_provenance
from themetag.atomic import write_json, write_text

MARGINS = (0.0, 0.01, 0.02, 0.03, 0.05)


def tuned_values(project: Path) -> tuple[dict[str, dict[str, float]], list[float], dict[str, dict[str, float]]]:
    """Per theme, each first-round candidate's best tuned value; per study, its gain over the
    best of its portfolio trials; and per theme, each candidate's best portfolio value."""
    values: dict[str, dict[str, float]] = {}
    portfolio: dict[str, dict[str, float]] = {}
    gains = []
    for summary in sorted((project / "artifacts/tune/first").glob("*/summary.json")):
        data = json.loads(summary.read_text())
        if data.get("skipped"):
            continue
        cand = summary.parent.name
        for res in data["themes"]:
            values.setdefault(res["theme"], {})[cand] = res["best_value"]
            trials = pd.read_csv(summary.parent / "trials" / f"{res['theme']}.csv")
            complete = trials[trials["state"] == "COMPLETE"]
            first = complete[complete["number"] < 4]  # every portfolio here has at most 4 points
            if len(first):
                portfolio.setdefault(res["theme"], {})[cand] = first["value"].max()
            if len(first) and len(complete) > len(first):
                gains.append(res["best_value"] - first["value"].max())
    return values, gains, portfolio


def regret(screen: dict, tuned: dict[str, dict[str, float]], margin: float) -> dict[str, float]:
    """Per theme, what keeping only the candidates within ``margin`` of the screen's leader
    (plus the sampling widening the run used) would have lost in tuned value."""
    out = {}
    for theme, entry in screen["themes"].items():
        got = tuned.get(theme, {})
        if not got:
            continue
        sample = {c: r["best_value"] for c, r in entry["candidates"].items()}
        lead = max(sample.values())
        kept = [c for c in got if sample.get(c, lead) >= lead - margin - entry.get("widening", 0.0)]
        best_kept = max((got[c] for c in kept), default=float("-inf"))
        out[theme] = max(got.values()) - best_kept
    return out


def theme_noise(project: Path, values: dict[str, float]) -> dict[str, float]:
    """Per theme, the standard error of its precision (its best value) at the early-stop recall
    (``race.precision_se``)."""
    import yaml

    from themetag.tuning.race import precision_se

    labels = pd.read_csv(project / "artifacts/labels.csv", keep_default_na=False)
    params = yaml.safe_load((project / "params.yaml").read_text())
    recall = float(params["tuning"]["early_stop"]["min_recall"])
    return {t: precision_se(v, int(labels[t].sum()), recall) for t, v in values.items()}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, required=True)
    parser.add_argument("--name", default="run")
    args = parser.parse_args(argv)
    screen = json.loads((args.project / "artifacts/screen/summary.json").read_text())
    tuned, gains, portfolio = tuned_values(args.project)
    survivors = sum(len(e["go_on"]) for e in screen["themes"].values())
    pairs = sum(len(e["candidates"]) for e in screen["themes"].values())
    rows, result = [], {"sample_rows": screen.get("sample_rows"), "survivors": survivors, "pairs": pairs}
    for m in MARGINS:
        loss = regret(screen, tuned, m)
        kept = sum(
            sum(
                v["best_value"] >= max(r["best_value"] for r in e["candidates"].values()) - m - e.get("widening", 0.0)
                for v in e["candidates"].values()
            )
            for e in screen["themes"].values()
        )
        result[f"margin_{m}"] = {"kept": kept, "loss": loss}
        worst = max(loss, key=loss.get)
        rows.append([m, kept, f"{statistics.mean(loss.values()):.4f}", f"{loss[worst]:.4f} ({worst})"])
    result["tuning_gain"] = gains
    # per theme: the best tuned value among the candidates, less the best their portfolios reached
    theme_loss = {t: max(v.values()) - max(portfolio[t].values()) for t, v in tuned.items() if portfolio.get(t)}
    result["portfolio_only_theme_loss"] = theme_loss
    md = (
        f"### Race regret, {args.name} (`python -m bench.race_regret`): screen on "
        f"{screen.get('sample_rows') or 'every'} rows; {survivors} of {pairs} (theme, candidate) pairs went on\n\n"
    )
    md += tabulate(rows, ["margin", "pairs kept", "mean loss in tuned value", "worst loss (theme)"], "github")
    if gains:
        md += (
            f"\n\nWhat tuning added beyond the portfolio, {len(gains)} studies that ran past it: median "
            f"{statistics.median(gains):+.4f}, max {max(gains):+.4f}, share above 0.01: "
            f"{sum(g > 0.01 for g in gains) / len(gains):.0%}\n"
        )
    if theme_loss:
        noise = theme_noise(args.project, {t: min(max(tuned[t].values()), 1.0) for t in theme_loss})
        result["theme_noise"] = noise
        above = sorted(t for t, v in theme_loss.items() if v > noise[t])
        md += (
            f"\nPer theme, the best value with no tuning beyond the portfolios, against the best tuned: mean loss "
            f"{statistics.mean(theme_loss.values()):.4f}, max {max(theme_loss.values()):.4f} "
            f"({max(theme_loss, key=theme_loss.get)}), over {len(theme_loss)} themes; above the noise (one "
            f"standard error of the theme's precision at the early-stop recall): {len(above)} "
            f"({', '.join(above) or 'none'}). The loss is measured on the folds the trials were chosen on, "
            "so it is an upper bound on what they buy out of sample\n"
        )
    name = f"race_regret_{args.name}"
    write_json(result_path("race_regret", f"{name}.json"), result)
    write_text(result_path("race_regret", f"{name}.md"), with_provenance("race_regret", md + "\n"))
    print(md)


if __name__ == "__main__":
    main(sys.argv[1:])
