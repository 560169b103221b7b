"""The recall audit: does each theme's nested (cross-validated) recall hold on test.csv? A theme is
flagged when test recall falls short of nested recall by more than 2 sd of the difference."""

from __future__ import annotations

import numpy as np

from themetag.reporting.check_first import binomial_sd


def recall_audit(metrics: dict, families: dict) -> dict:
    """Nested against test recall per theme, flagged beyond 2 sd of the difference; mean per family."""
    themes = {}
    for t, nested in metrics["cv_nested"]["themes"].items():
        test = metrics["test"]["themes"][t]
        sd_n = binomial_sd(nested["recall"], nested["support"])
        sd_t = binomial_sd(test["recall"], test["support"])
        shortfall = nested["recall"] - test["recall"]
        limit = 2 * float(np.sqrt(sd_n**2 + sd_t**2))
        themes[t] = {
            "nested_recall": nested["recall"],
            "nested_sd": sd_n,
            "test_recall": test["recall"],
            "test_sd": sd_t,
            "shortfall": shortfall,
            "flagged": bool(test["support"] > 0 and shortfall > limit),
        }
    by_family: dict[str, list[float]] = {}
    for t, a in themes.items():
        by_family.setdefault(families[t], []).append(a["shortfall"])
    return {
        "themes": themes,
        "families": {f: {"mean_shortfall": float(np.mean(v)), "themes": len(v)} for f, v in by_family.items()},
    }
