"""Stage review: per theme, the training rows whose label most likely disagrees with the text.

Ranked by the label quality of ``themetag/labelling/label_quality.py`` on the selected candidate's
out-of-fold scores. It reads no threshold parameter, so a threshold experiment does not rerun it.
A (text, theme) pair that has a decision in the review ledger (``data/label_fixes.csv``) is
never listed again. The CSV has empty ``decision`` and ``note`` columns for the reviewer;
``themetag fold-review`` folds the filled-in ones into the ledger. The CSV is a
persistent output, so this stage can refuse to overwrite decisions that were not folded in yet.
"""

from __future__ import annotations

import pandas as pd

from themetag.atomic import read_json, write_text, write_with
from themetag.data.label_fixes import decided_pairs
from themetag.errors import InputError, run_cli
from themetag.labelling.review_table import markdown, review_frame, unfolded_decisions
from themetag.pipeline import paths
from themetag.pipeline.artifacts import load_folds
from themetag.pipeline.params import load_params


def load_decisions() -> pd.DataFrame:
    return pd.read_csv(paths.DECISIONS, dtype=str, keep_default_na=False)


def main() -> None:
    params = load_params()
    decisions = load_decisions()
    decided = decided_pairs(decisions)
    pending = unfolded_decisions(paths.LABEL_REVIEW, decided)
    if pending:
        raise InputError(
            f"{paths.LABEL_REVIEW}: {pending} filled-in decisions are not in the ledger yet and would be "
            "overwritten; fold them in with `themetag fold-review`, then run `dvc repro` again"
        )
    fold, themes = load_folds()
    labels = pd.read_csv(paths.LABELS, keep_default_na=False)
    oof = pd.read_csv(paths.SELECTED_OOF)
    table = review_frame(params, labels, oof, read_json(paths.SELECTION), fold, themes, decisions)
    write_with(paths.LABEL_REVIEW, lambda p: table.to_csv(p, index=False, float_format="%.6g"))
    write_text(paths.LABEL_REVIEW_MD, markdown(table, int(params["review"]["show"]), paths.LABEL_REVIEW.as_posix()))
    print(
        f"review: {table['theme'].nunique()} themes, {len(table)} rows to check in {paths.LABEL_REVIEW} "
        f"(worst first; summary in {paths.LABEL_REVIEW_MD})"
    )


if __name__ == "__main__":
    run_cli(main)
