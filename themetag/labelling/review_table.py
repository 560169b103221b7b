"""The label review: per theme, the training rows whose label most likely disagrees with the text,
ranked by ``label_quality`` on out-of-fold scores, as a table for reviewers and its summary page."""

from __future__ import annotations

import numpy as np
import pandas as pd

from themetag.data.input_csv import read_csv
from themetag.data.label_fixes import decided_pairs, decisions_from_table, text_fingerprint
from themetag.data.labels import expand
from themetag.labelling.label_quality import ranked


def train_lines(params: dict, decisions: pd.DataFrame | None = None) -> list[int]:
    """The line in the training CSV (header = line 1) of each row of artifacts/labels.csv, given
    the ledger's ``decisions`` that made it (they can add or drop rows)."""
    data = params["data"]
    frame = read_csv(data["train"], [data["text_column"], data["themes_column"]], "labelled training CSV")
    applied = decisions_from_table(decisions) if decisions is not None else None
    kept = expand(frame, data, params["labels"], params["folds"]["k"], applied).rows
    return [i + 2 for i in kept]


def review_frame(
    params: dict,
    labels: pd.DataFrame,
    oof: pd.DataFrame,
    selection: dict,
    fold: np.ndarray,
    themes: list[str],
    decisions: pd.DataFrame,
) -> pd.DataFrame:
    """Per theme, the ``review.top_k`` rows whose label most likely disagrees with the text,
    worst first, leaving out (text, theme) pairs the ledger has decided."""
    lines = np.asarray(train_lines(params, decisions))
    fingerprints = np.asarray([text_fingerprint(t) for t in labels["text"]], dtype=object)
    decided = decided_pairs(decisions)
    top_k = int(params["review"]["top_k"])
    parts = []
    for theme in themes:
        y, s = labels[theme].to_numpy(dtype=int), oof[theme].to_numpy(dtype=float)
        order, p, quality = ranked(y, s, fold)
        order = [i for i in order if (fingerprints[i], theme) not in decided]
        top = np.asarray(order[:top_k], dtype=int)
        parts.append(
            pd.DataFrame(
                {
                    "theme": theme,
                    "rank": np.arange(1, len(top) + 1),
                    "line": lines[top],
                    "label": y[top],
                    "score": s[top],
                    "p_positive": p[top],
                    "label_quality": quality[top],
                    "candidate": selection[theme]["candidate"],
                    "text": labels["text"].to_numpy()[top],
                    "fingerprint": fingerprints[top],
                    "decision": "",
                    "note": "",
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def markdown(table: pd.DataFrame, shown: int, csv_name: str) -> str:
    head = [
        "# Label review",
        "",
        f"Per theme, the {shown} training rows whose label most likely disagrees with the text, worst first "
        f"(all {table.groupby('theme').size().max()} per theme in `{csv_name}`). `label` is the label the row "
        "has in the training CSV at `line`; `p(+)` is the probability of the theme from the selected "
        "model's out-of-fold score (each row scored by a model that never saw it, put on a probability "
        "scale by a sigmoid fitted on the other folds); `quality` is the probability of the given label "
        "(self-confidence): low means check this label. A wrong label here costs precision or recall.",
        "",
        f"To act on a row, write `add`, `remove` or `keep` (the label is right) in its `decision` cell in "
        f"`{csv_name}`, then run `themetag fold-review` and `dvc repro`: the decision goes to the "
        "review ledger (`data.fixes`), is applied on top of the training CSV, and the pair is not listed again.",
        "",
    ]
    for theme, rows in table.groupby("theme", sort=False):
        head.append(f"## {theme}\n")
        head.append("| rank | line | label | p(+) | quality | text |")
        head.append("|---|---|---|---|---|---|")
        for r in rows.head(shown).itertuples():
            text = " ".join(str(r.text).split()).replace("|", "\\|")
            text = text if len(text) <= 120 else text[:117] + "..."
            head.append(f"| {r.rank} | {r.line} | {r.label} | {r.p_positive:.3f} | {r.label_quality:.3f} | {text} |")
        head.append("")
    return "\n".join(head)


def unfolded_decisions(path, decided: set[tuple[str, str]]) -> int:
    """How many filled-in decisions in an existing review CSV are not in the ledger yet."""
    if not path.is_file():
        return 0
    old = pd.read_csv(path, dtype=str, keep_default_na=False)
    if "decision" not in old.columns:
        return 0
    filled = old[old["decision"].str.strip() != ""]
    return sum((fp, theme) not in decided for fp, theme in zip(filled["fingerprint"], filled["theme"], strict=True))
