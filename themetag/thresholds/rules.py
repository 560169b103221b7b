"""Threshold rules, chosen by name (``thresholds.rule``), as the pruner is.

Each rule turns one theme's out-of-fold labels and scores into a threshold, by one exact sweep
(``themetag/thresholds/pr_sweep.py``). ``precision_first`` is the default; the others are what users of
precision-first tagging ask for:

* ``precision_first``: the highest precision whose recall is acceptable (``min_recall``, with the
  ``recall_confidence`` bound over ``next_batch_rows`` rows, and at least ``min_batch_positives``
  positives); ties and precision 1.0 go to recall.
* ``fixed_precision``: the highest recall whose out-of-fold precision is at least
  ``target_precision``; ties go to the higher precision.
* ``cost_ratio``: the lowest expected cost, ``cost_ratio`` x false positives + false negatives
  (a wrong tag costs ``cost_ratio`` missed ones). When tagging nothing costs least, the theme is
  not tagged.

A rule whose target cannot be met hands over to ``fallback`` (best_f1 or never); either way the
theme is flagged (``met_target`` false). Editing this file reruns ``thresholds`` and what follows,
never the tuning, which compares candidates with ``pr_sweep.precision_first`` at
``tuning.early_stop.min_recall`` whatever the rule.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from themetag.errors import InputError
from themetag.thresholds.pr_sweep import Choice, curve, f1_of, fallback_choice, precision_first


def _precision_first(y: np.ndarray, s: np.ndarray, conf: dict, next_positives: float) -> Choice:
    return precision_first(y, s, conf["min_recall"], conf["recall_confidence"], conf["fallback"], next_positives)


def _fixed_precision(y: np.ndarray, s: np.ndarray, conf: dict, next_positives: float) -> Choice:
    if int(np.sum(y)) == 0:
        return Choice(float("inf"), 0.0, 0.0, 0.0, False, "no_positives")
    precision, recall, thresholds = curve(np.asarray(y).astype(int), np.asarray(s, dtype=float))
    f1 = f1_of(precision, recall)
    ok = precision >= float(conf["target_precision"]) - 1e-12
    if not ok.any():
        return fallback_choice(conf["fallback"], precision, recall, thresholds, f1)
    idx = np.flatnonzero(ok)
    best = idx[np.lexsort((precision[idx], recall[idx]))[-1]]  # recall first, then precision
    return Choice(
        float(thresholds[best]), float(precision[best]), float(recall[best]), float(f1[best]), True, "fixed_precision"
    )


def _cost_ratio(y: np.ndarray, s: np.ndarray, conf: dict, next_positives: float) -> Choice:
    y = np.asarray(y).astype(int)
    n_pos = int(y.sum())
    if n_pos == 0:
        return Choice(float("inf"), 0.0, 0.0, 0.0, False, "no_positives")
    precision, recall, thresholds = curve(y, np.asarray(s, dtype=float))
    tp = recall * n_pos
    fp = np.divide(tp, precision, out=np.zeros_like(tp), where=precision > 0) - tp
    cost = float(conf["cost_ratio"]) * fp + (n_pos - tp)
    best = int(np.lexsort((recall, -cost))[-1])  # lowest cost, then the higher recall
    if cost[best] >= n_pos:  # tagging nothing costs n_pos missed rows: no threshold beats it
        return Choice(float("inf"), 0.0, 0.0, 0.0, False, "cost_ratio_tag_nothing")
    f1 = f1_of(precision, recall)
    return Choice(
        float(thresholds[best]), float(precision[best]), float(recall[best]), float(f1[best]), True, "cost_ratio"
    )


RULES: dict[str, Callable[[np.ndarray, np.ndarray, dict, float], Choice]] = {
    "precision_first": _precision_first,
    "fixed_precision": _fixed_precision,
    "cost_ratio": _cost_ratio,
}


def choose(y: np.ndarray, s: np.ndarray, conf: dict) -> Choice:
    """Apply ``conf['rule']``; the next batch's positives follow the theme's prevalence in ``y``."""
    name = conf.get("rule", "precision_first")
    if name not in RULES:
        raise InputError(f"params.yaml: thresholds.rule={name!r}; use one of {', '.join(RULES)} (conf/thresholds/)")
    return RULES[name](y, s, conf, next_batch_positives(y, conf))


def next_batch_positives(y: np.ndarray, conf: dict) -> float:
    """Positives the recall bound expects in the next batch: ``next_batch_rows`` x prevalence,
    but at least ``min_batch_positives``.

    Without the floor a theme with 2 expected positives per batch would be held to recall 0.5
    on those 2, which only a recall near 0.9 out of fold can promise, paid for in precision.
    Nobody judges a recall on so few rows; the floor is the count at which one does.
    """
    rows = float(conf.get("next_batch_rows", 0))
    if rows <= 0:
        return 0.0
    return max(rows * float(np.mean(y)), float(conf.get("min_batch_positives", 0)))
