"""``metrics/report.md``: the one page to read first after a run.

It holds the Check-first list (grouped by reason), the results table, one line per weak theme
saying where to look next, what moved since the last commit, and links to the other files. The
comparison is a short summary of `dvc metrics diff`: a theme's precision "moved" when the change
exceeds 2 standard deviations of the difference (binomial, on the rows each side tagged), so a
change a resample of the same size would often show is not reported.
"""

from __future__ import annotations

import json
import re
import subprocess

import numpy as np

from themetag.reporting.check_first import binomial_sd

SPLITS = {"test": "test", "cv_nested": "nested"}


def previous_metrics(path: str) -> dict | None:
    """``path`` as committed at git HEAD, or None (no git, no commit, or not committed)."""
    try:
        shown = subprocess.run(["git", "show", f"HEAD:{path}"], capture_output=True, text=True, check=False)
    except OSError:
        return None
    if shown.returncode != 0:
        return None
    try:
        return json.loads(shown.stdout)
    except json.JSONDecodeError:
        return None


def precision_sd(m: dict) -> float:
    return binomial_sd(m["precision"], m["tp"] + m["fp"])


def moved(previous: dict, current: dict) -> list[str]:
    """Themes whose test or nested precision moved by more than 2 sd of the difference."""
    out = []
    for split, name in SPLITS.items():
        before, now = previous.get(split, {}).get("themes", {}), current.get(split, {}).get("themes", {})
        for t in now:
            if t not in before or not {"tp", "fp"} <= before[t].keys():
                continue
            a, b = before[t], now[t]
            limit = 2 * float(np.hypot(precision_sd(a), precision_sd(b)))
            diff = b["precision"] - a["precision"]
            if np.isfinite(limit) and abs(diff) > limit:
                direction = "up" if diff > 0 else "down"
                out.append(
                    f"{t}: {name} precision {direction} {a['precision']:.3f} → {b['precision']:.3f} (2 sd {limit:.3f})"
                )
    return out


def changed_choices(previous: dict, current: dict) -> list[str]:
    """Themes whose selected family, space or sentence encoder changed (the encoder compared only
    where both runs recorded one)."""
    before, now = previous.get("cv", {}).get("themes", {}), current["cv"]["themes"]

    def choice(m: dict, encoder: bool) -> str:
        enc = m.get("encoder") if encoder else None
        return f"{m.get('model')} on {m.get('space')}" + (f" ({enc})" if enc and enc != "none" else "")

    out = []
    for t, m in now.items():
        if t in before:
            both = "encoder" in before[t] and "encoder" in m
            if choice(before[t], both) != choice(m, both):
                out.append(f"{t}: {choice(before[t], both)} → {choice(m, both)}")
    return out


def anchor(heading: str) -> str:
    """The anchor GitHub and VS Code give a markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def where_to_look(theme: str, errors: dict, review_rows: int, suggested: int) -> str:
    """One line for a weak theme: its errors, its label review and its labelling suggestions."""
    parts = [
        f"[errors](errors.md#{anchor(theme)}) ({errors.get('fp', 0)} false positives, {errors.get('fn', 0)} missed)"
    ]
    if errors.get("top_confusion"):
        parts[0] += f", most wrong tags on rows labelled {errors['top_confusion']}"
    parts.append(f"[label review](label_review.md) ({review_rows} rows listed)")
    parts.append(f"[labelling suggestions](label_next.md) ({suggested} rows)")
    return f"- **{theme}**: " + "; ".join(parts)


LINKS = [
    ("results.md", "the full results table and the recall audit"),
    ("errors.md", "false positives and false negatives per theme, and the most frequent confusions"),
    ("label_review.md", "labels that likely disagree with their text"),
    ("label_next.md", "what to label next"),
    ("themes.md", "themes kept, left out, and review decisions applied"),
    ("tuning.json", "the tuning runs"),
    (
        "../dvc_plots/index.html",
        "the pictures, after `dvc plots show`: score distributions, precision and "
        "recall against the threshold, PR curves and the confusion heatmap",
    ),
]


def report_markdown(
    check: list[str],
    table: str,
    weak: list[str],
    changes: list[str] | None,
    encoders: list[str] | None = None,
) -> str:
    """``changes`` is None when there is no committed metrics.json to compare with; ``encoders``:
    the sentence-encoder section (``encoder_note.encoder_section``)."""
    out = ["# Report", ""]
    out += ["**Check first:**", "", *check, ""] if check else ["Check first: nothing to flag.", ""]
    out += ["## Results", "", table.rstrip(), ""]
    out += encoders or []
    if weak:
        out += ["## Where to look next", "", *weak, ""]
    out += ["## Since the last commit", ""]
    if changes is None:
        out += ["No committed metrics/metrics.json to compare with.", ""]
    elif not changes:
        out += [
            "No theme's precision moved by more than 2 sd, and no theme changed family or space "
            "(`dvc metrics diff` has every figure).",
            "",
        ]
    else:
        out += [f"- {c}" for c in changes] + ["", "`dvc metrics diff` has every figure.", ""]
    out += ["## Files", ""] + [f"- [{path}]({path}): {what}" for path, what in LINKS]
    return "\n".join(out) + "\n"
