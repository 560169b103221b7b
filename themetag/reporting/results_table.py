"""The results table (precision and recall per theme, out of fold, nested and on test) and the
recall audit's table, as markdown; ``metrics/results.md`` and ``metrics/report.md`` show them."""

from __future__ import annotations

from tabulate import tabulate


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
    return tabulate(rows, headers, tablefmt="github", floatfmt=".3f") + "\n" + "\n".join(notes) + "\n"


def audit_section(metrics: dict) -> str:
    """The recall audit's table (nested against test recall per theme), or nothing without a test set."""
    if "recall_audit" not in metrics:
        return ""
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
    return (
        "\n## Recall audit\n\n"
        + tabulate(
            audit_rows,
            ["theme", "nested R", "sd", "test R", "sd", "shortfall", "flag"],
            tablefmt="github",
            floatfmt=".3f",
        )
        + "\n\nsd: binomial standard deviation of each recall. `!!`: shortfall above 2 sd of the difference.\n"
    )
