"""Data for the per-theme pictures DVC draws (``plots:`` in dvc.yaml, templates in .dvc/plots/).

* ``curve_table``: precision and recall at each threshold, thinned to ``points`` rows; the PR
  curves plot recall against precision, the threshold sweep plots both against the threshold.
* ``score_histogram``: how the scores of a theme's positives and negatives spread, each as a
  share of its own class, so a rare theme's positives are not flattened by its negatives. Where
  the two overlap only near the threshold, a better threshold cannot help; where they overlap
  everywhere, the features or the labels are the problem.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import precision_recall_curve

from themetag.thresholds.scoring import json_threshold


def curve_table(y: np.ndarray, s: np.ndarray, points: int) -> pd.DataFrame:
    keep = ~np.isnan(s)
    precision, recall, thresholds = precision_recall_curve(y[keep], s[keep])
    frame = pd.DataFrame({"recall": recall[:-1], "precision": precision[:-1], "threshold": thresholds})
    if len(frame) > points:
        frame = frame.iloc[np.unique(np.linspace(0, len(frame) - 1, points).round().astype(int))]
    return frame.round(6)


def threshold_sweep(theme: str, y: np.ndarray, s: np.ndarray, threshold: float, points: int) -> list[dict]:
    table = curve_table(y, s, points)
    chosen = json_threshold(round(float(threshold), 6))
    rows = table[["threshold", "precision", "recall"]].to_dict("records")
    return [{"theme": theme, **row, "chosen": chosen} for row in rows]


def score_histogram(theme: str, y: np.ndarray, s: np.ndarray, threshold: float, bins: int) -> list[dict]:
    keep = np.isfinite(s)
    y, s = np.asarray(y)[keep].astype(bool), s[keep]
    if not len(s):
        return []
    edges = np.histogram_bin_edges(s, bins=bins)
    centres = (edges[:-1] + edges[1:]) / 2
    out = []
    for name, mask in (("positive", y), ("negative", ~y)):
        counts, _ = np.histogram(s[mask], bins=edges)
        total = max(int(mask.sum()), 1)
        out += [
            {
                "theme": theme,
                "score": round(float(c), 6),
                "class": name,
                "rows": int(n),
                "share": round(n / total, 6),
                "threshold": json_threshold(round(float(threshold), 6)),
            }
            for c, n in zip(centres, counts, strict=True)
        ]
    return out
