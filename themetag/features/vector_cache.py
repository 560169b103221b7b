"""A content-addressed store of sentence vectors: each text is encoded once per encoder, ever.

A vector is keyed by the SHA-256 of its text, inside a folder named by everything that can
change it: the ONNX model's and the tokenizer's SHA-256, ``max_tokens`` and the onnxruntime
version. A cached vector therefore cannot be stale: a new encoder, length or runtime is a new
folder. The encoder gives a text the same bytes whatever batch it sits in (tests check it), so
a run that finds its vectors here writes exactly what a run that encodes them writes, and a
fresh clone of the same commit gives the same outputs.

Vectors are stored in shards (``<sha256 of the shard's bytes>.npz``, written atomically). A shard
whose bytes no longer match its name, or that cannot be read, is reported in one line, moved
aside (``*.damaged``) and never used: its texts are encoded again.

Where: ``$THEMETAG_VECTOR_CACHE`` if set (``off`` turns the store off), else
``$XDG_CACHE_HOME/themetag/vectors`` (``~/.cache/themetag/vectors``), so every clone of a project
and every labelling round on one machine share it. Delete the folder to reclaim the space.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import numpy as np

from themetag.atomic import write_with

SHARD_ROWS = 20_000  # vectors per shard: a lookup holds one shard in memory at a time
KEY_BYTES = 32


def default_root() -> Path | None:
    """The cache folder, or None when ``THEMETAG_VECTOR_CACHE=off``."""
    env = os.environ.get("THEMETAG_VECTOR_CACHE", "").strip()
    if env.lower() == "off":
        return None
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "themetag" / "vectors"


def text_keys(texts: list[str]) -> np.ndarray:
    """One 32-byte SHA-256 per text, as an (n, 32) uint8 array."""
    out = np.empty((len(texts), KEY_BYTES), dtype=np.uint8)
    for i, t in enumerate(texts):
        out[i] = np.frombuffer(hashlib.sha256(str(t).encode("utf-8")).digest(), dtype=np.uint8)
    return out


def _digest(keys: np.ndarray, vectors: np.ndarray) -> str:
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(keys).tobytes())
    h.update(str(vectors.shape).encode())
    h.update(np.ascontiguousarray(vectors).tobytes())
    return h.hexdigest()


def _save(path: Path, keys: np.ndarray, vectors: np.ndarray) -> None:
    with open(path, "wb") as fh:  # np.savez on a path would add ".npz" to the temporary name
        np.savez(fh, keys=keys, vectors=vectors)


class VectorCache:
    """The vectors of one encoder setting (``identity``: what changes a vector)."""

    def __init__(self, root: Path, identity: dict):
        self.identity = identity
        self.folder = Path(root) / hashlib.sha256(repr(sorted(identity.items())).encode()).hexdigest()[:32]

    def _shards(self) -> list[Path]:
        return sorted(self.folder.glob("*.npz")) if self.folder.is_dir() else []

    def _read(self, path: Path) -> tuple[np.ndarray, np.ndarray] | None:
        """A shard's keys and vectors, or None (reported, moved aside) when it is damaged."""
        try:
            with np.load(path, allow_pickle=False) as data:
                keys, vectors = data["keys"], data["vectors"]
            ok = keys.ndim == 2 and keys.shape[1] == KEY_BYTES and len(keys) == len(vectors)
            ok = ok and _digest(keys, vectors) == path.stem
        except Exception:  # noqa: BLE001 - any unreadable shard is damaged, whatever the reason
            ok = False
        if ok:
            return keys, vectors
        print(
            f"vector cache: {path} is damaged (its bytes do not match its name); not used, its texts are encoded again",
            file=sys.stderr,
        )
        try:
            path.rename(path.with_suffix(".damaged"))
        except OSError:
            pass
        return None

    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        """The cached vectors of ``keys`` (rows of misses left as zeros) and a mask of the hits."""
        found = np.zeros(len(keys), dtype=bool)
        out: np.ndarray | None = None
        if not len(keys):
            return out, found
        want = {k: i for i, k in enumerate(keys.view(f"S{KEY_BYTES}").ravel().tolist())}
        for shard in self._shards():
            read = self._read(shard)
            if read is None:
                continue
            skeys, svecs = read
            for j, k in enumerate(skeys.view(f"S{KEY_BYTES}").ravel().tolist()):
                i = want.get(k)
                if i is not None and not found[i]:
                    if out is None:
                        out = np.zeros((len(keys), svecs.shape[1]), dtype=np.float32)
                    out[i] = svecs[j]
                    found[i] = True
            if found.all():
                break
        return out, found

    def store(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors, in shards of at most ``SHARD_ROWS``. A shard already there is not rewritten."""
        if not len(keys):
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        for start in range(0, len(keys), SHARD_ROWS):
            k, v = np.ascontiguousarray(keys[start : start + SHARD_ROWS]), vectors[start : start + SHARD_ROWS]
            path = self.folder / f"{_digest(k, v)}.npz"
            if not path.exists():
                write_with(path, lambda p, k=k, v=v: _save(p, k, v))
