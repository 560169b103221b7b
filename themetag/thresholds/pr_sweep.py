"""The precision-recall sweep that tuning and every threshold rule share, and confusion counts.

For each candidate threshold t (every distinct score, in one sort), a row is tagged when
score >= t. ``precision_first`` is the core of the default rule and of the tuning objective:
among thresholds whose recall is acceptable, the highest precision; ties go to the higher
recall. So once precision 1.0 is reachable, recall is pushed as high as it goes while precision
stays 1.0. No grid, no search: the optimum is exact.

"Acceptable" means recall >= ``min_recall``. With ``recall_confidence`` > 0 it means the
one-sided Wilson lower bound of recall is >= ``min_recall``, so that the recall asked for holds
on the user's next batch, not only on the folds. Recall measured on a next batch with
``next_positives`` positives varies for two reasons: the out-of-fold estimate (``n_pos``
positives) and the batch itself. So the bound uses the effective count
``1 / (1/n_pos + 1/next_positives)``; with ``next_positives`` 0 it is ``n_pos`` alone.

Tuning imports this module, never the rules' file (``themetag/thresholds/rules.py``), so that
editing a rule reruns only the stages from ``thresholds`` on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from statistics import NormalDist

import numpy as np

from themetag.errors import InputError


@dataclass
class Choice:
    threshold: float
    precision: float
    recall: float
    f1: float
    met_target: bool  # the rule's own target was reachable (else a fallback decided)
    rule: str  # the rule that decided, or the fallback used

    def as_dict(self) -> dict:
        return asdict(self)


def wilson_lower(successes: np.ndarray, n: float, confidence: float) -> np.ndarray:
    """One-sided Wilson score lower bound of a proportion successes / n."""
    if confidence <= 0:
        return np.asarray(successes, dtype=float) / n
    z = NormalDist().inv_cdf(confidence)  # the standard library's: scipy.stats cost every stage ~0.8 s to import
    p = np.asarray(successes, dtype=float) / n
    centre = p + z * z / (2 * n)
    margin = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - margin) / (1 + z * z / n)


def curve(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def f1_of(precision: np.ndarray, recall: np.ndarray) -> np.ndarray:
    total = precision + recall
    return np.divide(2 * precision * recall, total, out=np.zeros_like(precision), where=total > 0)


def effective_positives(n_pos: int, next_positives: float = 0.0) -> float:
    return 1.0 / (1.0 / n_pos + 1.0 / next_positives) if next_positives > 0 else float(n_pos)


def fallback_choice(
    fallback: str, precision: np.ndarray, recall: np.ndarray, thresholds: np.ndarray, f1: np.ndarray
) -> Choice:
    """When a rule's target cannot be met: the best-F1 threshold, or never tag."""
    if fallback == "never":
        return Choice(float("inf"), 0.0, 0.0, 0.0, False, "fallback_never")
    if fallback == "best_f1":
        best = int(np.argmax(f1))
        return Choice(
            float(thresholds[best]),
            float(precision[best]),
            float(recall[best]),
            float(f1[best]),
            False,
            "fallback_best_f1",
        )
    raise InputError(f"params.yaml: thresholds.fallback={fallback!r}; use best_f1 or never (conf/thresholds/)")


def precision_first(
    y: np.ndarray,
    s: np.ndarray,
    min_recall: float,
    recall_confidence: float = 0.0,
    fallback: str = "best_f1",
    next_positives: float = 0.0,
) -> Choice:
    """The highest precision at an acceptable recall, on labels ``y`` (0/1) and scores ``s``."""
    y = np.asarray(y).astype(int)
    s = np.asarray(s, dtype=float)
    n_pos = int(y.sum())
    if n_pos == 0:
        return Choice(float("inf"), 0.0, 0.0, 0.0, False, "no_positives")
    precision, recall, thresholds = curve(y, s)
    n_eff = effective_positives(n_pos, next_positives)
    ok = wilson_lower(recall * n_eff, n_eff, recall_confidence) >= min_recall - 1e-12
    f1 = f1_of(precision, recall)
    if not ok.any():
        return fallback_choice(fallback, precision, recall, thresholds, f1)
    idx = np.flatnonzero(ok)
    best = idx[np.lexsort((recall[idx], precision[idx]))[-1]]  # precision first, then recall
    return Choice(
        float(thresholds[best]), float(precision[best]), float(recall[best]), float(f1[best]), True, "precision_first"
    )


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
