"""A theme's learning curve as the rows of its ``dvc plots`` file: today's measured points, then
the horizons, where the measured column carries today's figure forward (the no-gain rule)."""

from __future__ import annotations

import pandas as pd


def plot_frame(curve: dict) -> pd.DataFrame | None:
    if "curve" not in curve:
        return None
    c, positives = curve["curve"], curve["positives"]
    measured = {p["fraction"]: p["average_precision"] for p in curve["points"]}
    now = curve["now"]["average_precision"]
    return pd.DataFrame(
        {
            "positives": [round(x * positives, 1) for x in c["grid"]],
            "measured_then_no_gain": [measured.get(x, now) for x in c["grid"]],
            "forecast": c["curve"],
            "low": c["low"],
            "high": c["high"],
        }
    ).round(6)
