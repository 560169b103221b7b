"""What a theme's forecast means for labelling: at target, rising or flat, and about how many
positives it needs to meet the early-stop rule.

The rule is a precision at a recall (``tuning.early_stop``), the forecast an average precision.
The two are mapped by the line through the theme's own curve points (precision at the rule's
recall against AP, over every subset and seed), its slope held within [0.5, 2] and 1 when the
points are too close together to tell: a theme's precision at a fixed recall moves with its AP,
but not one for one, and a steep or flat fit on a few noisy points would be extrapolation.
"""

from __future__ import annotations

import numpy as np

AT_TARGET, RISING, FLAT, TOO_FEW = "at target", "rising", "flat", "too few positives to measure"
SLOPE = (0.5, 2.0)


def target_ap(
    ap: np.ndarray, precision: np.ndarray, ap_now: float, precision_now: float, min_precision: float
) -> tuple[float, float]:
    """The AP at which the theme's precision at the rule's recall reaches ``min_precision``, on
    the line of the points' slope through today's figures; and that slope."""
    slope = 1.0
    if np.ptp(ap) >= 0.02:
        slope = float(np.clip(np.polyfit(ap, precision, 1)[0], *SLOPE))
    return ap_now + (min_precision - precision_now) / slope, slope


def verdict(
    precision_now: float,
    recall_met: bool,
    min_precision: float,
    ceiling_high: float,
    target: float,
    gain_high: float,
    min_gain: float,
) -> str:
    """*at target* when today's out-of-fold figure meets the rule; *flat* when even the upper
    bound of the fitted ceiling stays below the AP the rule needs **and** the upper bound of the
    forecast gain at the furthest horizon is below ``min_gain``; else *rising*.

    The ceiling alone is not enough: on semeval25 and mams_acsa at 500 labelled rows, themes whose
    ceiling stayed below the rule still gained a median 0.026 and 0.048 test AP from 800 more
    random labels (bench/results/learning_forecast/). Such a theme is rising, towards a ceiling
    below the rule: "not within 2x" says so; flat means more labels are not forecast to move it."""
    if recall_met and precision_now >= min_precision:
        return AT_TARGET
    if ceiling_high < target and gain_high < min_gain:
        return FLAT
    return RISING
