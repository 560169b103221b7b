"""Tune rarely, refit often: per theme, refit the recorded setting or tune again, and why.

With a tuning record (``themetag/tuning/record.py``) that applies, each theme's recorded
candidate and hyper-parameters are refitted on the current folds (and, with ``reuse.challengers``,
its recorded runner-up on another space: the better one is kept), and its out-of-fold scores go
to ``select`` and the thresholds as a tuned winner's would. A theme is tuned again when:

* it is **new** (not in the record);
* the rows, or the theme's positives, **grew** by more than ``reuse.max_growth`` (a share) since
  its setting was tuned: rounds cannot drift for ever;
* its refitted out-of-fold precision **fell** below the recorded one by more than
  ``reuse.drop_sd`` standard errors of their difference (each a precision on about
  ``min_recall x positives / precision`` tagged rows): the bound follows the theme's size, so a
  rare theme's noise is not taken for drift, nor a frequent theme's drift for noise;
* the user asks: ``reuse.retune`` is ``all`` or lists the theme.

A recorded runner-up takes a theme from its setting only when it refits better by more than
``reuse.switch_sd`` bootstrap sds of the paired difference (``switch``): near-ties stay put, so a
round neither follows noise nor reruns the stages downstream of a changed setting for nothing.

Why these should hold beyond the bundled data: hyper-parameters such as C move with the log of
the rows, so a relative growth share bounds how far the data can move from the tuning; and the
tuning cost grows with the rows, so retuning after a fixed share keeps its cost a fixed share of
the rounds' on data of any size (300 rows with 200 added retune every round, when tuning is cheap).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score

from themetag.features.spaces import FoldMatrices
from themetag.modelling.ranking import rank
from themetag.tuning.race import precision_se
from themetag.tuning.trials import oof_scores, policy_score, trial_value

REFIT, TUNE = "refit", "tune"
SWITCH_RESAMPLES = 200  # bootstrap resamples of the paired difference: its sd to about 5%


def retune_asked(settings: dict, theme: str) -> bool:
    asked = settings.get("retune") or []
    return asked == "all" or (isinstance(asked, list) and theme in asked)


def before_refit(entry: dict | None, theme: str, rows: int, positives: int, settings: dict) -> str | None:
    """Why ``theme`` is tuned again without refitting its record, or None (refit it first)."""
    if retune_asked(settings, theme):
        return f"reuse.retune asks ({settings.get('retune')})"
    if entry is None:
        return "new theme (not in the record)"
    share = float(settings["max_growth"])
    grew = rows / max(int(entry["rows"]), 1) - 1
    if grew > share:
        return f"rows grew {grew:.0%} since it was tuned ({entry['rows']} -> {rows}) > reuse.max_growth {share:.0%}"
    grew = positives / max(int(entry["positives"]), 1) - 1
    if grew > share:
        return (
            f"positives grew {grew:.0%} since it was tuned ({entry['positives']} -> {positives}) "
            f"> reuse.max_growth {share:.0%}"
        )
    return None


def contenders(entry: dict, costly: set[str], settings: dict) -> list[dict]:
    """The recorded runners-up refitted beside the theme's setting (``reuse.challengers``, cheap
    families only: a forest's refit costs as much as the rest of a round)."""
    cheap = [c for c in entry.get("challengers", []) if c["family"] not in costly]
    return cheap[: int(settings.get("challengers", 0))]


def paired_sd(y: np.ndarray, a: np.ndarray, b: np.ndarray, figure: str, min_recall: float, seed: int = 0) -> float:
    """The bootstrap sd of ``figure`` on scores ``b`` less ``figure`` on scores ``a``, the rows
    resampled alike for both: the two settings' out-of-fold scores are fitted on the same folds
    and rank the same rows much alike, so their difference is far less noisy than either figure."""
    rng = np.random.default_rng(seed)
    score = (lambda t, s: policy_score(t, s, min_recall)) if figure == "objective" else average_precision_score
    diffs = []
    for _ in range(SWITCH_RESAMPLES):
        i = rng.integers(0, len(y), len(y))
        if y[i].any():
            diffs.append(score(y[i], b[i]) - score(y[i], a[i]))
    return float(np.std(diffs, ddof=1)) if len(diffs) > 1 else math.inf


def switch(
    record: str, refits: dict[str, dict], y: np.ndarray, criterion: str, min_recall: float, switch_sd: float
) -> tuple[str, dict | None]:
    """Which refit keeps the theme, and the evidence when a runner-up ranked above the record:
    the runner-up that ranks first takes the theme only when its lead on the criterion's figure
    exceeds ``switch_sd`` sds of the paired difference (``paired_sd``); otherwise the record stays.

    ``refits`` maps each candidate to ``{"figures": {...}, "oof": scores}``, the record's among them."""
    best = max(refits, key=lambda n: (rank(refits[n]["figures"], criterion), n == record))
    if best == record:
        return record, None
    figure = "objective" if criterion == "objective" else "average_precision"
    lead = refits[best]["figures"][figure] - refits[record]["figures"][figure]
    sd = paired_sd(y, refits[record]["oof"], refits[best]["oof"], figure, min_recall)
    took = lead > switch_sd * sd
    evidence = {"runner_up": best, "figure": figure, "lead": round(lead, 6), "sd": round(sd, 6), "switched": took}
    return (best if took else record), evidence


def drop_bound(recorded: float, now: float, positives: int, min_recall: float, sd: float) -> float:
    """How far a refitted precision may fall below the recorded one before the theme is tuned
    again: ``sd`` standard errors of their difference, each a precision on the rows the rule tags
    (the record's is an estimate too, and the best of its trials: a little high)."""
    return sd * math.hypot(precision_se(recorded, positives, min_recall), precision_se(now, positives, min_recall))


def refit_check(
    entry: dict, value: float, positives: int, min_recall: float, settings: dict
) -> tuple[float, str | None]:
    """The drop bound, and why the refitted theme is tuned again (its precision fell clearly)
    or None (kept).

    The figures compared are precisions: the objective's recall bonus, paid only at precision
    1.0, is left out, or a refit at precision 0.99 would seem to fall by the whole bonus."""
    recorded, now = min(float(entry["value"]), 1.0), min(value, 1.0)
    bound = drop_bound(recorded, now, positives, min_recall, float(settings["drop_sd"]))
    fell = recorded - now
    if fell > bound:
        return bound, (
            f"refitted precision {now:.3f} fell {fell:.3f} below the record's {recorded:.3f} "
            f"(> reuse.drop_sd {settings['drop_sd']} standard errors of the difference = {bound:.3f})"
        )
    return bound, None


def after_refit(entry: dict, value: float, positives: int, min_recall: float, settings: dict) -> str | None:
    """Why the refitted theme is tuned again, or None (``refit_check`` without its bound)."""
    return refit_check(entry, value, positives, min_recall, settings)[1]


def refit_theme(
    theme: str,
    family_conf: dict,
    best: dict[str, Any],
    y: np.ndarray,
    seed: int,
    tuning: dict,
    candidate: str = "",
    *,
    mats: FoldMatrices,
) -> dict[str, Any]:
    """The recorded setting's out-of-fold scores on the current folds, its figures, and its fold
    models: with ``final.model: bag`` they are the models that tag, so train_final need not fit
    them again."""
    start = time.perf_counter()
    models: list = []
    oof = oof_scores(family_conf, best, y, mats, seed, models)
    value = trial_value(
        tuning.get("objective", "pooled"), y, oof, mats.valid_idx, float(tuning["early_stop"]["min_recall"])
    )
    ap = float(average_precision_score(y, oof)) if y.any() else math.nan
    return {
        "theme": theme,
        "candidate": candidate,
        "oof": oof,
        "value": float(value),
        "average_precision": ap,
        "seconds": time.perf_counter() - start,
        "models": models,
    }
