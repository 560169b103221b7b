"""Settings out of range stop at ``compose``, in one line, before any stage runs on them.

``dvc exp run -S thresholds.min_recall=1.5`` used to run every stage and fall back to best F1
on every theme. The ``compose`` stage depends on every parameter, so it reruns on any override
and checks each setting that has a range: probabilities and shares in [0, 1], counts at least
1, margins and bounds at least 0. ``None`` passes where the setting documents ``null``; the
early stop's precision may exceed 1, which turns the early stop off.
"""

from __future__ import annotations

import math
from typing import Any

from themetag.errors import InputError

SHARE = ("a probability or share", 0.0, 1.0, False)
COUNT = ("a count", 1, math.inf, True)
NON_NEGATIVE = ("a margin or bound", 0.0, math.inf, False)
POSITIVE = ("a positive number", 0.0, math.inf, False)  # 0 itself is refused below

# key -> (kind, nullable)
RANGES: dict[str, tuple[tuple, bool]] = {
    "thresholds.min_recall": (SHARE, False),
    "thresholds.recall_confidence": (SHARE, False),
    "thresholds.target_precision": (SHARE, False),
    "thresholds.min_precision": (SHARE, False),
    "thresholds.min_batch_positives": (COUNT, False),
    "thresholds.sample_min_positives": (COUNT, False),
    "thresholds.next_batch_rows": (("a count (0: none)", 0, math.inf, True), False),
    "thresholds.cost_ratio": (POSITIVE, False),
    # above 1 is a documented setting: the early stop is never met, so every study runs its budget
    "tuning.early_stop.min_precision": (
        ("a precision (above 1: the early stop never holds)", 0.0, math.inf, False),
        False,
    ),
    "tuning.early_stop.min_recall": (SHARE, False),
    "tuning.n_trials": (COUNT, False),
    "tuning.min_trials": (COUNT, False),
    "tuning.budget": (POSITIVE, True),
    "tuning.timeout": (POSITIVE, True),
    "tuning.race.margin": (NON_NEGATIVE, True),
    "tuning.race.sample_rows": (COUNT, True),
    "tuning.race.extra_trials": (("a count (0: the portfolio alone)", 0, math.inf, True), True),
    "folds.k": (("a count of at least 2", 2, math.inf, True), False),
    "labels.min_positives": (COUNT, False),
    "encoder_probe.rows": (COUNT, False),
    "encoder_probe.min_rows": (COUNT, False),
    "encoder_probe.max_word_pieces": (COUNT, False),
    "encoder_probe.min_gain": (SHARE, False),
    "reuse.max_growth": (NON_NEGATIVE, False),
    "reuse.drop_sd": (NON_NEGATIVE, False),
    "reuse.switch_sd": (NON_NEGATIVE, False),
    "learning_curve.seeds": (COUNT, False),
    "learning_curve.bootstrap": (COUNT, False),
    "learning_curve.interval": (SHARE, False),
    "learning_curve.min_positives": (COUNT, False),
    "learning_curve.min_gain": (NON_NEGATIVE, False),
    "learning_curve.remeasure_growth": (NON_NEGATIVE, False),
    "suggest.batch_rows": (COUNT, False),
    "suggest.random_share": (SHARE, False),
    "suggest.few_positives": (COUNT, False),
    "suggest.prefilter": (COUNT, False),
    "suggest.near_duplicate": (SHARE, False),
    "suggest.max_pool": (COUNT, True),
    "suggest.chunksize": (COUNT, False),
    "review.top_k": (COUNT, False),
    "review.show": (COUNT, False),
    "evaluate.curve_points": (("a count of at least 2", 2, math.inf, True), False),
    "report.examples": (COUNT, False),
    "report.csv_examples": (COUNT, False),
    "report.confusions": (COUNT, False),
    "report.score_bins": (COUNT, False),
}


def _get(params: dict, dotted: str) -> tuple[bool, Any]:
    node: Any = params
    for key in dotted.split("."):
        if not isinstance(node, dict) or key not in node:
            return False, None
        node = node[key]
    return True, node


def _shown(lo: float, hi: float, whole: bool) -> str:
    if hi == math.inf:
        return f">= {lo:g}" + (" (a whole number)" if whole else "")
    return f"[{lo:g}, {hi:g}]"


def check_ranges(params: dict, where: str = "params.yaml") -> None:
    """Raise InputError, in one line naming the key, the value and the range, for the first
    setting out of its range."""
    for key, ((what, lo, hi, whole), nullable) in RANGES.items():
        present, value = _get(params, key)
        if not present or (value is None and nullable):
            continue
        number = isinstance(value, int | float) and not isinstance(value, bool)
        bad = (
            not number
            or (whole and float(value) != int(value))
            or not lo <= value <= hi
            or (value == 0 and (what, lo, hi, whole) == POSITIVE)
        )
        if bad:
            allowed = "> 0" if (what, lo, hi, whole) == POSITIVE else _shown(lo, hi, whole)
            null = " or null" if nullable else ""
            raise InputError(
                f"{where}: {key} = {value!r} is out of range; it is {what}, so set it to a value {allowed}{null} "
                f"(in conf/ or with -S {key}=...)"
            )
