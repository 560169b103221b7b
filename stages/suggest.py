"""Stage suggest: what to label next, from the optional pool ``data/unlabeled.csv``.

Writes ``metrics/label_next.csv`` (the batch: training CSV's columns first, ``Themes``
pre-filled with the bundle's tags, then where each row comes from and why it was picked),
``metrics/label_next.json`` (the same batch as Label Studio tasks, tags as pre-annotations) and
``metrics/label_next.md`` (how the batch was split between themes, and why). Without a pool it
writes an empty batch that says how to add one. It reads the bundle, the thresholds and the
evaluation, never a tuning output, so it reruns after a threshold edit and never retunes.
How rows are chosen: ``stages/label_next.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from tabulate import tabulate

from stages import paths
from stages.atomic import read_json, write_json, write_text, write_with
from stages.bundle import load_bundle, manifest_path
from stages.errors import InputError, run_cli
from stages.input_csv import read_csv, read_csv_chunks
from stages.label_fixes import text_fingerprint
from stages.label_next import (
    PoolScan,
    allot,
    eligible_rows,
    pick_diverse,
    scan_pool,
    theme_needs,
    vectors_for_diversity,
)
from stages.label_studio import labeling_config, tasks
from stages.params import load_params

LINE, FOR, SCORES, PREDICTED, PICKED = "unlabeled line", "suggested for", "scores", "predicted", "picked for"


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
            "; ".join(n.reasons) or "meets the early-stop rule",
        ]
        for n in sorted(needs, key=lambda n: (-n.quota, n.theme))
    ]
    excluded = ", ".join(f"{v} {k}" for k, v in scan.excluded.items() if v) or "none"
    sampled = f", a seeded sample of {scan.scored} scored (suggest.max_pool)" if scan.scored < sample else ""
    found = f"{len(batch)} rows from `{pool}`: {scan.rows} rows read, left out: {excluded}; {sample} eligible{sampled}."
    if not scan.rows and not len(batch):
        found = f"No pool at `{pool}`: put unlabelled texts there (the training CSV's text column) to get a batch."
    return "\n".join(
        [
            "# What to label next",
            "",
            found,
            "",
            "Each theme's share of the batch is proportional to its reasons to need labels; themes that meet the "
            "early-stop rule get none while another theme needs labels. Within a theme, rows are those nearest its "
            "own threshold (in units of the spread of its out-of-fold scores), spread out by k-means, with no "
            "near-duplicates (`stages/label_next.py`).",
            "",
            tabulate(rows, ["theme", "quota", "picked", "pool rows at/above threshold", "why"], tablefmt="github"),
            "",
            "## The loop",
            "",
            "1. Copy the batch (`cp metrics/label_next.csv batch.csv`) and correct its `Themes` column "
            "(pre-filled with the model's tags), or import `metrics/label_next.json` into Label Studio with the "
            "labelling config below.",
            "2. `python -m stages.append_batch batch.csv` (or the Label Studio JSON export) appends the labelled "
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


def write_batch(batch: pd.DataFrame, needs, scan, pool: Path, sample: int, tagger, model_version: str) -> None:
    write_with(paths.LABEL_NEXT, lambda p: batch.to_csv(p, index=False))
    text_column = tagger.text_column
    rows = [
        {
            "text": r[text_column],
            "tags": [t for t in r[PREDICTED].split(", ") if t],
            "data": {"line": r[LINE], "suggested_for": r[FOR]},
        }
        for r in batch.to_dict("records")
    ]
    write_json(paths.LABEL_NEXT_TASKS, tasks(rows, model_version))
    write_text(paths.LABEL_NEXT_MD, batch_markdown(needs, scan, batch, pool, sample, labeling_config(tagger.themes)))


def main() -> None:
    params = load_params()
    data, conf = params["data"], params["suggest"]
    tagger = load_bundle(paths.BUNDLE)
    text_column = tagger.text_column
    train_frame = read_csv(data["train"], [data["text_column"], data["themes_column"]], "labelled training CSV")
    train = {text_fingerprint(t) for t in train_frame[data["text_column"]]}
    pending = unappended_edits(paths.LABEL_NEXT, text_column, data["themes_column"], train)
    if pending:
        raise InputError(
            f"{paths.LABEL_NEXT}: {pending} labelled rows are not in {data['train']} yet and would be overwritten; "
            f"append them with `python -m stages.append_batch {paths.LABEL_NEXT}`, or copy the file elsewhere, "
            "then run `dvc repro` again"
        )
    chosen = read_json(paths.THRESHOLDS)["themes"]
    needs = theme_needs(
        chosen,
        read_json(paths.METRICS_JSON),
        pd.read_csv(paths.SELECTED_OOF),
        params["tuning"]["early_stop"],
        params["thresholds"]["min_precision"],
        int(conf["few_positives"]),
    )
    allot(needs, int(conf["batch_rows"]))
    columns = [*train_frame.columns, LINE, FOR, SCORES, PREDICTED, PICKED]
    pool = Path(data.get("unlabeled") or "")
    scan = PoolScan()
    if not data.get("unlabeled") or not pool.is_file():
        write_batch(pd.DataFrame(columns=columns), needs, scan, pool, 0, tagger, "")
        print(f"suggest: no pool at {pool}; put unlabelled texts there (column {text_column!r}) to get a batch")
        return
    chunksize = int(conf["chunksize"])
    rows = eligible_rows(pool_texts(pool, text_column, chunksize), train, scan)
    sample = len(rows)
    if conf.get("max_pool") and len(rows) > int(conf["max_pool"]):
        rng = np.random.default_rng(int(conf["seed"]))
        rows = np.sort(rng.choice(rows, size=int(conf["max_pool"]), replace=False))
    scan_pool(tagger, sampled_chunks(pool, text_column, chunksize, rows), needs, int(conf["prefilter"]), scan)

    candidates = sorted({int(r) for near, _ in scan.near.values() for r in near})
    records = pool_records(pool, text_column, chunksize, candidates) if candidates else pd.DataFrame()
    position = {r: i for i, r in enumerate(candidates)}
    if candidates:
        scores, vectors = vectors_for_diversity(tagger, records[text_column].tolist())
        picked = pick_diverse(needs, scan, vectors, position, float(conf["near_duplicate"]), int(conf["seed"]))
    else:
        picked = []
    batch = batch_frame(picked, records, scores if picked else None, position, needs, scan, tagger, data)
    manifest = read_json(manifest_path(paths.BUNDLE))
    write_batch(
        batch.reindex(columns=[*columns, *[c for c in batch.columns if c not in columns]]),
        needs,
        scan,
        pool,
        sample,
        tagger,
        f"bundle {manifest['sha256'][:12]}",
    )
    split = ", ".join(f"{n.theme} {n.quota}" for n in sorted(needs, key=lambda n: -n.quota) if n.quota)
    print(f"suggest: {len(batch)} rows to label -> {paths.LABEL_NEXT} ({paths.LABEL_NEXT_MD} says why); split: {split}")
    for n in needs:
        if n.quota:
            print(f"suggest {n.theme}: {n.quota} rows; {'; '.join(n.reasons) or 'no theme needs labels: equal shares'}")


def batch_frame(picked, records, scores, position, needs, scan, tagger, data: dict) -> pd.DataFrame:
    """The batch: the training CSV's columns (Themes pre-filled with the bundle's tags), the
    pool's other columns, and where each row comes from and why it was picked."""
    train_columns = [data["text_column"], data["themes_column"]]
    cutoff = {t: (dist.max() if len(dist) else -1.0) for t, (_, dist) in scan.near.items()}
    by_theme = {n.theme: n for n in needs}
    out = []
    for row, theme in picked:
        i = position[row]
        s = scores.iloc[i]
        tags = [t for t in tagger.themes if s[t] >= tagger.thresholds[t]]
        near = [
            t
            for t, n in by_theme.items()
            if t in cutoff and (t == theme or abs(s[t] - n.threshold) / n.scale <= cutoff[t])
        ]
        record = records.loc[row].to_dict()
        out.append(
            {
                **{c: record.get(c, "") for c in train_columns},
                **{c: v for c, v in record.items() if c not in train_columns},
                data["themes_column"]: ", ".join(tags),
                LINE: row + 2,
                FOR: ", ".join(near),
                SCORES: "; ".join(f"{t} {s[t]:.3f} (threshold {by_theme[t].threshold:.3f})" for t in near),
                PREDICTED: ", ".join(tags),
                PICKED: theme,
            }
        )
    return pd.DataFrame(out)


if __name__ == "__main__":
    run_cli(main)
