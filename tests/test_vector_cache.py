"""The vector cache: a text is encoded once per encoder, a cached vector is byte-identical to a fresh
one, a damaged entry is never used, and another encoder setting never finds the first one's."""

import pickle

import numpy as np
import pandas as pd
import pytest

from harness.dvc_repo import ROOT
from themetag.features.encoder import Encoder
from themetag.features.vector_cache import VectorCache, default_root, text_keys

TEXTS = pd.read_csv(ROOT / "data/train.csv")["Processed Text"].head(60).tolist()


@pytest.fixture(scope="module")
def fresh():
    return Encoder("all-MiniLM-L6-v2", batch_size=16).encode(TEXTS)


def no_encoding(*_a, **_k):
    raise AssertionError("encoded although every text was in the cache")


def test_a_vector_does_not_depend_on_its_batch_to_the_last_bit(fresh):
    # what makes a cached vector safe: a run that finds it writes what a run that encodes it writes
    other = Encoder("all-MiniLM-L6-v2", batch_size=7).encode(TEXTS[::-1])[::-1]
    alone = np.vstack([Encoder("all-MiniLM-L6-v2", batch_size=1).encode([t]) for t in TEXTS[:8]])
    assert np.array_equal(other, fresh) and np.array_equal(alone, fresh[:8])


def test_second_encode_comes_from_the_cache_byte_for_byte(fresh, tmp_path, monkeypatch):
    enc = Encoder("all-MiniLM-L6-v2", batch_size=16).use_cache(tmp_path)
    first = enc.encode(TEXTS[:40] + TEXTS[:5])  # a text twice in one call is encoded once
    assert enc.last_cached == 0 and np.array_equal(first, np.vstack([fresh[:40], fresh[:5]]))
    later = Encoder("all-MiniLM-L6-v2", batch_size=16).use_cache(tmp_path)  # another process, another run
    got = later.encode(TEXTS)  # 40 cached, 20 new
    assert later.last_cached == 40 and np.array_equal(got, fresh)
    monkeypatch.setattr(Encoder, "_encode", no_encoding)
    assert np.array_equal(later.encode(TEXTS[10:50]), fresh[10:50]) and later.last_cached == 40


def test_a_damaged_shard_is_reported_set_aside_and_its_texts_encoded_again(fresh, tmp_path, capsys):
    enc = Encoder("all-MiniLM-L6-v2", batch_size=16).use_cache(tmp_path)
    enc.encode(TEXTS[:10])
    (shard,) = enc._cache.folder.glob("*.npz")
    raw = bytearray(shard.read_bytes())
    raw[-20] ^= 0xFF  # one flipped byte inside the vectors
    shard.write_bytes(bytes(raw))
    again = Encoder("all-MiniLM-L6-v2", batch_size=16).use_cache(tmp_path)
    assert np.array_equal(again.encode(TEXTS[:10]), fresh[:10]) and again.last_cached == 0
    err = capsys.readouterr().err
    assert "is damaged" in err and str(shard) in err and err.count("\n") == 1
    assert shard.with_suffix(".damaged").exists() and len(list(enc._cache.folder.glob("*.npz"))) == 1


def test_another_length_or_model_never_finds_these_vectors(tmp_path):
    Encoder("all-MiniLM-L6-v2").use_cache(tmp_path).encode(TEXTS[:5])
    short = Encoder("all-MiniLM-L6-v2", max_tokens=16).use_cache(tmp_path)
    short.encode(TEXTS[:5])
    assert short.last_cached == 0 and len(list(tmp_path.iterdir())) == 2
    cache = VectorCache(tmp_path, {"sha256": "another model"})
    out, found = cache.lookup(text_keys(TEXTS[:5]))
    assert out is None and not found.any()


def test_an_encoder_never_pickles_its_cache_and_the_cache_can_be_turned_off(tmp_path, monkeypatch):
    enc = Encoder("all-MiniLM-L6-v2").use_cache(tmp_path)
    enc.encode(TEXTS[:3])
    state = pickle.loads(pickle.dumps(enc))
    assert state._cache is None and state.last_cached == 0
    assert not {"_cache", "last_cached", "_session"} & set(enc.__getstate__())  # a bundle's bytes stay the same
    monkeypatch.setenv("THEMETAG_VECTOR_CACHE", "off")
    assert default_root() is None
    monkeypatch.setenv("THEMETAG_VECTOR_CACHE", str(tmp_path / "x"))
    assert default_root() == tmp_path / "x"
