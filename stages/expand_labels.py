"""Stage expand_labels: validate the CSVs, build the label matrices, the folds and the theme report.

The folds (``artifacts/folds.json``: one multi-label-stratified K-fold assignment shared by every
theme and family) are made here rather than in a stage of their own: they change exactly when the
labels or ``folds`` do, and a process of their own cost a labelling round about 3 s for a second.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from tabulate import tabulate

from themetag.atomic import write_json, write_text, write_with
from themetag.data.folds import fold_record
from themetag.data.input_csv import read_csv
from themetag.data.label_fixes import decisions_table, read_ledger
from themetag.data.labels import expand, label_test_set, theme_normaliser
from themetag.errors import InputError, run_cli
from themetag.labelling.picked_rows import MODEL, origins, read_picked
from themetag.pipeline import paths
from themetag.pipeline.params import load_params
from themetag.tuning.record import read_record


def theme_report_markdown(report: dict) -> str:
    rows = [
        [t, c, "kept" if t in report["themes"] else f"left out: {report['left_out'][t]}"]
        for t, c in report["counts"].items()
    ]
    lines = ["# Theme report", "", tabulate(rows, ["theme", "positives", "status"], tablefmt="github"), ""]
    lines += [f"- {n}" for n in report["notes"]]
    lines += ledger_markdown(report.get("fixes"))
    if report.get("test"):
        test = report["test"]
        lines.append(f"- test.csv: {test['rows']} rows scored, {len(test['dropped_rows'])} dropped")
        for theme, n in test["themes_not_trained"].items():
            lines.append(f"- test.csv theme {theme!r} ({n} rows) was not trained: it is not scored")
    return "\n".join(lines) + "\n"


def ledger_markdown(fixes: dict | None) -> list[str]:
    """What the review ledger did: each applied fix, each stale decision, and the keep count."""
    if not fixes:
        return []
    out = ["", f"## Label fixes ({fixes['path']})", ""]
    out.append(
        f"{len(fixes['applied'])} applied, {len(fixes['kept'])} labels confirmed (keep), {len(fixes['stale'])} stale."
    )
    if fixes["applied"]:
        rows = [[f["ledger"], f["theme"], f["decision"], capped(f["rows"], 3)] for f in fixes["applied"]]
        out += ["", tabulate(rows, ["ledger", "theme", "decision", "training rows changed"], tablefmt="github")]
    if fixes["stale"]:
        rows = [[f["ledger"], f["theme"], f["decision"], f["reason"]] for f in fixes["stale"]]
        out += ["", "Stale decisions (nothing changed; delete them from the ledger when you like):", ""]
        out += [tabulate(rows, ["ledger", "theme", "decision", "why stale"], tablefmt="github")]
    return out


def capped(names: list[str], shown: int = 5) -> str:
    """A few names and a count: a log line stays one readable line however many there are."""
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def main() -> None:
    params = load_params()
    data, labels = params["data"], params["labels"]
    columns = [data["text_column"], data["themes_column"]]
    frame = read_csv(data["train"], columns, "labelled training CSV")
    fixes_path = data.get("fixes")
    decisions = read_ledger(fixes_path, theme_normaliser(labels)) if fixes_path else []
    result = expand(frame, data, labels, params["folds"]["k"], decisions)
    if not result.texts:
        raise InputError(
            f"{data['train']}: every row was dropped (empty text or no themes); fill in column {data['text_column']!r}"
        )
    if not len(result.labels.columns):
        raise InputError(
            f"{data['train']}: no theme has enough positives to learn ({result.left_out}); "
            "label more rows or lower labels.min_positives"
        )
    table = result.labels.copy()
    table.insert(0, "text", result.texts)
    write_with(paths.LABELS, lambda p: table.to_csv(p, index=False))
    # the texts alone: the embed stage depends on them, so a label edit re-encodes nothing
    write_with(paths.TEXTS, lambda p: table[["text"]].to_csv(p, index=False))
    folds = fold_record(result.labels, params["folds"]["k"], params["folds"]["seed"])
    write_json(paths.FOLDS, folds)
    # how each row was picked (data/picked.csv): only the thresholds stage reads it, so a new
    # ledger line reruns the thresholds and what follows, never the tuning
    picked = origins(result.texts, read_picked(data.get("picked")))
    origin = pd.DataFrame({"model_picked": [int(how == MODEL) for how in picked]})
    write_with(paths.ROW_ORIGIN, lambda p: origin.to_csv(p, index=False))

    report = {
        "rows": len(result.texts),
        "themes": list(result.labels.columns),
        "counts": result.counts,
        "left_out": result.left_out,
        "dropped_rows": result.dropped_rows,
        "notes": result.notes,
        "test": None,
        "fixes": {"path": str(fixes_path), **result.ledger.as_dict()} if decisions else None,
    }
    # every decision in the ledger, so the review leaves out the pairs a reviewer already decided
    write_with(paths.DECISIONS, lambda p: decisions_table(decisions).to_csv(p, index=False))
    test_path = Path(data.get("test") or "")
    themes = list(result.labels.columns)
    if data.get("test") and test_path.is_file():
        test_frame = read_csv(test_path, columns, "hand-labelled test CSV")
        test_table, report["test"] = label_test_set(test_frame, data, labels, themes)
    else:
        test_table = None
    # Always write the test table (empty when there is no test.csv), so dvc.yaml can declare it.
    if test_table is None:
        test_table = pd.DataFrame(columns=["text", *themes])
    write_with(paths.TEST_LABELS, lambda p: test_table.to_csv(p, index=False))
    # the tuning record, checked here so that a damaged one stops the run before anything is fitted;
    # the encoder, reuse and select stages read this copy (DVC needs a dependency that always exists)
    record_path = (params.get("reuse") or {}).get("record")
    write_json(paths.RECORD_IN, {"path": record_path, "record": read_record(record_path)})
    write_json(paths.THEME_REPORT, report)
    write_text(paths.THEME_REPORT_MD, theme_report_markdown(report))
    left = f"; left out: {capped(list(result.left_out))} (why: {paths.THEME_REPORT_MD})" if result.left_out else ""
    fixed = ""
    if decisions:
        led = result.ledger
        fixed = f"; label fixes: {len(led.applied)} applied, {len(led.kept)} kept, {len(led.stale)} stale"
    print(f"expand_labels: {len(result.texts)} rows, {len(themes)} themes kept{left}{fixed}")
    sizes = np.bincount(folds["fold"], minlength=folds["k"]).tolist()
    unscored = f"; left out: {folds['left_out']}" if folds["left_out"] else ""
    print(f"folds: k={folds['k']}, rows per fold {sizes}{unscored}")


if __name__ == "__main__":
    run_cli(main)
