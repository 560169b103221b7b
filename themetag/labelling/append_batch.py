"""Append a labelled batch to the training CSV.

    themetag append-batch batch.csv            # a copy of metrics/label_next.csv, Themes corrected
    themetag append-batch export.json          # a Label Studio JSON export of metrics/label_next.json

Only the training CSV's columns are appended (the batch's helper columns are not; how each row
was picked, its ``picked by``, goes to the ledger ``data.picked``, which the thresholds read), and a row
whose text is already in the training CSV (after normalising) with the same themes is passed over,
so running it twice appends nothing the second time. A row whose text is there with other themes
is a relabel: it goes to the review ledger ``data.fixes`` as ``add`` and ``remove`` decisions
(as ``themetag fold-review`` writes them), so the labeller's correction is applied on top of the
training CSV, and the summary line names it. Two rows of the batch with the same text and different
themes are a conflict: the command names both and appends nothing until the labeller decides.
Then run ``dvc repro``. First, it keeps the last run's tuning (``themetag keep-tuning``), when that
run wrote a record and ``reuse.record`` is set: the round then refits instead of tuning.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from themetag.atomic import write_with
from themetag.data.input_csv import read_csv, row_label
from themetag.data.label_fixes import apply_ledger, read_ledger, text_fingerprint
from themetag.data.label_studio import labelled_tasks
from themetag.data.labels import split_themes, theme_normaliser
from themetag.errors import InputError
from themetag.labelling.fold_review import fold, user_name
from themetag.labelling.keep_tuning import keep
from themetag.labelling.next_batch import PICKED_BY
from themetag.labelling.picked_rows import record_picked
from themetag.pipeline import paths
from themetag.pipeline.params import load_params


def batch_rows(path: Path, data: dict) -> tuple[pd.DataFrame, int, list[str]]:
    """The batch's labelled rows with the training CSV's text and themes columns, how many
    Label Studio tasks were not labelled yet, and where each row is in the file (for messages)."""
    text_col, themes_col = data["text_column"], data["themes_column"]
    if path.suffix.lower() == ".json":
        try:
            export = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(
                f"{path}: cannot read it as JSON ({exc}); export the Label Studio project as JSON"
            ) from None
        rows, unlabelled, tasks = labelled_tasks(export, str(path))
        sep = data["separator"].strip() + " "
        how = [str(export[i]["data"].get("picked_by", "")) for i in tasks]
        frame = pd.DataFrame(
            [(t, sep.join(ts), h) for (t, ts), h in zip(rows, how, strict=True)],
            columns=[text_col, themes_col, PICKED_BY],
        )
        return frame, unlabelled, [f"task {i}" for i in tasks]
    frame = read_csv(path, [text_col, themes_col], "labelled batch", allow_no_rows=True)
    return frame, 0, [row_label(i) for i in range(len(frame))]


def conflict(path: Path, batch: pd.DataFrame, where: list[str], params: dict) -> str | None:
    """The first pair of batch rows with the same text (after normalising) and different themes,
    as a one-line message, or None."""
    data, labels = params["data"], params["labels"]
    spell = theme_normaliser(labels)
    seen: dict[str, tuple[int, frozenset]] = {}
    for i, (text, cell) in enumerate(zip(batch[data["text_column"]], batch[data["themes_column"]], strict=True)):
        if not str(text).strip():
            continue
        themes = frozenset(spell(t) for t in split_themes(str(cell), data["separator"], labels["lowercase"]))
        first = seen.setdefault(text_fingerprint(text), (i, themes))
        if first[1] != themes:
            return (
                f"{path}: {where[first[0]]} and {where[i]} have the same text with different themes "
                f"({_shown(first[1])} against {_shown(themes)}); make them agree or delete one, then run it "
                "again (nothing was appended)"
            )
    return None


def _shown(themes: frozenset) -> str:
    return ", ".join(sorted(themes)) or "(no theme)"


def relabels(batch: pd.DataFrame, where: list[str], train: pd.DataFrame, params: dict, source: Path) -> list[dict]:
    """Ledger decisions for the batch rows whose text is already in the training CSV with other
    themes than the batch gives it (the themes the CSV and the ledger give it now)."""
    data, labels = params["data"], params["labels"]
    spell = theme_normaliser(labels)
    text_col, themes_col = data["text_column"], data["themes_column"]
    first: dict[str, int] = {}
    for i, text in enumerate(train[text_col]):
        first.setdefault(text_fingerprint(text), i)
    ledger = read_ledger(data["fixes"], spell) if data.get("fixes") else []

    def themes_of(cell: str) -> list[str]:
        return [spell(t) for t in split_themes(str(cell), data["separator"], labels["lowercase"])]

    out = []
    for i, (text, cell) in enumerate(zip(batch[text_col], batch[themes_col], strict=True)):
        fp = text_fingerprint(text)
        if fp not in first or not str(text).strip():
            continue
        line = first[fp]
        (now,), _ = apply_ledger(
            [fp], [themes_of(train[themes_col].iloc[line])], [d for d in ledger if d.fingerprint == fp]
        )
        wanted = themes_of(cell)
        note = f"relabelled in {source.name} {where[i]}"
        for theme, decision in [
            *((t, "add") for t in wanted if t not in now),
            *((t, "remove") for t in now if t not in wanted),
        ]:
            out.append({"fingerprint": fp, "line": str(line + 2), "theme": theme, "decision": decision, "note": note})
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("batch", type=Path, help="labelled batch: .csv (copy of metrics/label_next.csv) or .json")


def run(args: argparse.Namespace) -> None:
    params = load_params()
    data = params["data"]
    train_path = Path(data["train"])
    train = read_csv(train_path, [data["text_column"], data["themes_column"]], "labelled training CSV")
    batch, unlabelled, where = batch_rows(args.batch, data)
    clash = conflict(args.batch, batch, where, params)
    if clash:
        raise InputError(clash)
    fixes = relabels(batch, where, train, params, args.batch)
    if fixes and not data.get("fixes"):
        f = fixes[0]
        raise InputError(
            f"{args.batch}: {f['note'].split(' ', 3)[-1]} relabels {train_path} line {f['line']} ({f['decision']} "
            f"{f['theme']!r}), and data.fixes is not set to record it; set data.fixes (e.g. data/label_fixes.csv), "
            f"or edit line {f['line']} of {train_path} by hand (nothing was appended)"
        )
    have = {text_fingerprint(t) for t in train[data["text_column"]]}
    fresh, repeats = [], 0
    for i, text in enumerate(batch[data["text_column"]]):
        fp = text_fingerprint(text)
        if fp in have or not str(text).strip():
            repeats += 1
            continue
        have.add(fp)
        fresh.append(i)
    new = batch.iloc[fresh].reindex(columns=train.columns).fillna("")
    if len(new) and (params.get("reuse") or {}).get("record") and paths.RECORD_OUT.is_file():
        kept = keep(load_params(resolve=False), quiet_if_same=True)  # before the data changes: the run's own tuning
        if kept:
            print(kept)
    recorded = 0
    if len(new) and data.get("picked") and PICKED_BY in batch:
        # the ledger first: appended again after an interruption, a text is passed over in train.csv
        # and its ledger line repeats harmlessly; the other way round a row could lose its origin
        texts = batch[data["text_column"]].iloc[fresh].tolist()
        recorded = record_picked(data["picked"], texts, batch[PICKED_BY].iloc[fresh].tolist())
    if len(new):  # the existing rows stay byte for byte; the new ones follow
        raw = train_path.read_bytes()
        tail = new.to_csv(index=False, header=False, lineterminator="\n").encode("utf-8")
        write_with(train_path, lambda p: p.write_bytes(raw + (b"" if raw.endswith(b"\n") else b"\n") + tail))
    if fixes:  # after the rows: a relabel applied again replaces its own ledger lines
        ledger = Path(data["fixes"])
        table = fold(ledger, fixes, user_name(), theme_normaliser(params["labels"]))
        write_with(ledger, lambda p: table.to_csv(p, index=False))
    relabelled = len({(f["fingerprint"]) for f in fixes})
    repeats -= relabelled
    empty = int((new[data["themes_column"]].str.strip() == "").sum())
    notes = [f"{repeats} already in {train_path} with the same themes, or empty, passed over"] if repeats else []
    if fixes:
        lines = sorted({int(f["line"]) for f in fixes})
        shown = ", ".join(f"line {n}" for n in lines[:5]) + (f" and {len(lines) - 5} more" if len(lines) > 5 else "")
        notes.append(
            f"{relabelled} relabel(s) of rows already in {train_path} ({shown}) recorded as {len(fixes)} "
            f"decision(s) in {data['fixes']}"
        )
    if unlabelled:
        notes.append(f"{unlabelled} tasks not labelled yet, left out")
    if recorded:
        notes.append(f"how {recorded} were picked recorded in {data['picked']}")
    if empty:
        notes.append(f"{empty} rows with no theme (labels.empty_themes decides whether they train as negatives)")
    more = f" ({'; '.join(notes)})" if notes else ""
    print(f"append-batch: {len(new)} rows appended to {train_path}{more}; now run `dvc repro`")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="themetag append-batch", description=__doc__.splitlines()[0])
    add_arguments(parser)
    run(parser.parse_args(argv))
