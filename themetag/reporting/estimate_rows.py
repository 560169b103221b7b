"""The report's note on which rows each threshold and estimate rest on (stage thresholds'
``estimate_rows``): rows the model picked for labelling are not a sample of new data."""

from __future__ import annotations


def estimate_rows_section(chosen: dict) -> list[str]:
    """Markdown lines; none while no training row was picked by the model."""
    records = {t: c["estimate_rows"] for t, c in chosen.items() if "estimate_rows" in c}
    picked = max((r["model_picked_rows"] for r in records.values()), default=0)
    if not picked:
        return []
    resting = {t: r for t, r in records.items() if r["rests_on_model_picked"]}
    sampled = next((r["rows"] for r in records.values() if not r["rests_on_model_picked"]), None)
    out = [
        "## What the thresholds rest on",
        "",
        f"{picked} training rows were picked by the model for labelling (`data/picked.csv`). They train the "
        "models but are not a sample of new texts, so each threshold and its out-of-fold and nested figures "
        + (f"rest on the other {sampled} rows" if sampled is not None else "would rest on the other rows")
        + ", which are.",
        "",
    ]
    if resting:
        out += [
            "These themes have too few positives among those rows (below `thresholds.sample_min_positives`), so "
            "theirs rest on model-picked rows too, and may not hold on new texts (the figures may be optimistic); "
            "the random share of the next batches (`suggest.random_share`) adds the rows they need:",
            "",
            *[f"- **{t}**: all {r['rows']} rows, {r['positives']} positives" for t, r in resting.items()],
            "",
        ]
    return out
