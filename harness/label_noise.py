"""Labels flipped on purpose: what the label-review tests and benchmarks measure the review against."""

from __future__ import annotations

import numpy as np
import pandas as pd

from themetag.data.labels import split_themes


def flip(frame: pd.DataFrame, rate: float, seed: int) -> dict[str, set[int]]:
    """Toggle each theme on ``rate`` of the rows (never emptying a row); the toggled 0-based rows."""
    rng = np.random.default_rng(seed)
    lists = [split_themes(c) for c in frame["Themes"]]
    themes = sorted({t for ts in lists for t in ts})
    flipped: dict[str, set[int]] = {}
    for theme in themes:
        allowed = [i for i, ts in enumerate(lists) if ts != [theme]]  # removing the only theme would drop the row
        chosen = rng.choice(allowed, size=round(rate * len(frame)), replace=False)
        for i in chosen:
            lists[i] = [t for t in lists[i] if t != theme] if theme in lists[i] else [*lists[i], theme]
        flipped[theme] = {int(i) for i in chosen}
    frame["Themes"] = [", ".join(ts) for ts in lists]
    return flipped
