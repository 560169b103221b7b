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

import pandas as pd

from themetag.atomic import read_json, write_json, write_text, write_with
from themetag.errors import run_cli
from themetag.features.encoder import sha256_of
from themetag.features.encoder_choice import theme_encoders
from themetag.features.vector_cache import default_root
from themetag.pipeline import paths
from themetag.pipeline.params import load_params
from themetag.reporting.check_first import check_first
from themetag.reporting.encoder_note import encoder_section, probe_figures
from themetag.reporting.model_card import model_card
from themetag.reporting.recall_audit import recall_audit
from themetag.reporting.results_table import audit_section, results_table
from themetag.reporting.score_plots import curve_table
from themetag.tagging.bundle import load_bundle
from themetag.thresholds.scoring import evaluate_split, json_threshold, with_averages


def write_curves(folder, labels: pd.DataFrame, scores: pd.DataFrame, themes: list[str], points: int) -> None:
    for t in themes:
        table = curve_table(labels[t].to_numpy(dtype=int), scores[t].to_numpy(dtype=float), points)
        table.insert(0, "theme", t)  # the plot template names each curve's theme (dvc plots show and diff)
        write_with(folder / f"{t}.csv", lambda p, tb=table: tb.to_csv(p, index=False))


def main() -> None:
    params = load_params()
    points = params["evaluate"]["curve_points"]
    labels = pd.read_csv(paths.LABELS, keep_default_na=False)
    oof = pd.read_csv(paths.SELECTED_OOF)
    chosen = read_json(paths.THRESHOLDS)["themes"]
    themes = list(chosen)
    thresholds = {t: c["threshold"] for t, c in chosen.items()}
    tagger = load_bundle(paths.BUNDLE).use_vector_cache(default_root())

    metrics = {"cv": evaluate_split(labels, oof, thresholds, themes)}
    nested = {t: {k: v for k, v in c["nested"].items() if k != "fold_thresholds"} for t, c in chosen.items()}
    metrics["cv_nested"] = with_averages(nested)
    write_curves(paths.PR_CV_DIR, labels, oof, themes, points)

    test = pd.read_csv(paths.TEST_LABELS, keep_default_na=False)
    if len(test):
        test_scores = tagger.scores(test["text"].tolist())
        write_with(paths.TEST_SCORES, lambda p: test_scores.to_csv(p, index=False))
        metrics["test"] = evaluate_split(test, test_scores, thresholds, themes)
        write_curves(paths.PR_TEST_DIR, test, test_scores, themes, points)
    else:
        paths.PR_TEST_DIR.mkdir(parents=True, exist_ok=True)
        write_with(paths.TEST_SCORES, lambda p: pd.DataFrame(columns=themes).to_csv(p, index=False))
    encoders = theme_encoders(params, tagger.spaces)
    for split in metrics.values():
        for t, m in split["themes"].items():
            m["model"] = tagger.families[t]
            m["space"] = tagger.spaces[t]
            m["encoder"] = encoders[t]
            m["threshold"] = json_threshold(thresholds[t])
            m["met_target"] = chosen[t]["met_target"]
            m["below_min_precision"] = chosen[t].get("below_min_precision", False)
    if "test" in metrics:
        metrics["recall_audit"] = recall_audit(metrics, tagger.families)
    warnings = check_first(metrics, chosen, params["thresholds"]["min_precision"])
    metrics["warnings"] = warnings
    write_json(paths.METRICS_JSON, metrics)
    data = {"sha256": sha256_of(paths.LABELS), "rows": len(labels)}
    section = encoder_section(encoders, tagger.spaces, probe_figures())
    card = model_card(read_json(paths.BUNDLE_MANIFEST), metrics, chosen, data, params, section)
    write_text(paths.MODEL_CARD, card)
    head = "# Results\n\n" + ("**Check first:**\n\n" + "\n".join(warnings) + "\n\n" if warnings else "")
    table = head + results_table(metrics, chosen, tagger.families, tagger.spaces) + audit_section(metrics)
    write_text(paths.RESULTS_MD, table)
    print(table)
    print(f"Read {paths.REPORT_MD} first (the report stage writes it after the suggestions): why a theme is weak.")


if __name__ == "__main__":
    run_cli(main)
