"""tag_frame on a real Dask LocalCluster (2 worker processes) over a partitioned CSV: the same
tags as the CLI, the bundle loaded once per worker, and the fixed schema on an empty batch."""

import pandas as pd
import pytest

from themetag.errors import InputError
from themetag.tagging.frame import PREDICTED, cached_tagger, tag_frame
from themetag.tagging.predict import main as predict_main


@pytest.fixture
def rows(trained, tmp_path):
    texts = pd.read_csv(trained / "data/test.csv", dtype=str, keep_default_na=False)["Processed Text"]
    frame = pd.DataFrame({"id": range(len(texts)), "Processed Text": texts})
    path = tmp_path / "in.csv"
    frame.to_csv(path, index=False)
    return path


def test_tag_frame_keeps_the_batch_and_has_a_fixed_schema_when_empty(trained, rows):
    bundle = trained / "models/bundle.joblib"
    batch = pd.read_csv(rows, keep_default_na=False).head(7)
    out = tag_frame(batch, bundle, scores=True)
    themes = cached_tagger(str(bundle.resolve())).themes
    assert out.columns.tolist() == ["id", "Processed Text", PREDICTED, *[f"score {t}" for t in themes]]
    pd.testing.assert_frame_equal(out[batch.columns], batch)
    empty = tag_frame(batch.iloc[:0], bundle, scores=True)
    assert len(empty) == 0 and empty.columns.tolist() == out.columns.tolist()
    with pytest.raises(InputError, match="no column 'text'"):
        tag_frame(batch, bundle, text_column="text")


def test_dask_local_cluster_tags_as_the_cli_and_loads_the_bundle_once_per_worker(trained, rows, tmp_path):
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    bundle = str((trained / "models/bundle.joblib").resolve())
    predict_main(["--input", str(rows), "--output", str(tmp_path / "cli.csv"), "--bundle", bundle])
    cli = pd.read_csv(tmp_path / "cli.csv", keep_default_na=False)

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            frame = dd.read_csv(rows, blocksize=2_000, dtype={"Processed Text": str}, keep_default_na=False)
            assert frame.npartitions >= 4  # more batches than workers
            meta = tag_frame(frame._meta, bundle)
            tagged = frame.map_partitions(tag_frame, bundle=bundle, meta=meta).compute()
            loads = client.run(lambda: cached_tagger.cache_info().misses)
            calls = client.run(lambda: cached_tagger.cache_info().hits + cached_tagger.cache_info().misses)
    tagged = tagged.sort_values("id").reset_index(drop=True)
    assert tagged["id"].tolist() == cli["id"].tolist()
    assert tagged[PREDICTED].fillna("").tolist() == cli[PREDICTED].tolist()
    assert all(n <= 1 for n in loads.values()) and sum(loads.values()) >= 1
    assert sum(calls.values()) >= frame.npartitions  # every batch asked, at most one load per worker


def test_encoder_threads_follow_omp_num_threads_where_it_is_set(monkeypatch):
    """Dask workers set OMP_NUM_THREADS=1; onnxruntime would otherwise give each worker a thread
    pool as large as the machine (bench.tag_frame_speed: 0.68x the CLI before, 0.95x after)."""
    from themetag.features.encoder import session_options

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert session_options().intra_op_num_threads == 1
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert session_options().intra_op_num_threads == 0  # onnxruntime's own choice
    monkeypatch.setenv("OMP_NUM_THREADS", "lots")
    assert session_options().intra_op_num_threads == 0
