"""The Check-first list: what a user must read before trusting the results table.

One line per reason, naming the themes it applies to, so the list stays one screen long with
30 themes as with 3 (one line per theme and reason ran to 22 lines on 20 themes).
"""

from __future__ import annotations

import math

import numpy as np

REASONS = ("below_min_precision", "recall_short", "missed_target")


def binomial_sd(p: float, n: int) -> float:
    return float(np.sqrt(p * (1 - p) / n)) if n else float("nan")


def flagged_themes(metrics: dict, chosen: dict) -> dict[str, list[str]]:
    """Per reason, the themes it applies to, in the results table's order."""
    audit = metrics.get("recall_audit", {}).get("themes", {})
    return {
        "below_min_precision": [t for t, c in chosen.items() if c.get("below_min_precision")],
        "recall_short": [t for t in chosen if audit.get(t, {}).get("flagged")],
        "missed_target": [t for t, c in chosen.items() if not c["met_target"]],
    }


def check_first(metrics: dict, chosen: dict, min_precision: float) -> list[str]:
    """Markdown bullet lines, one per reason that applies to any theme."""
    flagged = flagged_themes(metrics, chosen)
    nested = metrics["cv_nested"]["themes"]
    audit = metrics.get("recall_audit", {}).get("themes", {})
    out = []
    if flagged["below_min_precision"]:
        items = ", ".join(
            f"{t} {nested[t]['precision']:.3f}"
            + (" (not tagged)" if math.isinf(chosen[t]["threshold"]) else " (tagged anyway)")
            for t in flagged["below_min_precision"]
        )
        out.append(
            f"- **Nested precision below thresholds.min_precision {min_precision}** (most of their tags "
            f"would be wrong): {items}."
        )
    if flagged["recall_short"]:
        items = ", ".join(
            f"{t} {audit[t]['test_recall']:.3f} vs {audit[t]['nested_recall']:.3f}" for t in flagged["recall_short"]
        )
        out.append(
            "- **Test recall short of its nested estimate by more than 2 sd** (the test data may differ from "
            f"the training data, or the final model's scores drifted from the threshold): {items}."
        )
    if flagged["missed_target"]:
        items = ", ".join(f"{t} ({chosen[t]['rule']})" for t in flagged["missed_target"])
        out.append(f"- **No threshold met the target of thresholds.rule** (the fallback decided): {items}.")
    return out
