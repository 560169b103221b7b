"""Precision, recall and F1 per theme at fixed thresholds, with micro and macro averages."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from themetag.thresholds.pr_sweep import confusion_at, prf


def tagged(scores: pd.DataFrame, thresholds: dict[str, float], themes: list[str]) -> np.ndarray:
    """rows x themes, True where a theme is tagged: its score is at or above its threshold. A
    missing score (an empty text) never tags. Every place that tags uses this."""
    S = scores[themes].to_numpy(dtype=float)
    return S >= np.array([thresholds[t] for t in themes], dtype=float)  # NaN >= x is False, even for x = -inf


def theme_metrics(y: np.ndarray, s: np.ndarray, threshold: float) -> dict:
    tp, fp, fn = confusion_at(y, s, threshold)
    p, r, f = prf(tp, fp, fn)
    return {"precision": p, "recall": r, "f1": f, "support": int(np.asarray(y).sum()), "tp": tp, "fp": fp, "fn": fn}


def with_averages(per_theme: dict[str, dict]) -> dict:
    """Add micro (pooled counts) and macro (mean over themes) precision, recall and F1."""
    tp = sum(m["tp"] for m in per_theme.values())
    fp = sum(m["fp"] for m in per_theme.values())
    fn = sum(m["fn"] for m in per_theme.values())
    p, r, f = prf(tp, fp, fn)
    macro = {k: float(np.mean([m[k] for m in per_theme.values()])) for k in ("precision", "recall", "f1")}
    return {"themes": per_theme, "micro": {"precision": p, "recall": r, "f1": f}, "macro": macro}


def evaluate_split(labels: pd.DataFrame, scores: pd.DataFrame, thresholds: dict[str, float], themes: list[str]) -> dict:
    return with_averages(
        {
            t: theme_metrics(labels[t].to_numpy(dtype=int), scores[t].to_numpy(dtype=float), thresholds[t])
            for t in themes
        }
    )


def json_threshold(t: float) -> float | None:
    """JSON has no infinity: a theme that is never tagged gets a null threshold."""
    return None if math.isinf(t) else t
