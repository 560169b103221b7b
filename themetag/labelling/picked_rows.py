"""How each labelled row was picked: the ledger ``data/picked.csv`` (``data.picked``).

A row the model chose to be labelled (the suggest stage's ``model`` rows) is not a sample of the
texts the model will tag: it sits near a threshold, or among a rare theme's likely positives. A
precision or recall estimated on such rows does not hold on new data: in the label-loop
simulation (``bench/results/label_loop/label_loop_*.md``), the nested estimates missed test by 0.021 to
0.046 more than with random labels when they rested on every row, and by at most 0.016 more when
they rested on the rows that are a sample. So ``themetag append-batch`` records, per appended text, whether it was ``model``-picked
or drawn at ``random`` by suggest (with a known probability), and the thresholds stage chooses
each threshold on the rows that are a sample: every training row the ledger does not mark
``model`` (rows labelled before the loop count as a sample; the ledger cannot know otherwise).

Keyed by the normalised text (``text_fingerprint``), so editing or reordering the training CSV
keeps each row's origin; the training CSV itself is never rewritten.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from themetag.atomic import write_with
from themetag.data.input_csv import read_csv
from themetag.data.label_fixes import text_fingerprint
from themetag.errors import InputError

MODEL, RANDOM = "model", "random"
TEXT, PICKED = "text", "picked"
ORIGINS = (MODEL, RANDOM)


def read_picked(path: str | Path | None) -> dict[str, str]:
    """Text fingerprint -> ``model`` or ``random``; empty when there is no ledger."""
    if not path or not Path(path).is_file():
        return {}
    frame = read_csv(path, [TEXT, PICKED], "picked-rows ledger (written by themetag append-batch)", allow_no_rows=True)
    out = {}
    for i, (text, how) in enumerate(zip(frame[TEXT], frame[PICKED], strict=True)):
        if how not in ORIGINS:
            raise InputError(
                f"{path}: line {i + 2} column {PICKED!r} is {how!r}; it must be {MODEL!r} or {RANDOM!r} "
                "(fix the cell, or delete the line to count the row as a sample)"
            )
        out[text_fingerprint(text)] = how
    return out


def origins(texts: list[str], picked: dict[str, str]) -> list[str]:
    """Each text's origin: ``model``, ``random``, or ``""`` (not in the ledger)."""
    return [picked.get(text_fingerprint(t), "") for t in texts]


def record_picked(path: str | Path, texts: list[str], how: list[str]) -> int:
    """Append (text, how) for each text whose ``how`` is ``model`` or ``random``; returns the count."""
    rows = pd.DataFrame({TEXT: texts, PICKED: how})
    rows = rows[rows[PICKED].isin(ORIGINS)]
    if not len(rows):
        return 0
    path = Path(path)
    raw = path.read_bytes() if path.is_file() else b""
    header = not raw.strip()
    tail = rows.to_csv(index=False, header=header, lineterminator="\n").encode("utf-8")
    joined = raw + (b"" if not raw or raw.endswith(b"\n") else b"\n") + tail
    write_with(path, lambda p: p.write_bytes(joined))
    return len(rows)
