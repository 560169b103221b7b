"""Stage evaluate: metrics JSON, precision-recall curve data and the results table.

Three sets of figures, each labelled for what it is:

* ``cv``: out-of-fold scores at the chosen thresholds. **Optimistic**: model, hyper-parameters
  and threshold were all chosen on these same folds.
* ``cv_nested``: each fold's threshold chosen on the other folds' out-of-fold scores. Honest
  about the threshold; model and hyper-parameter choice still saw every fold.
* ``test``: the final bundle on data/test.csv, which no choice ever saw (only if it exists).

With a test set, ``recall_audit`` compares each theme's nested recall with its test recall,
each with its binomial standard deviation, and flags a shortfall larger than two standard
deviations of the difference: more than chance explains. A model or threshold that drifts can
cause it, and so can new data unlike the training data, which no model choice fixes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import precision_recall_curve
from tabulate import tabulate

from stages import paths
from stages.atomic import read_json, write_json, write_text, write_with
from stages.bundle import load_bundle
from stages.errors import run_cli
from stages.params import load_params
from stages.scoring import evaluate_split, json_threshold, with_averages


def curve_table(y: np.ndarray, s: np.ndarray, points: int) -> pd.DataFrame:
    keep = ~np.isnan(s)
    precision, recall, thresholds = precision_recall_curve(y[keep], s[keep])
    frame = pd.DataFrame({"recall": recall[:-1], "precision": precision[:-1], "threshold": thresholds})
    if len(frame) > points:
        frame = frame.iloc[np.unique(np.linspace(0, len(frame) - 1, points).round().astype(int))]
    return frame.round(6)


def write_curves(folder, labels: pd.DataFrame, scores: pd.DataFrame, themes: list[str], points: int) -> None:
    for t in themes:
        table = curve_table(labels[t].to_numpy(dtype=int), scores[t].to_numpy(dtype=float), points)
        write_with(folder / f"{t}.csv", lambda p, tb=table: tb.to_csv(p, index=False))


def binomial_sd(p: float, n: int) -> float:
    return float(np.sqrt(p * (1 - p) / n)) if n else float("nan")


def recall_audit(metrics: dict, families: dict) -> dict:
    """Nested against test recall per theme, flagged beyond 2 sd of the difference; mean per family."""
    themes = {}
    for t, nested in metrics["cv_nested"]["themes"].items():
        test = metrics["test"]["themes"][t]
        sd_n = binomial_sd(nested["recall"], nested["support"])
        sd_t = binomial_sd(test["recall"], test["support"])
        shortfall = nested["recall"] - test["recall"]
        limit = 2 * float(np.sqrt(sd_n**2 + sd_t**2))
        themes[t] = {
            "nested_recall": nested["recall"],
            "nested_sd": sd_n,
            "test_recall": test["recall"],
            "test_sd": sd_t,
            "shortfall": shortfall,
            "flagged": bool(test["support"] > 0 and shortfall > limit),
        }
    by_family: dict[str, list[float]] = {}
    for t, a in themes.items():
        by_family.setdefault(families[t], []).append(a["shortfall"])
    return {
        "themes": themes,
        "families": {f: {"mean_shortfall": float(np.mean(v)), "themes": len(v)} for f, v in by_family.items()},
    }


def warnings_first(metrics: dict, chosen: dict, min_precision: float) -> list[str]:
    """The lines a user must read before trusting the table."""
    out = []
    for t, c in chosen.items():
        if c.get("below_min_precision"):
            nested = metrics["cv_nested"]["themes"][t]["precision"]
            what = "not tagged (fallback never)" if c["rule"] == "below_min_precision" else "tagged anyway (fallback)"
            out.append(
                f"- **{t}**: nested precision {nested:.3f} is below thresholds.min_precision {min_precision}; "
                f"most of its tags would be wrong. {what}."
            )
        if not c["met_target"]:
            out.append(f"- **{t}**: no threshold met the target of thresholds.rule; {c['rule']} decided it.")
    for t, a in metrics.get("recall_audit", {}).get("themes", {}).items():
        if a["flagged"]:
            out.append(
                f"- **{t}**: test recall {a['test_recall']:.3f} is below the nested estimate {a['nested_recall']:.3f} "
                f"by more than 2 sd ({a['nested_sd']:.3f}, {a['test_sd']:.3f}): the test data may differ from "
                "the training data, or the final model's scores drifted from the threshold."
            )
    return out


def results_table(metrics: dict, chosen: dict, families: dict, spaces: dict) -> str:
    has_test = "test" in metrics
    headers = ["theme", "model", "space", "threshold", "CV P*", "CV R*", "nested P", "nested R"]
    headers += ["test P", "test R", "test F1", "support (train/test)"] if has_test else ["F1 (nested)", "support"]
    rows = []
    for t, c in chosen.items():
        cv, nested = metrics["cv"]["themes"][t], metrics["cv_nested"]["themes"][t]
        flag = ("" if c["met_target"] else " !") + (" ?" if c.get("below_min_precision") else "")
        row = [
            t + flag,
            families[t],
            spaces[t],
            f"{c['threshold']:.4g}",
            cv["precision"],
            cv["recall"],
            nested["precision"],
            nested["recall"],
        ]
        if has_test:
            te = metrics["test"]["themes"][t]
            row += [te["precision"], te["recall"], te["f1"], f"{cv['support']}/{te['support']}"]
        else:
            row += [nested["f1"], cv["support"]]
        rows.append(row)
    for avg in ("macro", "micro"):
        row = [
            avg,
            "",
            "",
            "",
            metrics["cv"][avg]["precision"],
            metrics["cv"][avg]["recall"],
            metrics["cv_nested"][avg]["precision"],
            metrics["cv_nested"][avg]["recall"],
        ]
        row += (
            [metrics["test"][avg]["precision"], metrics["test"][avg]["recall"], metrics["test"][avg]["f1"], ""]
            if has_test
            else [metrics["cv_nested"][avg]["f1"], ""]
        )
        rows.append(row)
    notes = [
        "",
        "P = precision, R = recall. `*` CV figures at the chosen thresholds are **optimistic**: the model, "
        "its hyper-parameters and the threshold were chosen on these same folds.",
        "`nested`: each fold's threshold chosen on the other folds' out-of-fold scores (honest about the "
        "threshold; model choice still saw every fold).",
    ]
    if has_test:
        notes.append("`test`: data/test.csv, never used for any choice.")
    if any(not c["met_target"] for c in chosen.values()):
        notes.append("`!`: no threshold met the target of thresholds.rule; the fallback decided the threshold.")
    if any(c.get("below_min_precision") for c in chosen.values()):
        notes.append("`?`: nested precision below thresholds.min_precision.")
    table = tabulate(rows, headers, tablefmt="github", floatfmt=".3f")
    audit = ""
    if "recall_audit" in metrics:
        audit_rows = [
            [
                t,
                a["nested_recall"],
                a["nested_sd"],
                a["test_recall"],
                a["test_sd"],
                a["shortfall"],
                "!!" if a["flagged"] else "",
            ]
            for t, a in metrics["recall_audit"]["themes"].items()
        ]
        audit = (
            "\n## Recall audit\n\n"
            + tabulate(
                audit_rows,
                ["theme", "nested R", "sd", "test R", "sd", "shortfall", "flag"],
                tablefmt="github",
                floatfmt=".3f",
            )
            + "\n\nsd: binomial standard deviation of each recall. `!!`: shortfall above 2 sd of the difference.\n"
        )
    return table + "\n" + "\n".join(notes) + "\n" + audit


def main() -> None:
    params = load_params()
    points = params["evaluate"]["curve_points"]
    labels = pd.read_csv(paths.LABELS, keep_default_na=False)
    oof = pd.read_csv(paths.SELECTED_OOF)
    chosen = read_json(paths.THRESHOLDS)["themes"]
    themes = list(chosen)
    thresholds = {t: c["threshold"] for t, c in chosen.items()}
    tagger = load_bundle(paths.BUNDLE)

    metrics = {"cv": evaluate_split(labels, oof, thresholds, themes)}
    nested = {t: {k: v for k, v in c["nested"].items() if k != "fold_thresholds"} for t, c in chosen.items()}
    metrics["cv_nested"] = with_averages(nested)
    write_curves(paths.PR_CV_DIR, labels, oof, themes, points)

    test = pd.read_csv(paths.TEST_LABELS, keep_default_na=False)
    if len(test):
        test_scores = tagger.scores(test["text"].tolist())
        metrics["test"] = evaluate_split(test, test_scores, thresholds, themes)
        write_curves(paths.PR_TEST_DIR, test, test_scores, themes, points)
    else:
        paths.PR_TEST_DIR.mkdir(parents=True, exist_ok=True)
    for split in metrics.values():
        for t, m in split["themes"].items():
            m["model"] = tagger.families[t]
            m["space"] = tagger.spaces[t]
            m["threshold"] = json_threshold(thresholds[t])
            m["met_target"] = chosen[t]["met_target"]
            m["below_min_precision"] = chosen[t].get("below_min_precision", False)
    if "test" in metrics:
        metrics["recall_audit"] = recall_audit(metrics, tagger.families)
    warnings = warnings_first(metrics, chosen, params["thresholds"]["min_precision"])
    metrics["warnings"] = warnings
    write_json(paths.METRICS_JSON, metrics)
    head = "# Results\n\n" + ("**Check first:**\n\n" + "\n".join(warnings) + "\n\n" if warnings else "")
    table = head + results_table(metrics, chosen, tagger.families, tagger.spaces)
    write_text(paths.RESULTS_MD, table)
    print(table)


if __name__ == "__main__":
    run_cli(main)
