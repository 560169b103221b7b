"""One theme's learning curve, end to end: the refits on subsets (one pool task per share and
seed, so a costly family's refits spread over the cores), then the bootstrap, the forecast and
its verdict (``summarise``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score

from themetag.curves.forecast import bootstrap_points, ceil_int, first_reaching, forecast
from themetag.curves.points import nested_order, subset_oof
from themetag.curves.verdict import RISING, TOO_FEW, target_ap, verdict
from themetag.features.spaces import FoldMatrices
from themetag.fingerprint import file_sha256, fingerprint
from themetag.thresholds.pr_sweep import precision_first


def code_digest() -> str:
    """A digest of the code a curve's figures come from: part of a theme's cache key, so that a
    code change remeasures every curve rather than keeping figures the new code would not give."""
    import themetag.curves.carry
    import themetag.curves.forecast
    import themetag.curves.points
    import themetag.curves.verdict
    import themetag.modelling.families
    import themetag.thresholds.pr_sweep

    modules = (
        themetag.curves.carry,
        themetag.curves.forecast,
        themetag.curves.points,
        themetag.curves.verdict,
        themetag.modelling.families,
        themetag.thresholds.pr_sweep,
    )
    return fingerprint([file_sha256(__file__), *(file_sha256(m.__file__) for m in modules)])


def shares(settings: dict) -> list[float]:
    """The refitted shares (below 1.0: the selection itself is the point at 1.0)."""
    return sorted({float(f) for f in settings["fractions"] if 0 < float(f) < 1.0})


def measurable(y: np.ndarray, settings: dict) -> bool:
    return int(y.sum()) >= int(settings["min_positives"])


def fit_point(
    theme: str, fraction: float, subset_seed: int, family_conf: dict, params: dict, seed: int, y: np.ndarray, *, mats
) -> tuple[str, float, np.ndarray]:
    """The out-of-fold scores of the setting refitted on ``fraction`` of each fold's training
    rows (the prefix of subset seed ``subset_seed``'s stratified order)."""
    keep = np.zeros(len(y), dtype=bool)
    keep[nested_order(y, 1000 + subset_seed)[: max(1, round(fraction * len(y)))]] = True
    return theme, fraction, subset_oof(family_conf, params, seed, y, mats, keep)


def rule_precision(y: np.ndarray, scores: np.ndarray, min_recall: float) -> tuple[float, bool]:
    """The precision-first rule's precision at ``min_recall`` on pooled scores (no margin), and
    whether the recall was reached: the figure the early-stop rule reads."""
    c = precision_first(y, scores, min_recall, 0.0, "best_f1")
    return (c.precision if c.met_target else 0.0), bool(c.met_target)


def decide(
    precision: float, met: bool, fit: dict, target: float, curve: dict, positives: int, settings: dict, early_stop: dict
) -> tuple[str, int | None]:
    """The verdict on the rule's figures (``precision``, ``met``) against the fitted curve, and,
    when rising, about how many positives reach ``target`` (None: not within the last horizon).
    ``fit``: its ``ceiling`` and ``gain`` (low, point, high); ``curve``: its ``grid`` and ``curve``."""
    now = verdict(
        precision,
        met,
        float(early_stop["min_precision"]),
        fit["ceiling"][2],
        target,
        fit["gain"][2],
        float(settings["min_gain"]),
    )
    if now != RISING:
        return now, None
    reach = first_reaching(curve["grid"], curve["curve"], target, max(float(h) for h in settings["horizons"]))
    return now, None if reach is None else ceil_int(reach * positives)


def unshared_test_noise(
    xs: np.ndarray, boot: np.ndarray, pairs: list[tuple[float, np.ndarray]], ap: np.ndarray, horizon: float
) -> dict[str, float]:
    """What a forecast added to today's **test** AP must also allow for, besides its gain's own
    interval (``labels_pay.to_test_level``):

    - ``paired_ratio``: the later figure is read on the same test rows as today's, so only part of
      the test set's noise enters their difference. The part is measured on the out-of-fold rows: the
      bootstrap sd of (AP at 1x less AP at the share nearest 1/horizon), over the sd of AP at 1x;
    - ``model_sd``: the later figure is one model's, not a mean over subsets: the sd between the
      subset seeds' AP at each share, pooled over shares (0 with one seed per share).

    On bench.learning_forecast (five runs on mams_acsa, semeval25 and goemotions) the gain's 80%
    interval alone covered 25-60% of the measured test APs; with both, 70-90% in 10 of 13 cells
    (docs/labelling.md)."""
    below = [i for i, f in enumerate(xs) if f < 1.0]
    j = min(below, key=lambda i: abs(xs[i] - 1.0 / horizon))
    level = float(boot[:, -1].std(ddof=1))
    ratio = float((boot[:, -1] - boot[:, j]).std(ddof=1) / level) if level > 0 else 1.0
    seeds = [ap[[k for k, (g, _) in enumerate(pairs) if g == f]] for f in xs[below]]
    spread = [np.var(a, ddof=1) for a in seeds if len(a) > 1]
    # two independent figures differ by sqrt(2) of one's sd; a larger ratio is bootstrap noise on few rows
    return {"paired_ratio": min(ratio, 2.0), "model_sd": float(np.sqrt(np.mean(spread))) if spread else 0.0}


def summarise(
    y: np.ndarray, points: dict[float, list[np.ndarray]], train_rows: list[float], settings: dict, early_stop: dict
) -> dict[str, Any]:
    """The curve's figures from its points (``points[1.0]``: the selection's own out-of-fold
    scores); ``train_rows``: rows and positives a fold model sees at 1.0 (means over folds)."""
    positives = int(y.sum())
    if not measurable(y, settings):
        return {"verdict": TOO_FEW}
    estimate, boot = bootstrap_points(y, points, int(settings["bootstrap"]), int(settings["seed"]))
    xs = np.asarray(sorted(points))
    horizons = [float(h) for h in settings["horizons"]]
    fc = forecast(xs, estimate, boot, horizons, settings["forecast"], float(settings["interval"]))
    min_recall, min_precision = float(early_stop["min_recall"]), float(early_stop["min_precision"])
    pairs = [(f, s) for f in xs for s in points[f]]
    ap = np.array([average_precision_score(y, s) for _, s in pairs])
    rule = [rule_precision(y, s, min_recall) for _, s in pairs]
    now_precision, now_met = rule[-1]
    target, slope = target_ap(ap, np.array([p for p, _ in rule]), fc["now"], now_precision, min_precision)
    grid, curve = fc["grid"], fc["curve"]
    verdict_now, needed = decide(now_precision, now_met, fc, target, fc, positives, settings, early_stop)
    measured = [
        {
            "fraction": float(f),
            "train_rows": round(float(f * train_rows[0]), 1),
            "train_positives": round(float(f * train_rows[1]), 1),
            "average_precision": float(estimate[i]),
            "rule_precision": float(np.mean([p for (g, _), (p, _) in zip(pairs, rule, strict=True) if g == f])),
        }
        for i, f in enumerate(xs)
    ]
    return {
        "points": measured,
        "forecast": {
            str(h): {
                "positives": ceil_int(h * positives),
                "average_precision": curve[grid.index(h)],
                "low": fc["low"][grid.index(h)],
                "high": fc["high"][grid.index(h)],
                "no_gain": fc["now"],
                # the gain from today alone (today's level is known): the interval to add to a
                # figure measured elsewhere, such as today's test AP
                "gain": [
                    fc["gain_low"][grid.index(h)],
                    curve[grid.index(h)] - fc["now"],
                    fc["gain_high"][grid.index(h)],
                ],
                "test_noise": unshared_test_noise(xs, boot, pairs, ap, h),
            }
            for h in horizons
        },
        "fit": {"method": settings["forecast"], "params": fc["params"], "ceiling": fc["ceiling"], "gain": fc["gain"]},
        "curve": {k: fc[k] for k in ("grid", "curve", "low", "high")},
        "now": {"average_precision": fc["now"], "rule_precision": now_precision, "recall_met": now_met},
        "target_average_precision": target,
        "slope": slope,
        "verdict": verdict_now,
        "positives_needed": needed,
    }


def fold_sizes(y: np.ndarray, mats: FoldMatrices) -> list[float]:
    """Rows and positives a fold model trains on (means over folds)."""
    return [float(np.mean([len(t) for t in mats.train_idx])), float(np.mean([y[t].sum() for t in mats.train_idx]))]
