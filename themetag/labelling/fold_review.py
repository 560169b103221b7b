"""Fold label decisions into the review ledger, ``data/label_fixes.csv``.

    themetag fold-review [--review metrics/label_review.csv] [--by NAME]
    themetag fold-review --line 123 --theme food --decision add [--note "..."]

The first form takes every row of the review spreadsheet whose ``decision`` cell is filled in
(``add``, ``remove`` or ``keep``); the second records one decision about one line of the
training CSV. Each decision is checked against ``data/train.csv`` first: a review made before
the CSV changed is refused whole, in one line, so that no decision lands on the wrong text. A
later decision on the same text and theme replaces the earlier one. Then run ``dvc repro``:
the ledger is applied on top of the training CSV, and decided pairs leave the review.
"""

from __future__ import annotations

import argparse
import datetime
import getpass
from pathlib import Path

import pandas as pd

from themetag.atomic import write_with
from themetag.data.input_csv import read_csv, row_label
from themetag.data.label_fixes import COLUMNS, DECISIONS, read_ledger, text_fingerprint
from themetag.data.labels import split_themes, theme_normaliser
from themetag.errors import InputError
from themetag.pipeline import paths
from themetag.pipeline.params import load_params


def review_decisions(review: Path, train: pd.DataFrame, text_col: str, train_path: str) -> list[dict]:
    """The filled-in rows of a review CSV, each checked against the training CSV as it is now."""
    frame = read_csv(review, ["theme", "line", "label", "fingerprint", "decision"], "label review CSV", True)
    out = []
    for i, row in enumerate(frame.to_dict("records")):
        decision = row["decision"].strip().lower()
        if not decision:
            continue
        where = f"{review}: {row_label(i)}"
        if decision not in DECISIONS:
            raise InputError(
                f"{where}: decision {row['decision']!r} is not one of {', '.join(DECISIONS)}; fix that cell"
            )
        line = int(row["line"])
        if not 2 <= line < len(train) + 2 or text_fingerprint(train[text_col].iloc[line - 2]) != row["fingerprint"]:
            raise InputError(
                f"{where}: {train_path} line {line} no longer holds this row's text, so the review is older than "
                "the CSV; nothing was folded. Run `dvc repro` and fill in the new review"
            )
        out.append(check_consistent(where, decision, row["theme"], row["label"] == "1", row, line))
    return out


def check_consistent(where: str, decision: str, theme: str, has: bool, row: dict, line: int) -> dict:
    """Refuse ``add`` on a label the row already has and ``remove`` on one it lacks: a slip, not a fix."""
    if (decision == "add" and has) or (decision == "remove" and not has):
        state = "already has" if has else "does not have"
        raise InputError(
            f"{where}: decision {decision!r}, but the row {state} theme {theme!r}; "
            f"write keep (the label is right) or {'remove' if has else 'add'}; nothing was folded"
        )
    return {
        "fingerprint": row["fingerprint"],
        "line": line,
        "theme": theme,
        "decision": decision,
        "note": row.get("note", ""),
    }


def one_decision(args: argparse.Namespace, train: pd.DataFrame, data: dict, normalise) -> dict:
    line = args.line
    if not 2 <= line < len(train) + 2:
        raise InputError(f"{data['train']}: there is no line {line} (data rows are lines 2 to {len(train) + 1})")
    theme = normalise(args.theme)
    row = train.iloc[line - 2]
    has = theme in [normalise(t) for t in split_themes(row[data["themes_column"]], data["separator"], False)]
    fields = {"fingerprint": text_fingerprint(row[data["text_column"]]), "note": args.note or ""}
    return check_consistent(f"{data['train']}: line {line}", args.decision, theme, has, fields, line)


def fold(ledger: Path, new: list[dict], by: str, normalise) -> pd.DataFrame:
    """The ledger with ``new`` decisions; each replaces an earlier one on the same text and theme."""
    read_ledger(ledger, normalise)  # a malformed ledger stops here, before anything is written
    old = (
        read_csv(ledger, ["fingerprint", "theme", "decision"], "label fixes ledger", True)
        if ledger.is_file()
        else pd.DataFrame(columns=COLUMNS)
    )
    today = datetime.date.today().isoformat()
    added = pd.DataFrame([{**d, "by": by, "date": today} for d in new], dtype=str)
    replaced = {(d["fingerprint"], d["theme"]) for d in new}
    keep = [
        (fp.strip().lower(), normalise(t)) not in replaced
        for fp, t in zip(old["fingerprint"], old["theme"], strict=True)
    ]
    merged = pd.concat([old[keep], added], ignore_index=True)
    columns = COLUMNS + [c for c in merged.columns if c not in COLUMNS]
    return merged.reindex(columns=columns).fillna("")


def user_name() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in the environment or the password database
        return ""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--review", type=Path, default=paths.LABEL_REVIEW, help="review CSV with decisions filled in")
    parser.add_argument("--line", type=int, help="one decision: this line of the training CSV (header = line 1)")
    parser.add_argument("--theme", help="with --line: the theme")
    parser.add_argument("--decision", choices=DECISIONS, help="with --line: add, remove or keep")
    parser.add_argument("--note", default="", help="with --line: why")
    parser.add_argument("--by", default=None, help="who decided (default: the user name)")


def run(args: argparse.Namespace) -> None:
    params = load_params()
    data = params["data"]
    normalise = theme_normaliser(params["labels"])
    train = read_csv(data["train"], [data["text_column"], data["themes_column"]], "labelled training CSV")
    if args.line is not None:
        if not (args.theme and args.decision):
            raise InputError("--line needs --theme and --decision (add, remove or keep)")
        new = [one_decision(args, train, data, normalise)]
    else:
        new = review_decisions(args.review, train, data["text_column"], data["train"])
        for d in new:
            d["theme"] = normalise(d["theme"])
    ledger = Path(data["fixes"])
    if not new:
        print(f"fold-review: no decision filled in {args.review}; write add, remove or keep in its decision column")
        return
    table = fold(ledger, new, args.by if args.by is not None else user_name(), normalise)
    write_with(ledger, lambda p: table.to_csv(p, index=False))
    counts = pd.Series([d["decision"] for d in new]).value_counts().to_dict()
    said = ", ".join(f"{counts.get(k, 0)} {k}" for k in DECISIONS)
    print(f"fold-review: {len(new)} decisions ({said}) -> {ledger} ({len(table)} in all); now run `dvc repro`")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="themetag fold-review", description=__doc__.splitlines()[0])
    add_arguments(parser)
    run(parser.parse_args(argv))
