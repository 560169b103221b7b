"""A batch to label, drawn from the unlabelled pool: reading the pool in chunks, the batch's
rows and columns, and the page that says why each row was picked. Which rows are picked is
``label_next.py``'s job; the ``suggest`` stage writes what this builds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from tabulate import tabulate

from themetag.data.input_csv import read_csv_chunks
from themetag.data.label_fixes import text_fingerprint
from themetag.labelling.label_next import PoolScan

LINE, FOR, SCORES, PREDICTED, PICKED = "unlabeled line", "suggested for", "scores", "predicted", "picked for"
PICKED_BY = "picked by"  # model (chosen for a theme) or random (uniform draw): themetag append-batch records it


def random_rows(rows: np.ndarray, share: float, batch_rows: int, seed: int) -> np.ndarray:
    """``round(share x batch_rows)`` of ``rows`` drawn uniformly (seeded): each eligible pool row
    has the same, known chance of being labelled, so these rows are a sample of the pool whatever
    the model picks beside them (``rows`` is every eligible row or a uniform sample of them)."""
    n = min(len(rows), int(round(share * batch_rows)))
    if not n:
        return np.empty(0, dtype=np.int64)
    return np.sort(np.random.default_rng([seed, 1]).choice(rows, size=n, replace=False))


def pool_texts(path: Path, text_column: str, chunksize: int):
    fix = "rename it, or set data.text_column in conf/config.yaml to the pool's text column"
    for chunk in read_csv_chunks(path, chunksize, text_column, fix):
        yield chunk[text_column].tolist()


def sampled_chunks(path: Path, text_column: str, chunksize: int, rows: np.ndarray):
    """(pool row indices, texts) of ``rows`` only, chunk by chunk."""
    start = 0
    for texts in pool_texts(path, text_column, chunksize):
        stop = start + len(texts)
        inside = rows[(rows >= start) & (rows < stop)]
        if len(inside):
            yield inside, [texts[i - start] for i in inside]
        start = stop


def pool_records(path: Path, text_column: str, chunksize: int, rows: list[int]) -> pd.DataFrame:
    """The full rows (every column) of the pool at ``rows``, indexed by pool row."""
    wanted, found, start = np.asarray(rows), [], 0
    for chunk in read_csv_chunks(path, chunksize, text_column, "set data.text_column"):
        index = np.arange(start, start + len(chunk))
        inside = np.isin(index, wanted)
        found.append(chunk[inside].set_axis(index[inside]))
        start += len(chunk)
    return pd.concat(found)


def unappended_edits(path: Path, text_column: str, themes_column: str, train: set[str]) -> int:
    """Rows of an existing batch whose themes a labeller changed and that are not in train.csv yet."""
    if not path.is_file():
        return 0
    old = pd.read_csv(path, dtype=str, keep_default_na=False)
    if not {PREDICTED, text_column, themes_column} <= set(old.columns):
        return 0
    edited = old[old[themes_column] != old[PREDICTED]]
    return sum(text_fingerprint(t) not in train for t in edited[text_column])


def batch_markdown(needs, scan: PoolScan, batch: pd.DataFrame, pool: Path, sample: int, config: str) -> str:
    rows = [
        [
            n.theme,
            n.quota,
            int((batch[PICKED] == n.theme).sum()),
            scan.above.get(n.theme, ""),
            n.held or "; ".join(n.reasons) or "meets the early-stop rule",
        ]
        for n in sorted(needs, key=lambda n: (-n.quota, n.theme))
    ]
    excluded = ", ".join(f"{v} {k}" for k, v in scan.excluded.items() if v) or "none"
    sampled = f", a seeded sample of {scan.scored} scored (suggest.max_pool)" if scan.scored < sample else ""
    found = f"{len(batch)} rows from `{pool}`: {scan.rows} rows read, left out: {excluded}; {sample} eligible{sampled}."
    drawn = int((batch[PICKED_BY] == "random").sum()) if PICKED_BY in batch else 0
    if drawn:
        found += (
            f" {drawn} of them were drawn uniformly at random (`picked by` random; each eligible row had a "
            f"{drawn}/{sample} chance, suggest.random_share): the thresholds and their estimates rest on rows like "
            "these, not on the rows the model picked, wherever they hold enough of a theme's positives."
        )
    if not scan.rows and not len(batch):
        found = f"No pool at `{pool}`: put unlabelled texts there (the training CSV's text column) to get a batch."
    return "\n".join(
        [
            "# What to label next",
            "",
            found,
            "",
            "Beside the random share, each theme's share of the batch is proportional to its reasons to need labels; themes that meet the "
            "early-stop rule get none while another theme needs labels. The quota follows each theme's learning "
            "curve (metrics/learning_curve.json, report.md: where the next labels pay): a *rising* theme gets one "
            "more reason, a *flat* one (labels are not forecast to bring it to the rule) no quota of its own. "
            "Within a theme, rows are those nearest its "
            "own threshold (in units of the spread of its out-of-fold scores), spread out by k-means, with no "
            "near-duplicates (`themetag/labelling/label_next.py`).",
            "",
            tabulate(rows, ["theme", "quota", "picked", "pool rows at/above threshold", "why"], tablefmt="github"),
            "",
            "## The loop",
            "",
            "1. Copy the batch (`cp metrics/label_next.csv batch.csv`) and correct its `Themes` column "
            "(pre-filled with the model's tags), or import `metrics/label_next.json` into Label Studio with the "
            "labelling config below.",
            "2. `themetag append-batch batch.csv` (or the Label Studio JSON export) appends the labelled "
            "rows to the training CSV.",
            "3. `dvc repro`.",
            "",
            "Label Studio labelling config:",
            "",
            "```xml",
            config.rstrip(),
            "```",
            "",
        ]
    )


def batch_frame(picked, records, scores, position, needs, scan, tagger, data: dict) -> pd.DataFrame:
    """The batch: the training CSV's columns (Themes pre-filled with the bundle's tags), the
    pool's other columns, and where each row comes from and why it was picked."""
    train_columns = [data["text_column"], data["themes_column"]]
    cutoff = {t: (dist.max() if len(dist) else -1.0) for t, (_, dist) in scan.near.items()}
    by_theme = {n.theme: n for n in needs if n.positives is None}
    searched = {n.theme for n in needs if n.positives is not None}
    out = []
    for row, theme in picked:  # theme None: a random row
        i = position[row]
        s = scores.iloc[i]
        tags = tagger.tags(scores.iloc[[i]])[0]
        near = [
            t
            for t, n in by_theme.items()
            if t in cutoff and (t == theme or abs(s[t] - n.threshold) / n.scale <= cutoff[t])
        ]
        why = [f"{t} {s[t]:.3f} (threshold {by_theme[t].threshold:.3f})" for t in near]
        if theme in searched:
            near.insert(0, theme)
            why.insert(0, f"{theme}: like its labelled positives (too few to train it yet)")
        record = records.loc[row].to_dict()
        out.append(
            {
                **{c: record.get(c, "") for c in train_columns},
                **{c: v for c, v in record.items() if c not in train_columns},
                data["themes_column"]: ", ".join(tags),
                LINE: row + 2,
                FOR: ", ".join(near),
                SCORES: "; ".join(why),
                PREDICTED: ", ".join(tags),
                PICKED: theme or "",
                PICKED_BY: "random" if theme is None else "model",
            }
        )
    return pd.DataFrame(out)
