"""Turn a Themes column into a binary label matrix, and say what was left out and why."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from themetag.data.input_csv import row_label
from themetag.data.label_fixes import Decision, LedgerReport, apply_ledger, text_fingerprint
from themetag.errors import InputError


def split_themes(cell: str, separator: str = ",", lowercase: bool = True, aliases: dict | None = None) -> list[str]:
    """Split one Themes cell into distinct, normalised themes, in first-seen order.

    The separator is matched without its surrounding spaces, so ``a,b``, ``a, b`` and
    ``a , b`` agree; empty pieces (a trailing comma) vanish; inner runs of spaces collapse.
    """
    sep = separator.strip() or separator
    out: list[str] = []
    for piece in str(cell).split(sep):
        theme = normalise_theme(piece, lowercase, aliases)
        if theme and theme not in out:
            out.append(theme)
    return out


def normalise_theme(name: str, lowercase: bool = True, aliases: dict | None = None) -> str:
    """One theme name as the pipeline spells it: inner spaces collapsed, lower-cased, aliased."""
    theme = " ".join(str(name).split())
    if lowercase:
        theme = theme.lower()
    return (aliases or {}).get(theme, theme)


@dataclass
class LabelSet:
    texts: list[str]
    labels: pd.DataFrame  # one 0/1 column per kept theme, aligned with ``texts``
    counts: dict[str, int]  # positives per theme, kept or not, most frequent first
    left_out: dict[str, str]  # theme -> reason
    dropped_rows: list[dict] = field(default_factory=list)  # {"row": "line N", "reason": ...}
    notes: list[str] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)  # each kept row's 0-based index in the CSV's data rows
    ledger: LedgerReport | None = None  # what data/label_fixes.csv changed, and which decisions are stale


def _normalise_aliases(aliases: dict | None, lowercase: bool) -> dict[str, str]:
    norm = (lambda s: " ".join(str(s).split()).lower()) if lowercase else (lambda s: " ".join(str(s).split()))
    return {norm(k): norm(v) for k, v in (aliases or {}).items()}


OTHER_SEPARATORS = (";", "|", "/")


def wrong_separator(theme_lists: list[list[str]], separator: str) -> tuple[str, int, int, str] | None:
    """(delimiter, strings holding it, distinct strings, an example) when the Themes column looks
    joined by another common delimiter than ``separator``; else None.

    It looks so when most distinct theme strings contain the delimiter and they are combinations
    of fewer pieces than there are strings: ``food;staff``, ``food;price``, ``staff`` (pieces
    reused), unlike real names such as ``food/drink`` and ``staff/service``.
    """
    distinct = sorted({t for ts in theme_lists for t in ts})
    for delim in OTHER_SEPARATORS:
        if delim == separator.strip():
            continue
        holding = [t for t in distinct if delim in t]
        pieces = {p.strip() for t in holding for p in t.split(delim) if p.strip()}
        if len(holding) >= 3 and 2 * len(holding) > len(distinct) and len(pieces) < len(holding):
            return delim, len(holding), len(distinct), holding[0]
    return None


def theme_normaliser(labels: dict):
    """The function that spells a theme name as ``labels`` (lowercase, aliases) says."""
    aliases = _normalise_aliases(labels.get("aliases"), labels["lowercase"])
    return lambda name: normalise_theme(name, labels["lowercase"], aliases)


def expand(
    frame: pd.DataFrame, data: dict, labels: dict, k_folds: int, decisions: list[Decision] | None = None
) -> LabelSet:
    """Validate rows, apply the review ledger's ``decisions``, and build the label matrix for the
    themes that can be learned."""
    text_col, themes_col = data["text_column"], data["themes_column"]
    aliases = _normalise_aliases(labels.get("aliases"), labels["lowercase"])
    all_lists = [split_themes(c, data["separator"], labels["lowercase"], aliases) for c in frame[themes_col]]
    ledger = None
    if decisions is not None:
        all_lists, ledger = apply_ledger([text_fingerprint(t) for t in frame[text_col]], all_lists, decisions)
    texts: list[str] = []
    theme_lists: list[list[str]] = []
    dropped: list[dict] = []
    rows: list[int] = []
    for i, (text, themes) in enumerate(zip(frame[text_col], all_lists, strict=True)):
        if not str(text).strip():
            dropped.append({"row": row_label(i), "reason": "empty text"})
            continue
        if not themes and labels["empty_themes"] == "drop":
            dropped.append({"row": row_label(i), "reason": "no themes"})
            continue
        texts.append(str(text))
        theme_lists.append(themes)
        rows.append(i)

    wrong = wrong_separator(theme_lists, data["separator"])
    if wrong:
        delim, n, total, example = wrong
        raise InputError(
            f"{data.get('train', 'the training CSV')}: column {themes_col!r}: {n} of {total} distinct theme strings contain {delim!r} "
            f"(e.g. {example!r}), which data.separator={data['separator']!r} does not split; if themes are joined "
            f'by {delim!r}, set `separator: "{delim}"` under data: in conf/config.yaml'
        )
    counts = pd.Series([t for ts in theme_lists for t in ts], dtype=object).value_counts()
    counts_dict = {str(t): int(c) for t, c in counts.items()}
    n_rows = len(texts)
    left_out: dict[str, str] = {}
    for theme, count in counts_dict.items():
        if count < labels["min_positives"]:
            left_out[theme] = f"{count} positives < labels.min_positives={labels['min_positives']}"
        elif count < k_folds:
            left_out[theme] = f"{count} positives < folds.k={k_folds}: not one per fold"
        elif count >= n_rows:
            left_out[theme] = "on every row: no negatives to learn from"
    kept = [t for t in counts_dict if t not in left_out]
    matrix = pd.DataFrame([[int(t in ts) for t in kept] for ts in theme_lists], columns=kept, dtype="int8")
    notes = []
    dup = pd.DataFrame({"text": texts, "themes": [", ".join(sorted(ts)) for ts in theme_lists]})
    conflicting = dup.groupby("text")["themes"].nunique()
    n_conflict = int((conflicting > 1).sum())
    if n_conflict:
        notes.append(f"{n_conflict} texts appear more than once with different themes; all rows are kept")
    if dropped:
        notes.append(f"{len(dropped)} rows dropped (see dropped_rows)")
    return LabelSet(texts, matrix, counts_dict, left_out, dropped, notes, rows, ledger)


def label_test_set(frame: pd.DataFrame, data: dict, labels: dict, themes: list[str]) -> tuple[pd.DataFrame, dict]:
    """Label matrix of a hand-labelled test set over the trained ``themes``, plus what did not fit."""
    aliases = _normalise_aliases(labels.get("aliases"), labels["lowercase"])
    rows, unseen, dropped = [], {}, []
    for i, (text, cell) in enumerate(zip(frame[data["text_column"]], frame[data["themes_column"]], strict=True)):
        ts = split_themes(cell, data["separator"], labels["lowercase"], aliases)
        if not str(text).strip() or (not ts and labels["empty_themes"] == "drop"):
            dropped.append({"row": row_label(i), "reason": "empty text" if not str(text).strip() else "no themes"})
            continue
        for t in ts:
            if t not in themes:
                unseen[t] = unseen.get(t, 0) + 1
        rows.append({"text": str(text), **{t: int(t in ts) for t in themes}})
    table = pd.DataFrame(rows, columns=["text", *themes])
    return table, {"rows": len(table), "dropped_rows": dropped, "themes_not_trained": unseen}
