"""The MPNet graph builder, on a small random-weight model of the same architecture, against an
independent numpy forward pass (transformers' MPNetModel written out); the full-size model is
checked against reference vectors in bench/encoder_reference.py (404 MB download)."""

import math

import numpy as np
import onnx
import pytest
from scipy.special import erf

from themetag.errors import InputError
from themetag.features.encoder import ASSETS, Encoder
from themetag.features.encoder_source import SOURCES, verified
from themetag.features.mpnet_onnx import MPNetConfig, build, quantize, relative_buckets

CONFIG = MPNetConfig(hidden=32, heads=4, layers=2, intermediate=64, vocab=30527, max_positions=80, buckets=32)


def random_weights(config: MPNetConfig, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    h, f = config.hidden, config.intermediate

    def r(*shape, scale=0.2):
        return (rng.normal(size=shape) * scale).astype(np.float32)

    w = {
        "embeddings.word_embeddings.weight": r(config.vocab, h, scale=1.0),
        "embeddings.position_embeddings.weight": r(config.max_positions, h, scale=1.0),
        "embeddings.LayerNorm.weight": 1 + r(h),
        "embeddings.LayerNorm.bias": r(h),
        "encoder.relative_attention_bias.weight": r(config.buckets, config.heads, scale=1.0),
    }
    for i in range(config.layers):
        p = f"encoder.layer.{i}"
        for name in "qkvo":
            w[f"{p}.attention.attn.{name}.weight"], w[f"{p}.attention.attn.{name}.bias"] = r(h, h), r(h)
        w[f"{p}.attention.LayerNorm.weight"], w[f"{p}.attention.LayerNorm.bias"] = 1 + r(h), r(h)
        w[f"{p}.intermediate.dense.weight"], w[f"{p}.intermediate.dense.bias"] = r(f, h), r(f)
        w[f"{p}.output.dense.weight"], w[f"{p}.output.dense.bias"] = r(h, f), r(h)
        w[f"{p}.output.LayerNorm.weight"], w[f"{p}.output.LayerNorm.bias"] = 1 + r(h), r(h)
    return w


def bucket(relative: int, buckets: int = 32, max_distance: int = 128) -> int:
    """transformers' MPNet relative_position_bucket for one (key - query) distance."""
    ret, n = 0, -relative
    half = buckets // 2
    if n < 0:
        ret += half
    n = abs(n)
    exact = half // 2
    if n < exact:
        return ret + n
    large = exact + int(
        np.float32(math.log(np.float32(n) / exact)) / np.float32(math.log(max_distance / exact)) * (half - exact)
    )
    return ret + min(large, half - 1)


def numpy_forward(w: dict, config: MPNetConfig, ids: np.ndarray, pad: int) -> np.ndarray:
    def ln(x, prefix):
        mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + config.eps) * w[f"{prefix}.weight"] + w[f"{prefix}.bias"]

    def lin(x, prefix):
        return x @ w[f"{prefix}.weight"].T + w[f"{prefix}.bias"]

    mask = (ids != pad).astype(np.int64)
    positions = np.cumsum(mask, axis=1) * mask + config.padding_idx
    x = ln(
        w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][positions],
        "embeddings.LayerNorm",
    )
    L = ids.shape[1]
    rel = np.array([[bucket(k - q) for k in range(L)] for q in range(L)])
    bias = w["encoder.relative_attention_bias.weight"][rel].transpose(2, 0, 1)[None]
    neg = (1.0 - mask[:, None, None, :]) * np.finfo(np.float32).min
    B, h, nh = ids.shape[0], config.hidden, config.heads
    d = h // nh
    for i in range(config.layers):
        p = f"encoder.layer.{i}"

        def split(t):
            return t.reshape(B, L, nh, d).transpose(0, 2, 1, 3)

        q, k, v = (split(lin(x, f"{p}.attention.attn.{n}")) for n in "qkv")
        s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d) + bias + neg
        s = np.exp(s - s.max(-1, keepdims=True))
        ctx = (s / s.sum(-1, keepdims=True)) @ v
        x = ln(lin(ctx.transpose(0, 2, 1, 3).reshape(B, L, h), f"{p}.attention.attn.o") + x, f"{p}.attention.LayerNorm")
        inner = lin(x, f"{p}.intermediate.dense")
        x = ln(lin(0.5 * inner * (1 + erf(inner / math.sqrt(2))), f"{p}.output.dense") + x, f"{p}.output.LayerNorm")
    return x


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    w = random_weights(CONFIG)
    folder = tmp_path_factory.mktemp("tiny-mpnet")
    onnx.save(build(w, CONFIG), folder / "model.onnx")
    (folder / "tokenizer.json").write_bytes((ASSETS / "all-MiniLM-L6-v2" / "tokenizer.json").read_bytes())
    return w, folder


def test_buckets_match_transformers_formula():
    table = relative_buckets(300)
    for q, k in [(0, 0), (0, 7), (7, 0), (0, 8), (0, 9), (5, 40), (40, 5), (0, 127), (0, 128), (0, 299), (299, 0)]:
        assert table[q, k] == bucket(k - q), (q, k)


def test_graph_matches_numpy_forward_with_padding(tiny):
    import onnxruntime as ort

    w, folder = tiny
    ids = np.array([[0, 1000, 2054, 3000, 2], [0, 500, 2, 1, 1]], dtype=np.int64)  # second row right-padded with 1
    mask = (ids != 1).astype(np.int64)
    session = ort.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
    want = numpy_forward(w, CONFIG, ids, pad=1)
    real = mask.astype(bool)
    assert np.abs(got[real] - want[real]).max() < 1e-4
    # the pad id does not matter: positions come from the mask
    got0 = session.run(None, {"input_ids": np.where(real, ids, 0), "attention_mask": mask})[0]
    assert np.abs(got0[real] - got[real]).max() < 1e-5


def test_encoder_mean_pools_the_built_graph_as_the_numpy_forward(tiny):
    w, folder = tiny
    texts = ["the waiter was lovely", "", "word " * 70]
    enc = Encoder(str(folder), max_tokens=CONFIG.max_positions - 2, batch_size=2)
    vectors = enc.encode(texts)
    for text, vec in zip(texts, vectors, strict=True):
        ids = np.array([enc._tokenizer.encode(text).ids], dtype=np.int64)
        hidden = numpy_forward(w, CONFIG, ids, pad=1)[0].mean(0)
        assert np.dot(vec, hidden / np.linalg.norm(hidden)) > 0.99999


def test_8_bit_weights_stay_close(tiny):
    import onnxruntime as ort

    w, folder = tiny
    model = quantize(onnx.load(folder / "model.onnx"), {"bits": 8, "block_size": 32, "accuracy_level": 4})
    assert any(n.op_type == "MatMulNBits" for n in model.graph.node)
    ids = np.array([[0, 1000, 2054, 3000, 2]], dtype=np.int64)
    feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
    full = ort.InferenceSession(str(folder / "model.onnx")).run(None, feeds)[0][0].mean(0)
    small = ort.InferenceSession(model.SerializeToString()).run(None, feeds)[0][0].mean(0)
    assert np.dot(full, small) / np.linalg.norm(full) / np.linalg.norm(small) > 0.99


def test_weights_other_than_the_pinned_ones_are_refused(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"not the weights")
    (folder / "tokenizer.json").write_bytes(b"{}")
    with pytest.raises(InputError) as err:
        verified(folder, SOURCES["all-mpnet-base-v2"])
    assert "model.safetensors" in str(err.value) and "refusing" in str(err.value) and "\n" not in str(err.value)


def test_a_built_encoder_that_is_not_built_is_one_line(tmp_path, monkeypatch):
    from themetag.features.encoder import resolve_model

    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as err:
        resolve_model("all-mpnet-base-v2")
    assert "dvc repro encoder" in str(err.value) and "\n" not in str(err.value)


def test_the_encoder_stage_builds_nothing_when_the_built_in_encoder_is_pinned(tmp_path, monkeypatch):
    import json

    import yaml

    from harness.dvc_repo import ROOT
    from stages import build_encoder

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("THEMETAG_ENCODER_CACHE", str(tmp_path / "weights"))
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["features"]["embeddings"]["model"] = "all-MiniLM-L6-v2"
    params["features"]["tfidf_embeddings"]["parts"]["embeddings"]["model"] = "all-MiniLM-L6-v2"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    build_encoder.main()
    record = json.loads((tmp_path / "artifacts/encoder/build.json").read_text())
    assert record == {"models": ["all-MiniLM-L6-v2"], "built": {}}
    assert not (tmp_path / "weights").exists()  # nothing fetched


def test_quantize_leaves_the_float_model_as_it_was(tiny):
    _, folder = tiny
    model = onnx.load(folder / "model.onnx")
    before = model.SerializeToString()
    quantize(model, {"bits": 8, "block_size": 32, "accuracy_level": 4})
    assert model.SerializeToString() == before


def test_a_second_clone_copies_this_machine_s_build_and_never_a_damaged_one(tiny, tmp_path, monkeypatch):
    from stages import build_encoder

    _, folder = tiny
    source = tmp_path / "source"
    source.mkdir()
    (source / "tokenizer.json").write_bytes((folder / "tokenizer.json").read_bytes())
    (source / "config.json").write_text("{}")
    builds = []

    def fake_build(weights, config):
        builds.append(1)
        return onnx.load(folder / "model.onnx")

    monkeypatch.setattr(build_encoder, "fetch", lambda name, cache: source)
    monkeypatch.setattr(build_encoder, "load_weights", lambda path: {})
    monkeypatch.setattr(build_encoder.MPNetConfig, "from_json", staticmethod(lambda data: None))
    monkeypatch.setattr(build_encoder, "build", fake_build)
    settings = {"cache": str(tmp_path / "weights"), "quantize": None}
    built = {}
    for clone in ("one", "two", "three"):
        (tmp_path / clone).mkdir()
        monkeypatch.chdir(tmp_path / clone)
        built[clone] = build_encoder.build_one("all-mpnet-base-v2", settings)["onnx_sha256"]
        if clone == "two":  # damage the kept build: the next clone must build again
            kept = build_encoder.built_copy("all-mpnet-base-v2", settings)
            kept.write_bytes(kept.read_bytes()[:-10])
    assert len(builds) == 2  # one, and three after the damage; two copied
    assert built["one"] == built["two"] == built["three"]
    other = {**settings, "quantize": {"bits": 8, "block_size": 32, "accuracy_level": 4}}
    assert build_encoder.built_copy("all-mpnet-base-v2", other) != kept  # another quantization, another build
