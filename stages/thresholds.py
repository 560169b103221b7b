"""Stage thresholds: per theme, the rule named by ``thresholds.rule`` on the selected out-of-fold scores.

It also makes the honest estimate: for each fold k, the threshold is chosen on the other
folds' out-of-fold scores and applied to fold k; the counts are pooled over folds. The plain
figures at the chosen threshold are optimistic (the threshold saw those rows); these are not,
as far as the threshold goes (model and hyper-parameters were still chosen on all folds).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from themetag.atomic import write_json
from themetag.errors import run_cli
from themetag.pipeline import paths
from themetag.pipeline.artifacts import load_folds
from themetag.pipeline.params import load_params
from themetag.thresholds.pr_sweep import Choice, confusion_at, prf
from themetag.thresholds.rules import choose


def nested_estimate(y: np.ndarray, s: np.ndarray, fold: np.ndarray, rule: dict) -> dict:
    tp = fp = fn = 0
    per_fold = []
    for k in range(int(fold.max()) + 1):
        inner = fold != k
        c = choose(y[inner], s[inner], rule)
        a, b, d = confusion_at(y[~inner], s[~inner], c.threshold)
        tp, fp, fn = tp + a, fp + b, fn + d
        per_fold.append(c.threshold)
    p, r, f = prf(tp, fp, fn)
    return {
        "precision": p,
        "recall": r,
        "f1": f,
        "support": int(y.sum()),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "fold_thresholds": per_fold,
    }


def main() -> None:
    params = load_params()
    rule = params["thresholds"]
    labels = pd.read_csv(paths.LABELS, keep_default_na=False)
    oof = pd.read_csv(paths.SELECTED_OOF)
    fold, themes = load_folds()
    out = {}
    for theme in themes:
        y, s = labels[theme].to_numpy(dtype=int), oof[theme].to_numpy(dtype=float)
        c = choose(y, s, rule)
        nested = nested_estimate(y, s, fold, rule)
        # Precision-first users take a tag at its word: a theme whose honest (nested) precision is
        # below min_precision is flagged, and with fallback never it is not tagged at all.
        low = nested["precision"] < rule["min_precision"]
        if low and rule["fallback"] == "never":
            c = Choice(float("inf"), 0.0, 0.0, 0.0, c.met_target, "below_min_precision")
        out[theme] = {**c.as_dict(), "below_min_precision": bool(low), "support": int(y.sum()), "nested": nested}
        flag = "" if c.met_target else f"  [{rule.get('rule', 'precision_first')} target not met: {c.rule}]"
        if low:
            flag += f"  [nested precision {nested['precision']:.3f} < min_precision {rule['min_precision']}]"
        print(f"thresholds {theme}: t={c.threshold:.4g} oof P={c.precision:.3f} R={c.recall:.3f}{flag}")
    write_json(paths.THRESHOLDS, {"rule": rule, "themes": out})


if __name__ == "__main__":
    run_cli(main)
