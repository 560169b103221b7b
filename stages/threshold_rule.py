"""The threshold rule: the highest precision at an acceptable recall, by one exact sweep.

For each candidate threshold t (every distinct score, in one sort), a row
is tagged when score >= t. Among thresholds whose recall is acceptable, take the highest
precision; ties go to the higher recall. So once precision 1.0 is reachable, recall is pushed
as high as it goes while precision stays 1.0. No grid, no search: the optimum is exact.

"Acceptable" means recall >= ``min_recall``. With ``recall_confidence`` > 0 it means the
one-sided Wilson lower bound of recall is >= ``min_recall``, so that the recall asked for holds
on the user's next batch, not only on the folds. Recall measured on a next batch with
``next_positives`` positives varies for two reasons: the out-of-fold estimate (``n_pos``
positives) and the batch itself. So the bound uses the effective count
``1 / (1/n_pos + 1/next_positives)``; with ``next_positives`` 0 it is ``n_pos`` alone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.stats import norm


@dataclass
class Choice:
    threshold: float
    precision: float
    recall: float
    f1: float
    met_min_recall: bool
    rule: str  # "precision_first" or the fallback used

    def as_dict(self) -> dict:
        return asdict(self)


def wilson_lower(successes: np.ndarray, n: float, confidence: float) -> np.ndarray:
    """One-sided Wilson score lower bound of a proportion successes / n."""
    if confidence <= 0:
        return np.asarray(successes, dtype=float) / n
    z = norm.ppf(confidence)
    p = np.asarray(successes, dtype=float) / n
    centre = p + z * z / (2 * n)
    margin = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - margin) / (1 + z * z / n)


def _curve(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision and recall at every distinct score as threshold, thresholds increasing.

    The points of ``sklearn.metrics.precision_recall_curve`` without its final (1, 0) point
    (tests check they are equal). Written out because the rule runs once per fold in every
    trial, where sklearn's input validation cost ten times the sweep itself.
    """
    order = np.argsort(s, kind="mergesort")[::-1]
    s_desc = s[order]
    last = np.r_[np.flatnonzero(np.diff(s_desc)), len(s_desc) - 1]  # last row of each distinct score
    tps = np.cumsum(y[order])[last]
    precision = tps / (last + 1.0)
    recall = tps / tps[-1]
    return precision[::-1], recall[::-1], s_desc[last][::-1]


def effective_positives(n_pos: int, next_positives: float = 0.0) -> float:
    return 1.0 / (1.0 / n_pos + 1.0 / next_positives) if next_positives > 0 else float(n_pos)


def choose(
    y: np.ndarray,
    s: np.ndarray,
    min_recall: float,
    recall_confidence: float = 0.0,
    fallback: str = "best_f1",
    next_positives: float = 0.0,
) -> Choice:
    """Apply the rule to labels ``y`` (0/1) and scores ``s``."""
    y = np.asarray(y).astype(int)
    s = np.asarray(s, dtype=float)
    n_pos = int(y.sum())
    if n_pos == 0:
        return Choice(float("inf"), 0.0, 0.0, 0.0, False, "no_positives")
    precision, recall, thresholds = _curve(y, s)
    n_eff = effective_positives(n_pos, next_positives)
    ok = wilson_lower(recall * n_eff, n_eff, recall_confidence) >= min_recall - 1e-12
    f1 = np.divide(
        2 * precision * recall, precision + recall, out=np.zeros_like(precision), where=(precision + recall) > 0
    )
    if ok.any():
        idx = np.flatnonzero(ok)
        best = idx[np.lexsort((recall[idx], precision[idx]))[-1]]  # precision first, then recall
        rule = "precision_first"
    elif fallback == "never":
        return Choice(float("inf"), 0.0, 0.0, 0.0, False, "fallback_never")
    elif fallback == "best_f1":
        best = int(np.argmax(f1))
        rule = "fallback_best_f1"
    else:
        raise ValueError(f"thresholds.fallback={fallback!r}; use best_f1 or never")
    return Choice(
        float(thresholds[best]), float(precision[best]), float(recall[best]), float(f1[best]), bool(ok.any()), rule
    )


def policy_score(y: np.ndarray, s: np.ndarray, min_recall: float) -> float:
    """Tuning objective: precision at the rule's threshold, plus recall once precision is 1.0.

    Using the rule itself as the objective keeps tuning, selection and thresholds aligned.
    """
    c = choose(y, s, min_recall, 0.0, "best_f1")
    if not c.met_min_recall:
        return 0.0
    return c.precision + (c.recall if c.precision >= 1.0 else 0.0)


def confusion_at(y: np.ndarray, s: np.ndarray, threshold: float) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives) when tagging score >= threshold."""
    y = np.asarray(y).astype(bool)
    pred = np.asarray(s) >= threshold
    return int((pred & y).sum()), int((pred & ~y).sum()), int((~pred & y).sum())


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f
