"""Stage suggest: what to label next, from the optional pool ``data/unlabeled.csv``.

Writes ``metrics/label_next.csv`` (the batch: training CSV's columns first, ``Themes``
pre-filled with the bundle's tags, then where each row comes from and why it was picked),
``metrics/label_next.json`` (the same batch as Label Studio tasks, tags as pre-annotations) and
``metrics/label_next.md`` (how the batch was split between themes, and why). Without a pool it
writes an empty batch that says how to add one. It reads the bundle, the thresholds and the
evaluation, never a tuning output, so it reruns after a threshold edit and never retunes.
How rows are chosen: ``themetag/labelling/label_next.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from themetag.atomic import read_json, write_json, write_text, write_with
from themetag.data.input_csv import read_csv
from themetag.data.label_fixes import text_fingerprint
from themetag.data.label_studio import labeling_config, tasks
from themetag.data.labels import split_themes, theme_normaliser
from themetag.errors import InputError, run_cli
from themetag.features.vector_cache import default_root
from themetag.labelling.label_next import (
    PoolScan,
    allot,
    eligible_rows,
    follow_forecast,
    pick_diverse,
    scan_pool,
    search_vectors,
    theme_needs,
    untrained_needs,
    vectors_for_diversity,
)
from themetag.labelling.next_batch import (
    FOR,
    LINE,
    PICKED,
    PICKED_BY,
    PREDICTED,
    SCORES,
    batch_frame,
    batch_markdown,
    pool_records,
    pool_texts,
    random_rows,
    sampled_chunks,
    unappended_edits,
)
from themetag.pipeline import paths
from themetag.pipeline.params import load_params
from themetag.tagging.bundle import load_bundle, manifest_path


def positive_texts(frame: pd.DataFrame, data: dict, labels: dict, themes: list[str]) -> dict[str, list[str]]:
    """Each of ``themes``' positive texts in the training CSV, themes spelled as expand_labels does."""
    spell, wanted = theme_normaliser(labels), set(themes)
    out: dict[str, list[str]] = {}
    for text, cell in zip(frame[data["text_column"]], frame[data["themes_column"]], strict=True):
        for t in split_themes(cell, data["separator"], labels["lowercase"]):
            if spell(t) in wanted and str(text).strip():
                out.setdefault(spell(t), []).append(text)
    return out


def write_batch(batch: pd.DataFrame, needs, scan, pool: Path, sample: int, tagger, model_version: str) -> None:
    write_with(paths.LABEL_NEXT, lambda p: batch.to_csv(p, index=False))
    text_column = tagger.text_column
    rows = [
        {
            "text": r[text_column],
            "tags": [t for t in r[PREDICTED].split(", ") if t],
            "data": {"line": r[LINE], "suggested_for": r[FOR], "picked_by": r[PICKED_BY]},
        }
        for r in batch.to_dict("records")
    ]
    write_json(paths.LABEL_NEXT_TASKS, tasks(rows, model_version))
    # themes not trained yet are choices too: the batch searches for their positives
    choices = [*tagger.themes, *(n.theme for n in needs if n.positives is not None)]
    write_text(paths.LABEL_NEXT_MD, batch_markdown(needs, scan, batch, pool, sample, labeling_config(choices)))


def main() -> None:
    params = load_params()
    data, conf = params["data"], params["suggest"]
    tagger = load_bundle(paths.BUNDLE).use_vector_cache(default_root())
    text_column = tagger.text_column
    train_frame = read_csv(data["train"], [data["text_column"], data["themes_column"]], "labelled training CSV")
    train = {text_fingerprint(t) for t in train_frame[data["text_column"]]}
    pending = unappended_edits(paths.LABEL_NEXT, text_column, data["themes_column"], train)
    if pending:
        raise InputError(
            f"{paths.LABEL_NEXT}: {pending} labelled rows are not in {data['train']} yet and would be overwritten; "
            f"append them with `themetag append-batch {paths.LABEL_NEXT}`, or copy the file elsewhere, "
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
    if conf["follow_forecast"]:
        follow_forecast(needs, read_json(paths.LEARNING_CURVE) if paths.LEARNING_CURVE.is_file() else None)
    # themes left out for too few positives: the batch searches for more of them
    left_out = read_json(paths.THEME_REPORT)
    counts = {t: left_out["counts"][t] for t in left_out["left_out"]}
    searched = untrained_needs(counts, int(params["labels"]["min_positives"]), int(conf["few_positives"]))
    searched = searched if conf["search_untrained"] else []
    search_vectors(tagger, searched, positive_texts(train_frame, data, params["labels"], [n.theme for n in searched]))
    needs += searched
    columns = [*train_frame.columns, LINE, FOR, SCORES, PREDICTED, PICKED, PICKED_BY]
    pool = Path(data.get("unlabeled") or "")
    scan = PoolScan()
    if not data.get("unlabeled") or not pool.is_file():
        allot(needs, int(conf["batch_rows"]))
        write_batch(pd.DataFrame(columns=columns), needs, scan, pool, 0, tagger, "")
        print(f"suggest: no pool at {pool}; put unlabelled texts there (column {text_column!r}) to get a batch")
        return
    chunksize = int(conf["chunksize"])
    rows = eligible_rows(pool_texts(pool, text_column, chunksize), train, scan)
    sample = len(rows)
    if conf.get("max_pool") and len(rows) > int(conf["max_pool"]):
        rng = np.random.default_rng(int(conf["seed"]))
        rows = np.sort(rng.choice(rows, size=int(conf["max_pool"]), replace=False))
    drawn = random_rows(rows, float(conf["random_share"]), int(conf["batch_rows"]), int(conf["seed"]))
    allot(needs, int(conf["batch_rows"]) - len(drawn))
    rest = np.setdiff1d(rows, drawn)
    scan_pool(tagger, sampled_chunks(pool, text_column, chunksize, rest), needs, int(conf["prefilter"]), scan)
    scan.scored += len(drawn)  # scored with the batch below

    candidates = sorted({*(int(r) for near, _ in scan.near.values() for r in near), *(int(r) for r in drawn)})
    records = pool_records(pool, text_column, chunksize, candidates) if candidates else pd.DataFrame()
    position = {r: i for i, r in enumerate(candidates)}
    if candidates:
        scores, vectors = vectors_for_diversity(tagger, records[text_column].tolist())
        picked = pick_diverse(needs, scan, vectors, position, float(conf["near_duplicate"]), int(conf["seed"]))
        picked += [(int(r), None) for r in drawn]
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


if __name__ == "__main__":
    run_cli(main)
