"""Which sentence encoder each theme uses, and why: for ``metrics/report.md`` and the model card.

A theme uses an encoder only if its selected space has an embeddings part; the encoder of a
``model: auto`` space is the ``encoder_probe`` stage's choice, whose figures
(``metrics/encoder_probe.json``) say why.
"""

from __future__ import annotations

from tabulate import tabulate

from themetag.atomic import read_json
from themetag.pipeline import paths


def probe_figures() -> dict | None:
    """``metrics/encoder_probe.json``, or None where the probe has not run."""
    return read_json(paths.ENCODER_PROBE_METRICS) if paths.ENCODER_PROBE_METRICS.is_file() else None


def encoder_section(encoders: dict[str, str], spaces: dict[str, str], probe: dict | None) -> list[str]:
    """Markdown lines: the probe's decision and, per theme, its space, encoder and probe figures."""
    lines = ["## Sentence encoders", ""]
    if probe and probe.get("why"):
        rows = probe.get("rows")
        where = f" on {rows} sampled training rows (out of fold)" if rows else ""
        lines += [
            f"`model: auto` uses **{probe['chosen']}**, chosen by the encoder_probe stage{where}: {probe['why']}.",
            "",
        ]
    cands = (probe or {}).get("candidates", []) if (probe or {}).get("themes") else []
    headers = ["theme", "space", "encoder"] + [f"probe AP {c}" for c in cands]
    rows_ = []
    for theme, enc in encoders.items():
        figures = (probe or {}).get("themes", {}).get(theme, {})
        rows_.append([theme, spaces[theme], enc] + [figures.get(c) for c in cands])
    lines += [tabulate(rows_, headers, tablefmt="github", floatfmt=".3f", missingval="-"), ""]
    if cands:
        lines += [
            "`probe AP`: each candidate's average precision out of fold on the probe's sample (a ridge "
            "regression); `-`: too few positives in the sample to vote. A theme on `none` "
            "won with TF-IDF alone and runs no encoder when tagging.",
            "",
        ]
    return lines
