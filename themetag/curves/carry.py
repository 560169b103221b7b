"""A theme's learning curve carried from the round that measured it to today, instead of measured
again: the refits on subsets cost a labelling round about as much as every other stage together.

A round that appends rows changes every theme's data, so by the cache key alone every curve would
be refitted each round. A curve measured at ``N`` rows already forecasts the figure up to 2x
``N``, so it is kept (carried) while all of these hold, and measured again as soon as one fails:

* the theme's setting (candidate, parameters, seed), the curve settings, the early-stop rule and
  the curve code are the ones it was measured with;
* its first ``N`` rows still carry the labels they had (rows were only appended: a label fix, a
  removed row or a reordered file changes them);
* the rows have grown by at most ``learning_curve.remeasure_growth`` of ``N`` (0: every round);
* today's out-of-fold average precision, measured anyway by the selection, lies inside the curve's
  interval at today's multiple of ``N``: each round checks the forecast, and a curve it
  contradicts is measured again.

A carried curve keeps its points, fit and forecasts (at multiples of ``N``) and gains a
``today`` block: today's rows, positives, average precision and rule precision, and what the
curve forecast for them. Its verdict is decided again on today's rule figures.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score

from themetag.curves.verdict import TOO_FEW
from themetag.fingerprint import fingerprint

NOT_KEYED = ("remeasure_growth",)  # settings a carried curve does not depend on


def measured_key(entry: dict, y: np.ndarray, settings: dict, early_stop: dict, code: str) -> str:
    """What a curve was measured on, without the folds: matched against today's first rows."""
    kept = {k: v for k, v in settings.items() if k not in NOT_KEYED}
    return fingerprint(entry, y, kept, early_stop, code)


def carry(
    last: dict | None,
    entry: dict,
    y: np.ndarray,
    oof: np.ndarray,
    settings: dict,
    early_stop: dict,
    code: str,
) -> dict[str, Any] | None:
    """``last`` (the theme's curve from the last run) brought to today, or None: measure again."""
    from themetag.curves.theme_curve import decide, rule_precision

    if not last or last.get("verdict") == TOO_FEW or "measured" not in last or "curve" not in last:
        return None
    rows = int(last["measured"]["rows"])
    growth = float(settings.get("remeasure_growth") or 0.0)
    if not rows < len(y) <= rows * (1 + growth):
        return None
    if last["measured"]["key"] != measured_key(entry, y[:rows], settings, early_stop, code):
        return None
    x = len(y) / rows
    c = last["curve"]
    low, forecast, high = (float(np.interp(x, c["grid"], c[k])) for k in ("low", "curve", "high"))
    ap = float(average_precision_score(y, oof))
    if not low <= ap <= high:
        return None
    precision, met = rule_precision(y, oof, float(early_stop["min_recall"]))
    now, needed = decide(
        precision, met, last["fit"], last["target_average_precision"], c, last["positives"], settings, early_stop
    )
    return {
        **last,
        "verdict": now,
        "positives_needed": needed,
        "today": {
            "rows": len(y),
            "positives": int(y.sum()),
            "average_precision": ap,
            "rule_precision": precision,
            "recall_met": met,
            "forecast": {"average_precision": forecast, "low": low, "high": high},
        },
    }
