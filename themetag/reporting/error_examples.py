"""Which texts a theme tags wrongly and which it misses, and which themes its wrong tags belong to.

At each theme's chosen threshold (tagged when score >= threshold, as everywhere else):

* false positives, the highest-scored first: the model is surest and wrong, which is where a
  missing label or an overlapping theme shows first;
* false negatives, the lowest-scored first: the positives the model is furthest from;
* confusions: the false positives of theme A on rows labelled B, counted per (A, B), as a
  share of A's false positives. A large share means the two themes overlap, or an alias is
  missing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from tabulate import tabulate

from themetag.data.label_fixes import text_fingerprint
from themetag.thresholds.scoring import tagged

NO_THEME = "(no theme)"
COLUMNS = ["source", "theme", "error", "rank", "score", "threshold", "text", "labelled themes", "in label review"]


def labelled_themes(labels: pd.DataFrame, themes: list[str]) -> list[list[str]]:
    Y = labels[themes].to_numpy(dtype=int)
    return [[t for t, v in zip(themes, row, strict=True) if v] for row in Y]


def error_examples(
    labels: pd.DataFrame,
    scores: pd.DataFrame,
    thresholds: dict[str, float],
    themes: list[str],
    cap: int,
    source: str,
    reviewed: set[tuple[str, str]] = frozenset(),
) -> pd.DataFrame:
    """Up to ``cap`` false positives and ``cap`` false negatives per theme. ``reviewed`` holds the
    (text fingerprint, theme) pairs the label review lists: those rows are marked."""
    have = labelled_themes(labels, themes)
    T = tagged(scores, thresholds, themes)
    texts = labels["text"].astype(str).tolist()
    rows = []
    for j, t in enumerate(themes):
        y = labels[t].to_numpy(dtype=int).astype(bool)
        s = np.nan_to_num(scores[t].to_numpy(dtype=float), nan=-np.inf)
        fp = np.flatnonzero(T[:, j] & ~y)
        fn = np.flatnonzero(~T[:, j] & y)
        for error, idx in (
            ("false positive", fp[np.argsort(-s[fp], kind="stable")]),
            ("false negative", fn[np.argsort(s[fn], kind="stable")]),
        ):
            for rank, i in enumerate(idx[:cap], start=1):
                rows.append(
                    [
                        source,
                        t,
                        error,
                        rank,
                        float(s[i]),
                        float(thresholds[t]),
                        texts[i],
                        ", ".join(have[i]) or NO_THEME,
                        (text_fingerprint(texts[i]), t) in reviewed,
                    ]
                )
    return pd.DataFrame(rows, columns=COLUMNS)


def confusions(
    labels: pd.DataFrame, scores: pd.DataFrame, thresholds: dict[str, float], themes: list[str]
) -> pd.DataFrame:
    """One row per (tagged theme A, labelled theme B) with A's false positives on rows labelled B:
    ``rows`` and ``share`` of A's false positives (a row with two themes counts for both, so the
    shares of one A can add to more than 1). Rows labelled with no theme count as NO_THEME.
    ``vs_chance`` divides the share by B's share of the rows A could have tagged wrongly (A's
    negatives): a common theme B collects many of anyone's wrong tags by chance alone, so only a
    value well above 1 says that A and B overlap."""
    Y = labels[themes].to_numpy(dtype=int).astype(bool)
    T = tagged(scores, thresholds, themes)
    out = []
    for j, a in enumerate(themes):
        fp = T[:, j] & ~Y[:, j]
        n_fp = int(fp.sum())
        if not n_fp:
            continue
        negatives = Y[~Y[:, j]]
        pairs = [*zip(themes, Y[fp].sum(axis=0).tolist(), negatives.mean(axis=0).tolist(), strict=True)]
        pairs.append((NO_THEME, int((~Y[fp].any(axis=1)).sum()), float((~negatives.any(axis=1)).mean())))
        for b, n, expected in pairs:
            if n:
                share = n / n_fp
                chance = share / expected if expected else float("inf")
                out.append(
                    {
                        "tagged": a,
                        "labelled": b,
                        "rows": int(n),
                        "share": share,
                        "vs_chance": chance,
                        "false positives": n_fp,
                    }
                )
    frame = pd.DataFrame(out, columns=["tagged", "labelled", "rows", "share", "vs_chance", "false positives"])
    return frame.sort_values(["rows", "tagged", "labelled"], ascending=[False, True, True], ignore_index=True)


def _cell(text: str, width: int = 160) -> str:
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text if len(text) <= width else text[: width - 1] + "…"


def confusion_table(frame: pd.DataFrame, top: int) -> str:
    if not len(frame):
        return "No false positives.\n"
    rows = [
        [r.tagged, r.labelled, r.rows, f"{r.share:.0%}", f"{r.vs_chance:.1f}x"] for r in frame.head(top).itertuples()
    ]
    headers = ["tagged", "on rows labelled", "rows", "share of its false positives", "vs chance"]
    return tabulate(rows, headers, tablefmt="github") + "\n"


HEADER = """# Errors per theme

At each theme's chosen threshold: false positives (tagged, not labelled), the highest-scored first,
and false negatives (labelled, not tagged), the lowest-scored first; up to {show} of each here, up to
{csv} in errors.csv.
- **Out of fold** rows are training rows, each scored by models fitted without it: honest about the
  model (the threshold and the model choice did see them; see results.md).
- **Test** rows come from data/test.csv, which no choice saw.
- **vs chance**: that share divided by the labelled theme's share of the rows the tagged theme
  could have tagged wrongly. A common theme collects many wrong tags by chance alone; well above
  1x, the two themes overlap (or an alias is missing).
- **review** marks a false positive that metrics/label_review.csv also lists for that theme: more
  likely a label error than a model error.
"""


def errors_markdown(
    examples: pd.DataFrame, confusion: dict[str, pd.DataFrame], themes: list[str], show: int, csv_cap: int, top: int
) -> str:
    out = [HEADER.format(show=show, csv=csv_cap)]
    for source, frame in confusion.items():
        out += [f"## Most frequent confusions ({source})", "", confusion_table(frame, top)]
    for t in themes:
        out += [f"## {t}", ""]
        for source in confusion:
            for error in ("false positive", "false negative"):
                rows = examples[(examples.theme == t) & (examples.source == source) & (examples.error == error)]
                out.append(f"**{source}, {error}s** ({len(rows)} in errors.csv)\n")
                if not len(rows):
                    out.append("None.\n")
                    continue
                head = rows.head(show)
                cells = [
                    [
                        r["rank"],
                        f"{r['score']:.4g}",
                        f"{r['threshold']:.4g}",
                        _cell(r["text"]),
                        r["labelled themes"],
                        "review" if r["in label review"] else "",
                    ]
                    for r in head.to_dict("records")
                ]
                out.append(
                    tabulate(cells, ["#", "score", "threshold", "text", "labelled themes", ""], tablefmt="github")
                    + "\n"
                )
    return "\n".join(out)
