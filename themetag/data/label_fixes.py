"""The review ledger: label decisions that last, kept in ``data/label_fixes.csv``.

One decision per row: a text (by the fingerprint of its normalised form), a theme, and
``add`` (the text has the theme), ``remove`` (it does not) or ``keep`` (the label it has is
right). The ledger is applied on top of the training CSV, which is never rewritten, and is
keyed by the text rather than the line, so a decision survives rows being moved or added, and
a pair that has a decision is never put to a reviewer again.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from themetag.data.input_csv import read_csv, row_label
from themetag.errors import InputError

COLUMNS = ["fingerprint", "line", "theme", "decision", "by", "date", "note"]
REQUIRED = ["fingerprint", "theme", "decision"]
DECISIONS = ("add", "remove", "keep")
FINGERPRINT_CHARS = 16


def normalise_text(text: object) -> str:
    """The form two texts must share to count as one: Unicode NFKC, case-folded, white space collapsed."""
    return " ".join(unicodedata.normalize("NFKC", str(text)).casefold().split())


def text_fingerprint(text: object) -> str:
    """A short, stable key of the normalised text (16 hex digits of its SHA-256)."""
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()[:FINGERPRINT_CHARS]


@dataclass(frozen=True)
class Decision:
    fingerprint: str
    theme: str
    decision: str
    ledger_line: str  # where it stands in the ledger, for messages ("line 3")
    train_line: str = ""  # the line it was made on, for humans only


def read_ledger(path: str | Path, normalise_theme: Callable[[str], str] = lambda t: t) -> list[Decision]:
    """The decisions in ``path`` (none when the file is absent), validated; one line per problem."""
    path = Path(path)
    if not path.is_file():
        return []
    frame = read_csv(path, REQUIRED, "label fixes ledger", allow_no_rows=True)
    seen: dict[tuple[str, str], Decision] = {}
    out = []
    for i, row in enumerate(frame.to_dict("records")):
        where = row_label(i)
        fp = row["fingerprint"].strip().lower()
        if len(fp) != FINGERPRINT_CHARS or any(c not in "0123456789abcdef" for c in fp):
            raise InputError(
                f"{path}: {where}: fingerprint {row['fingerprint']!r} is not a text fingerprint "
                f"({FINGERPRINT_CHARS} hex digits); write decisions with `themetag fold-review`"
            )
        decision = row["decision"].strip().lower()
        if decision not in DECISIONS:
            raise InputError(
                f"{path}: {where}: decision {row['decision']!r} is not one of {', '.join(DECISIONS)}; fix that cell"
            )
        theme = normalise_theme(row["theme"])
        if not theme:
            raise InputError(f"{path}: {where}: column 'theme' is empty; name the theme the decision is about")
        made = Decision(fp, theme, decision, where, str(row.get("line", "")).strip())
        earlier = seen.get((fp, theme))
        if earlier and earlier.decision != decision:
            raise InputError(
                f"{path}: {where} says {decision!r} and {earlier.ledger_line} says {earlier.decision!r} "
                f"for the same text and theme {theme!r}; delete the one that is wrong"
            )
        if not earlier:
            seen[(fp, theme)] = made
            out.append(made)
    return out


@dataclass
class LedgerReport:
    applied: list[dict]  # decisions that changed a label
    kept: list[dict]  # keep decisions on texts still in the CSV
    stale: list[dict]  # decisions on texts no longer in the CSV, or add/remove that change nothing

    def as_dict(self) -> dict:
        return {"applied": self.applied, "kept": self.kept, "stale": self.stale}


def apply_ledger(
    fingerprints: list[str], theme_lists: list[list[str]], decisions: list[Decision]
) -> tuple[list[list[str]], LedgerReport]:
    """``theme_lists`` with the decisions applied (to every row holding the text), and what each did."""
    rows_of: dict[str, list[int]] = {}
    for i, fp in enumerate(fingerprints):
        rows_of.setdefault(fp, []).append(i)
    lists = [list(ts) for ts in theme_lists]
    report = LedgerReport([], [], [])
    for d in decisions:
        entry = {"ledger": d.ledger_line, "theme": d.theme, "decision": d.decision, "fingerprint": d.fingerprint}
        rows = rows_of.get(d.fingerprint, [])
        if not rows:
            report.stale.append({**entry, "reason": "its text is no longer in the training CSV"})
            continue
        entry["rows"] = [row_label(i) for i in rows]
        if d.decision == "keep":
            report.kept.append(entry)
            continue
        changed = [i for i in rows if (d.theme in lists[i]) != (d.decision == "add")]
        if not changed:
            has = "already has" if d.decision == "add" else "does not have"
            report.stale.append({**entry, "reason": f"no-op: the text {has} the theme in the training CSV"})
            continue
        for i in changed:
            lists[i] = [*lists[i], d.theme] if d.decision == "add" else [t for t in lists[i] if t != d.theme]
        report.applied.append({**entry, "rows": [row_label(i) for i in changed]})
    return lists, report


def decided_pairs(decisions: pd.DataFrame) -> set[tuple[str, str]]:
    """(fingerprint, theme) of every decision in an ``artifacts/decisions.csv`` table."""
    return set(zip(decisions["fingerprint"], decisions["theme"], strict=True))


def decisions_from_table(table: pd.DataFrame) -> list[Decision]:
    """The decisions of an ``artifacts/decisions.csv`` table (already validated and normalised)."""
    return [
        Decision(fp, theme, decision, row_label(i))
        for i, (fp, theme, decision) in enumerate(
            zip(table["fingerprint"], table["theme"], table["decision"], strict=True)
        )
    ]


def decisions_table(decisions: list[Decision]) -> pd.DataFrame:
    return pd.DataFrame(
        [(d.fingerprint, d.theme, d.decision) for d in decisions], columns=["fingerprint", "theme", "decision"]
    )
