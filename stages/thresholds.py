"""Stage thresholds: per theme, the rule named by ``thresholds.rule`` on the selected out-of-fold scores.

It also makes the honest estimate: for each fold k, the threshold is chosen on the other
folds' out-of-fold scores and applied to fold k; the counts are pooled over folds. The plain
figures at the chosen threshold are optimistic (the threshold saw those rows); these are not,
as far as the threshold goes (model and hyper-parameters were still chosen on all folds).

Rows the model picked for labelling (``data/picked.csv``, via ``artifacts/row_origin.csv``) are
not a sample of new data, so both the threshold and its estimates use the other rows, as long as
they hold ``thresholds.sample_min_positives`` of the theme's positives; otherwise every row, and
the theme is marked as resting on model-picked rows (``metrics/report.md`` says so).
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


def estimate_rows(y: np.ndarray, model_picked: np.ndarray, min_positives: int) -> tuple[np.ndarray, dict]:
    """The rows a theme's threshold and estimates rest on, and a record of that choice."""
    sampled = ~model_picked
    if not model_picked.any() or y[sampled].sum() >= min_positives:
        use, rests = sampled, False
    else:
        use, rests = np.ones_like(sampled), True
    record = {
        "rows": int(use.sum()),
        "positives": int(y[use].sum()),
        "model_picked_rows": int(model_picked.sum()),
        "rests_on_model_picked": rests,
    }
    return use, record


def main() -> None:
    params = load_params()
    rule = params["thresholds"]
    labels = pd.read_csv(paths.LABELS, keep_default_na=False)
    oof = pd.read_csv(paths.SELECTED_OOF)
    model_picked = pd.read_csv(paths.ROW_ORIGIN)["model_picked"].to_numpy(dtype=bool)
    fold, themes = load_folds()
    out = {}
    for theme in themes:
        y, s = labels[theme].to_numpy(dtype=int), oof[theme].to_numpy(dtype=float)
        use, rows = estimate_rows(y, model_picked, int(rule["sample_min_positives"]))
        c = choose(y[use], s[use], rule)
        nested = nested_estimate(y[use], s[use], fold[use], rule)
        # Precision-first users take a tag at its word: a theme whose honest (nested) precision is
        # below min_precision is flagged, and with fallback never it is not tagged at all.
        low = nested["precision"] < rule["min_precision"]
        if low and rule["fallback"] == "never":
            c = Choice(float("inf"), 0.0, 0.0, 0.0, c.met_target, "below_min_precision")
        out[theme] = {**c.as_dict(), "below_min_precision": bool(low), "support": int(y.sum()), "nested": nested}
        out[theme]["estimate_rows"] = rows
        flag = "" if c.met_target else f"  [{rule.get('rule', 'precision_first')} target not met: {c.rule}]"
        if low:
            flag += f"  [nested precision {nested['precision']:.3f} < min_precision {rule['min_precision']}]"
        print(f"thresholds {theme}: t={c.threshold:.4g} oof P={c.precision:.3f} R={c.recall:.3f}{flag}")
    write_json(paths.THRESHOLDS, {"rule": rule, "themes": out})


if __name__ == "__main__":
    run_cli(main)
