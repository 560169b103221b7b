"""``models/bundle.md``: what the bundle is, for a reader who has only the bundle.

Written by the evaluate stage, which is the first to have both the bundle and its test figures.
The nested figures are honest about the threshold (each fold's threshold was chosen on the other
folds); the test figures come from data/test.csv, which no choice saw.
"""

from __future__ import annotations

import platform

from tabulate import tabulate

from themetag.reporting.check_first import flagged_themes


def model_card(
    manifest: dict, metrics: dict, chosen: dict, data: dict, params: dict, encoder_lines: list[str] | None = None
) -> str:
    """``data``: ``sha256`` and ``rows`` of the training labels the bundle was fitted on; ``encoder_lines``:
    the sentence-encoder section (``encoder_note.encoder_section``)."""
    has_test = "test" in metrics
    rows = []
    for t in manifest["themes"]:
        nested = metrics["cv_nested"]["themes"][t]
        row = [t, manifest["families"][t], manifest["spaces"][t], f"{manifest['thresholds'][t]:.4g}"]
        row += [nested["precision"], nested["recall"], nested["support"]]
        if has_test:
            test = metrics["test"]["themes"][t]
            row += [test["precision"], test["recall"], test["support"]]
        rows.append(row)
    headers = ["theme", "family", "space", "threshold", "nested P", "nested R", "train positives"]
    headers += ["test P", "test R", "test positives"] if has_test else []
    flagged = flagged_themes(metrics, chosen)
    encoders = manifest.get("encoders", [])
    th = params["thresholds"]
    lines = [
        "# Model card: models/bundle.joblib",
        "",
        # no date: a fresh clone's `dvc repro` must write the commit's card byte for byte (git dates it)
        "Written by the evaluate stage, with the bundle's test figures.",
        "",
        "## What it does",
        "",
        f"Tags a text (column `{manifest['text_column']}`) with any of {len(manifest['themes'])} themes: one "
        f"binary classifier per theme, each with its own threshold, chosen for the highest precision at "
        f"recall >= {th['min_recall']} (rule `{th['rule']}`). Each theme's scores are the mean of "
        f"{manifest['members']} model(s) (`final.model: {manifest['final_model']}`).",
        "",
        "**Intended use:** tagging short texts like the training data (survey answers, reviews, "
        "tickets) for counting and routing themes. A tag is a threshold decision, not a probability.",
        "",
        "## Themes",
        "",
        tabulate(rows, headers, tablefmt="github", floatfmt=".3f"),
        "",
        "`nested`: out of fold, each fold's threshold chosen on the other folds (the model choice saw "
        "every fold, so it can be slightly optimistic). "
        + ("`test`: data/test.csv, which no choice saw." if has_test else "No test set was given."),
        "",
        *(encoder_lines or []),
        "## Known limits",
        "",
    ]
    limits = [
        ("below_min_precision", f"nested precision below thresholds.min_precision {th['min_precision']}"),
        ("recall_short", "test recall short of its nested estimate by more than 2 sd (recall audit)"),
        ("missed_target", "no threshold met the rule's target; a fallback decided"),
    ]
    listed = [f"- {what}: {', '.join(flagged[key])}" for key, what in limits if flagged[key]]
    lines += listed or ["- No theme is flagged by the checks (precision floor, recall audit, threshold target)."]
    lines += [
        "- Texts unlike the training data (another domain, language or length) can score differently; "
        "the recall audit only covers data like data/test.csv.",
        "",
        "## Training data and versions",
        "",
        f"- training rows: {data['rows']} (artifacts/labels.csv after the review ledger, sha256 {data['sha256']})",
        f"- bundle sha256: {manifest['sha256']}",
        f"- scikit-learn {manifest['sklearn_version']} (the bundle loads only with this version), "
        f"Python {platform.python_version()}",
    ]
    for e in encoders:
        built = f", weights sha256 {e['weights_sha256']}" if "weights_sha256" in e else ""
        quant = f", quantization {e['quantization']}" if e.get("quantization") else ""
        lines.append(
            f"- encoder {e['model']} (ONNX sha256 {e['sha256']}{built}{quant}), max {e['max_tokens']} tokens, "
            f"onnxruntime {e['onnxruntime_version']}, tokenizers {e['tokenizers_version']}"
        )
    if not encoders:
        lines.append("- no sentence encoder (TF-IDF spaces only)")
    return "\n".join(lines) + "\n"
