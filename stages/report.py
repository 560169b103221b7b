"""Stage report: why a theme is weak, and the one page to read first (``metrics/report.md``).

Reads the selected out-of-fold scores, the thresholds, the metrics, the test scores, the label
review and the labelling suggestions; no tuning output, so a threshold edit reruns it without
rerunning any tuning. Writes ``metrics/errors.{md,csv}``, ``metrics/confusions.csv``, the
per-theme plot data in ``metrics/plots/`` (drawn by ``dvc plots show``) and ``metrics/report.md``.
"""

from __future__ import annotations

import json
import shutil

import pandas as pd

from themetag.atomic import read_json, write_text, write_with
from themetag.errors import run_cli
from themetag.pipeline import paths
from themetag.pipeline.params import load_params
from themetag.reporting.check_first import flagged_themes
from themetag.reporting.encoder_note import encoder_section, probe_figures
from themetag.reporting.error_examples import confusions, error_examples, errors_markdown
from themetag.reporting.estimate_rows import estimate_rows_section
from themetag.reporting.labels_pay import labels_pay_section, test_ap_sds, test_aps
from themetag.reporting.report_page import changed_choices, moved, previous_metrics, report_markdown, where_to_look
from themetag.reporting.results_table import results_table
from themetag.reporting.reuse_note import reuse_section
from themetag.reporting.score_plots import score_histogram, threshold_sweep


def read_optional(path, columns: list[str]) -> pd.DataFrame:
    if not path.is_file() or path.stat().st_size == 0:
        return pd.DataFrame(columns=columns)
    return pd.read_csv(path, keep_default_na=False)


def write_plots(labels: pd.DataFrame, oof: pd.DataFrame, thresholds: dict, conf: dict, points: int) -> None:
    for folder in (paths.SCORES_PLOTS, paths.SWEEP_PLOTS):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    for t, thr in thresholds.items():
        y, s = labels[t].to_numpy(dtype=int), oof[t].to_numpy(dtype=float)
        hist = score_histogram(t, y, s, thr, conf["score_bins"])
        sweep = threshold_sweep(t, y, s, thr, points)
        write_text(paths.SCORES_PLOTS / f"{t}.json", json.dumps(hist))
        write_text(paths.SWEEP_PLOTS / f"{t}.json", json.dumps(sweep))


def main() -> None:
    params = load_params()
    conf = params["report"]
    labels = pd.read_csv(paths.LABELS, keep_default_na=False)
    oof = pd.read_csv(paths.SELECTED_OOF)
    chosen = read_json(paths.THRESHOLDS)["themes"]
    themes = list(chosen)
    thresholds = {t: float(c["threshold"]) for t, c in chosen.items()}
    metrics = read_json(paths.METRICS_JSON)
    review = read_optional(paths.LABEL_REVIEW, ["theme", "fingerprint"])
    reviewed = set(zip(review["fingerprint"].astype(str), review["theme"].astype(str), strict=True))

    sources = {"out of fold": (labels, oof)}
    test = pd.read_csv(paths.TEST_LABELS, keep_default_na=False)
    if len(test):
        sources["test"] = (test, pd.read_csv(paths.TEST_SCORES))
    examples = pd.concat(
        [
            error_examples(rows, scores, thresholds, themes, conf["csv_examples"], source, reviewed)
            for source, (rows, scores) in sources.items()
        ],
        ignore_index=True,
    )
    confusion = {source: confusions(rows, scores, thresholds, themes) for source, (rows, scores) in sources.items()}
    write_with(paths.ERRORS_CSV, lambda p: examples.to_csv(p, index=False))
    table = pd.concat([f.assign(source=s) for s, f in confusion.items()], ignore_index=True)
    write_with(paths.CONFUSIONS_CSV, lambda p: table.to_csv(p, index=False))
    write_text(
        paths.ERRORS_MD,
        errors_markdown(examples, confusion, themes, conf["examples"], conf["csv_examples"], conf["confusions"]),
    )
    write_plots(labels, oof, thresholds, conf, params["evaluate"]["curve_points"])
    oof_confusion = confusion["out of fold"]
    write_text(paths.CONFUSION_PLOT, json.dumps(oof_confusion.round(6).to_dict("records")))

    flagged = flagged_themes(metrics, chosen)
    weak = [t for t in themes if any(t in ts for ts in flagged.values())]
    suggested = read_optional(paths.LABEL_NEXT, ["suggested for"])["suggested for"].astype(str).value_counts()
    listed = review["theme"].astype(str).value_counts()
    lines = []
    for t in weak:
        cv = metrics["cv"]["themes"][t]
        top = oof_confusion[oof_confusion.tagged == t].head(1)
        errors = {"fp": cv["fp"], "fn": cv["fn"]}
        if len(top):
            errors["top_confusion"] = (
                f"{top.labelled.iloc[0]} ({top.share.iloc[0]:.0%}, {top.vs_chance.iloc[0]:.1f}x chance)"
            )
        lines.append(where_to_look(t, errors, int(listed.get(t, 0)), int(suggested.get(t, 0))))
    previous = previous_metrics(paths.METRICS_JSON.as_posix())
    changes = None if previous is None else moved(previous, metrics) + changed_choices(previous, metrics)
    families = {t: m["model"] for t, m in metrics["cv"]["themes"].items()}
    spaces = {t: m["space"] for t, m in metrics["cv"]["themes"].items()}
    encoders = {t: m.get("encoder", "none") for t, m in metrics["cv"]["themes"].items()}
    page = report_markdown(
        metrics.get("warnings", []),
        results_table(metrics, chosen, families, spaces),
        lines,
        changes,
        encoder_section(encoders, spaces, probe_figures())
        + reuse_section(read_json(paths.REUSE) if paths.REUSE.is_file() else None)
        + labels_pay_section(
            read_json(paths.LEARNING_CURVE) if paths.LEARNING_CURVE.is_file() else None,
            test_aps(*sources["test"]) if "test" in sources else None,
            test_ap_sds(*sources["test"]) if "test" in sources else None,
        )
        + estimate_rows_section(chosen),
    )
    write_text(paths.REPORT_MD, page)
    n_fp = int((examples.error == "false positive").sum())
    print(f"report: {len(weak)} weak theme(s), {n_fp} false positives kept; read {paths.REPORT_MD} first")


if __name__ == "__main__":
    run_cli(main)
