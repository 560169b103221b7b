"""The sentence encoder and the feature spaces: real ONNX model, real texts, CPU only."""

import json
import shutil
import subprocess
import sys

import joblib
import numpy as np
import pandas as pd
import pytest

from harness.dvc_repo import ROOT
from themetag.errors import InputError
from themetag.features.encoder import Encoder, resolve_model
from themetag.features.featurizers import leaves
from themetag.features.spaces import ConcatSpace, EmbeddingSpace, TfidfSpace, encoder_key, make_space
from themetag.modelling.candidates import candidate, candidates
from themetag.tagging.bundle import load_bundle

TEXTS = pd.read_csv(ROOT / "data/train.csv")["Processed Text"].head(40).tolist()


@pytest.fixture(scope="module")
def encoder():
    return Encoder("all-MiniLM-L6-v2", max_tokens=256, batch_size=8)


def test_vectors_have_the_model_width_unit_length_and_do_not_depend_on_the_batch(encoder):
    vectors = encoder.encode(TEXTS)
    assert vectors.shape == (len(TEXTS), 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(encoder.encode(TEXTS), vectors)  # deterministic
    alone = Encoder("all-MiniLM-L6-v2", batch_size=1).encode(TEXTS[:5])
    np.testing.assert_allclose(alone, vectors[:5], atol=1e-5)  # batch and padding change nothing


def test_texts_with_the_same_meaning_are_nearer_than_unrelated_ones(encoder):
    pairs = [
        ("The waiter was rude to us.", "Our server was very impolite."),
        ("The soup was cold and bland.", "My soup had no taste and wasn't hot."),
        ("I am so happy today!", "What a joyful day, I feel great."),
        ("The train was delayed by an hour.", "Our rail journey started sixty minutes late."),
    ]
    v = encoder.encode([t for pair in pairs for t in pair])
    sims = v @ v.T
    for i in range(len(pairs)):
        same = sims[2 * i, 2 * i + 1]
        others = [sims[2 * i, 2 * j + 1] for j in range(len(pairs)) if j != i]
        assert same > max(others) + 0.1, (pairs[i], same, others)


def test_a_local_folder_with_model_and_tokenizer_gives_the_same_vectors(encoder, tmp_path):
    files = resolve_model("all-MiniLM-L6-v2")
    shutil.copy(files.onnx, tmp_path / "model.onnx")
    shutil.copy(files.tokenizer, tmp_path / "tokenizer.json")
    local = Encoder(str(tmp_path), batch_size=8)
    assert local.sha256 == encoder.sha256
    np.testing.assert_array_equal(local.encode(TEXTS[:6]), encoder.encode(TEXTS[:6]))


def test_a_missing_model_is_one_line_naming_the_file(tmp_path):
    (tmp_path / "tokenizer.json").write_text("{}")
    with pytest.raises(InputError, match=r"model\.onnx is missing"):
        Encoder(str(tmp_path))
    with pytest.raises(InputError, match="device='tpu'"):
        Encoder("all-MiniLM-L6-v2", device="tpu")


def test_spaces_declare_what_they_are():
    tfidf = {"kind": "tfidf", "ngram_max": 1, "min_df": 1, "max_df": 1.0, "sublinear_tf": True, "max_features": None}
    emb = {"kind": "embeddings", "model": "all-MiniLM-L6-v2", "max_tokens": 64, "batch_size": 8}
    both = make_space("both", {"kind": "concat", "parts": {"tfidf": tfidf, "embeddings": emb}})
    assert isinstance(both, ConcatSpace) and both.per_fold and both.sparse and not both.non_negative
    assert (TfidfSpace.per_fold, TfidfSpace.sparse, TfidfSpace.non_negative) == (True, True, True)
    assert (EmbeddingSpace.per_fold, EmbeddingSpace.sparse, EmbeddingSpace.non_negative) == (False, False, False)
    with pytest.raises(InputError, match="kind='bag'"):
        make_space("odd", {"kind": "bag"})


def test_concat_fold_matrices_are_the_parts_side_by_side(encoder):
    tfidf = {"kind": "tfidf", "ngram_max": 1, "min_df": 1, "max_df": 1.0, "sublinear_tf": True, "max_features": None}
    emb = {"kind": "embeddings", "model": "all-MiniLM-L6-v2", "max_tokens": 256, "batch_size": 8}
    both = make_space("both", {"kind": "concat", "parts": {"tfidf": tfidf, "embeddings": emb}})
    fold = np.arange(len(TEXTS)) % 4
    E = encoder.encode(TEXTS)
    mats = both.fold_matrices(both.fold_data(TEXTS, fold, {encoder_key(emb): E}))
    t = TfidfSpace("t", tfidf)
    tm = t.fold_matrices(t.fold_data(TEXTS, fold, {}))
    k = 2
    np.testing.assert_array_equal(mats.valid_idx[k], np.flatnonzero(fold == k))
    right = mats.X_valid[k][:, tm.X_valid[k].shape[1] :].toarray()
    np.testing.assert_allclose(right, E[fold == k], atol=1e-7)  # the encoder's columns, never refitted per fold
    assert (mats.X_valid[k][:, : tm.X_valid[k].shape[1]] != tm.X_valid[k]).nnz == 0


def grid_params(**families):
    base = {"estimator": "logreg", "select_k": None, "spaces": None}
    return {
        "models": {"families": list(families), "spaces": ["tfidf", "embeddings"]},
        "families": {name: {**base, **conf} for name, conf in families.items()},
        "features": {"tfidf": {"kind": "tfidf"}, "embeddings": {"kind": "embeddings"}},
    }


def test_incompatible_pairs_are_skipped_with_a_reason_and_explicit_ones_stop():
    params = grid_params(
        logreg={}, nb={"estimator": "nb"}, adaboost={"estimator": "adaboost", "select_k": 10}, rf={"spaces": ["tfidf"]}
    )
    skips = {c.name: c.skip for c in candidates(params)}
    assert skips["logreg-tfidf"] is None and skips["logreg-embeddings"] is None
    assert "nb needs non-negative input" in skips["nb-embeddings"] and skips["nb-tfidf"] is None
    assert "chi2 feature selection" in skips["adaboost-embeddings"]
    assert "families.rf.spaces" in skips["rf-embeddings"] and skips["rf-tfidf"] is None
    explicit = grid_params(nb={"estimator": "nb", "spaces": ["tfidf", "embeddings"]})
    with pytest.raises(InputError, match=r"conf/families/nb\.yaml: spaces lists 'embeddings'"):
        candidate(explicit, "nb", "embeddings")


def test_pipeline_and_predict_give_identical_vectors_and_each_space_is_selected(trained):
    selection = json.loads((trained / "artifacts/selection.json").read_text())
    tagger = load_bundle(trained / "models/bundle.joblib")
    spaces = {s["space"] for s in selection.values()}
    # the bundle mixes spaces, and holds both a fitted TF-IDF and the encoder
    assert len(spaces) >= 2 and spaces & {"tfidf", "tfidf_embeddings"} and spaces - {"tfidf"}, selection
    assert tagger.spaces == {t: s["space"] for t, s in selection.items()}
    texts = pd.read_csv(trained / "artifacts/texts.csv", keep_default_na=False)["text"].tolist()[:50]
    (stored_file,) = json.loads((trained / "artifacts/embeddings/index.json").read_text()).values()
    stored = np.load(trained / "artifacts/embeddings" / stored_file)[:50]
    (enc,) = tagger.encoders()
    np.testing.assert_array_equal(enc.encode(texts), stored)
    manifest = json.loads((trained / "models/bundle.json").read_text())
    (recorded,) = manifest["encoders"]
    assert recorded["sha256"] == enc.sha256 and recorded["provider"] == "CPUExecutionProvider"
    assert recorded["onnxruntime_version"] and recorded["tokenizers_version"]


def test_a_bundle_whose_encoder_file_differs_is_refused_in_one_line(trained, tmp_path):
    shutil.copy(trained / "models/bundle.joblib", tmp_path / "b.joblib")
    manifest = json.loads((trained / "models/bundle.json").read_text())
    manifest["encoders"][0]["sha256"] = "0" * 64
    (tmp_path / "b.json").write_text(json.dumps(manifest))
    proc = subprocess.run(
        [sys.executable, "-m", "themetag", "predict", "--input", str(trained / "data/test.csv")]
        + ["--output", str(tmp_path / "o.csv"), "--bundle", str(tmp_path / "b.joblib")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "sha256 differs from the encoder the bundle was trained with" in lines[0]
    assert not (tmp_path / "o.csv").exists()
    original = json.loads((trained / "models/bundle.json").read_text())["encoders"][0]
    manifest["encoders"][0] = {**original, "tokenizer_sha256": "1" * 64}  # a swapped tokenizer is refused too
    (tmp_path / "b.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError, match=r"tokenizer\.json: sha256 differs"):
        load_bundle(tmp_path / "b.joblib")
    manifest["encoders"][0]["model"] = str(tmp_path / "gone")
    (tmp_path / "b.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="model.onnx is missing"):
        load_bundle(tmp_path / "b.joblib")


def test_one_encode_and_one_tfidf_transform_per_chunk(trained, monkeypatch):
    tagger = load_bundle(trained / "models/bundle.joblib")
    (enc,) = tagger.encoders()
    calls = {"encode": 0}
    real = enc.encode

    def counting(texts, progress=False):
        calls["encode"] += 1
        return real(texts, progress)

    monkeypatch.setattr(enc, "encode", counting)
    vectorizers = {
        id(f.vectorizer): f.vectorizer
        for member in tagger.featurizers
        for top in member.values()
        for f in leaves(top)
        if hasattr(f, "vectorizer")
    }
    calls["tfidf"] = 0
    for vec in vectorizers.values():
        real_t = vec.transform

        def counting_t(texts, real_t=real_t):
            calls["tfidf"] += 1
            return real_t(texts)

        monkeypatch.setattr(vec, "transform", counting_t)
    assert all(len(member) == len(set(tagger.spaces.values())) for member in tagger.featurizers)
    tagger.scores(TEXTS[:10])
    # one encode in all; one TF-IDF transform per member, shared by the tfidf and concat spaces
    assert calls == {"encode": 1, "tfidf": len(tagger.featurizers)}


def test_two_encoders_are_each_run_once_and_each_space_gets_its_own_vectors(tmp_path, monkeypatch):
    """Two embeddings spaces on different encoder settings (here MiniLM at 256 and at 16 word
    pieces, so no download is needed): one file each, and each space slices its own."""
    from harness.dvc_repo import ONE_ENCODER, slice_csv
    from stages import build_encoder, compose, embed, encoder_probe, expand_labels, features

    shutil.copytree(ROOT / "conf", tmp_path / "conf")
    (tmp_path / "data").mkdir()
    slice_csv(ROOT / "data/train.csv", tmp_path / "data/train.csv", 200)
    monkeypatch.chdir(tmp_path)
    short = "{kind: embeddings, model: all-MiniLM-L6-v2, max_tokens: 16, batch_size: 32, device: cpu}"
    compose.main(["models.spaces=[embeddings,short,tfidf_embeddings]", f"+features.short={short}", ONE_ENCODER])
    expand_labels.main()
    build_encoder.main()
    encoder_probe.main()
    assert json.loads((tmp_path / "artifacts/encoder/build.json").read_text()) == {
        "models": ["all-MiniLM-L6-v2"],
        "built": {},
    }
    embed.main()
    index = json.loads((tmp_path / "artifacts/embeddings/index.json").read_text())
    assert len(index) == 2 and all((tmp_path / "artifacts/embeddings" / f).is_file() for f in index.values())
    report = json.loads((tmp_path / "metrics/encoding.json").read_text())
    assert report["texts"] == 200 and set(report["encoders"]) == {"all-MiniLM-L6-v2@256", "all-MiniLM-L6-v2@16"}
    # nothing that varies by run or machine (time, vector-cache hits): a fresh clone gives the same bytes
    assert set(report) == {"encoders", "texts"}
    assert all(set(e) == {"encoder", "dimensions"} for e in report["encoders"].values())
    texts = pd.read_csv(tmp_path / "artifacts/texts.csv", keep_default_na=False)["text"].tolist()
    expected = {
        "embeddings": Encoder("all-MiniLM-L6-v2", max_tokens=256).encode(texts),
        "short": Encoder("all-MiniLM-L6-v2", max_tokens=16).encode(texts),
    }
    assert not np.allclose(expected["embeddings"], expected["short"])
    features.main()
    for name in ("embeddings", "short"):
        data = joblib.load(tmp_path / f"artifacts/features/{name}.joblib")
        np.testing.assert_allclose(data["vectors"], expected[name], atol=1e-6)
    concat = joblib.load(tmp_path / "artifacts/features/tfidf_embeddings.joblib")
    np.testing.assert_allclose(concat["parts"][1]["vectors"], expected["embeddings"], atol=1e-6)


def test_a_bundle_on_two_encoders_encodes_each_chunk_once_per_encoder(tmp_path, monkeypatch):
    """One space that holds two encoders' vectors side by side, so the bundle surely uses both."""
    from harness.dvc_repo import slice_csv
    from harness.trained import run_stages

    shutil.copytree(ROOT / "conf", tmp_path / "conf")
    (tmp_path / "data").mkdir()
    slice_csv(ROOT / "data/train.csv", tmp_path / "data/train.csv", 300)
    slice_csv(ROOT / "data/test.csv", tmp_path / "data/test.csv", 40)
    monkeypatch.chdir(tmp_path)
    enc = "{kind: embeddings, model: all-MiniLM-L6-v2, max_tokens: %d, batch_size: 32, device: cpu}"
    two = f"{{kind: concat, parts: {{long: {enc % 256}, short: {enc % 16}}}}}"
    overrides = ["tuning=smoke", "models.families=[logreg]", "models.costly=[]", "models.spaces=[two]"]
    run_stages([*overrides, f"+features.two={two}"], review=False)
    tagger = load_bundle(tmp_path / "models/bundle.joblib")
    encoders = tagger.encoders()
    assert sorted(e.max_tokens for e in encoders) == [16, 256]
    manifest = json.loads((tmp_path / "models/bundle.json").read_text())
    assert sorted(e["max_tokens"] for e in manifest["encoders"]) == [16, 256]
    calls = []
    for e in encoders:
        real = e.encode
        monkeypatch.setattr(e, "encode", lambda texts, progress=False, real=real: calls.append(1) or real(texts))
    tagger.scores(TEXTS[:10])
    assert len(calls) == 2  # one encode per encoder for the chunk, shared by the bag's 5 members
