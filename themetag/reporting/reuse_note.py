"""Which themes were refitted from the tuning record and which were tuned again, and why: a
section of ``metrics/report.md`` (the ``reuse`` stage's ``artifacts/reuse/summary.json``)."""

from __future__ import annotations

from tabulate import tabulate


def lead(switch: dict | None) -> str:
    """A runner-up's lead over the record, in sds of the paired difference, and whether it switched."""
    if not switch:
        return "-"
    verdict = "took the theme" if switch["switched"] else "kept the record"
    return (
        f"{switch['runner_up']} +{switch['lead']:.3f} ({switch['lead'] / max(switch['sd'], 1e-12):.1f} sd): {verdict}"
    )


def reuse_section(summary: dict | None) -> list[str]:
    """Markdown lines; none where the reuse stage has not run."""
    if not summary:
        return []
    lines = ["## Tuning: refitted or tuned again", ""]
    themes = summary["themes"]
    if not summary["applied"]:
        lines += [
            f"Every theme was tuned ({summary['why']}). To refit instead of tuning in the next labelling round, "
            "keep this run's tuning: `themetag keep-tuning` (`themetag append-batch` runs it), and commit "
            f"`{summary['record'] or 'reuse.record'}` with the data.",
            "",
        ]
        return lines
    refit = [t for t, r in themes.items() if r["action"] == "refit"]
    lines += [
        f"{len(refit)} of {len(themes)} themes refitted their recorded setting ({summary['record']}) on the new folds; "
        f"{len(themes) - len(refit)} tuned again. `-S reuse.retune=all` (or a list of themes) tunes again on request.",
        "",
    ]
    rows = [
        [
            t,
            r["action"],
            r.get("candidate", "-"),
            (r.get("setting") or {}).get("candidate", "-"),
            r.get("record_value"),
            r.get("value"),
            r.get("bound"),
            lead(r.get("switch")),
            r["why"] or "-",
        ]
        for t, r in themes.items()
    ]
    head = [
        "theme",
        "action",
        "recorded candidate",
        "refitted best",
        "record figure",
        "refit figure",
        "drop bound",
        "runner-up's lead",
        "why tuned again",
    ]
    lines += [tabulate(rows, head, tablefmt="github", floatfmt=".3f", missingval="-"), ""]
    lines += [
        "Figures: the tuning objective out of fold (precision at the early-stop recall). A refitted theme is tuned "
        "again when its figure falls below the record's by more than the drop bound (`reuse.drop_sd` standard "
        "errors), or when the rows or its positives grew by more than `reuse.max_growth` since it was tuned. "
        "`refitted best`: the recorded candidate or one of its runners-up (`reuse.challengers`), refitted on the "
        "same folds: a runner-up that ranks first takes the theme only when its lead exceeds `reuse.switch_sd` "
        "bootstrap sds of the paired out-of-fold difference (`runner-up's lead`); the next record keeps the choice.",
        "",
    ]
    if summary.get("dropped"):
        lines += [f"Recorded themes no longer in the data (ignored): {', '.join(summary['dropped'])}.", ""]
    return lines
