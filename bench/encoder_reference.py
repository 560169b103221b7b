"""The full-size all-mpnet-base-v2 built here against reference vectors made with PyTorch.

    python -m bench.encoder_reference [--cache .encoder_cache]

Fetches the weights (``themetag/features/encoder_source.py``, 404 MB once into ``--cache``), builds the
float32 graph and the 8-bit one exactly as the ``encoder`` stage does, and encodes the 12
reference texts of ``bench/data/encoders/mpnet_reference.npz`` (transformers 5.24 on PyTorch
2.13, mean-pooled and L2-normalised, at maximum lengths 384 and 128). Reports each text's cosine
to its reference vector, the model sizes, and texts per second on one thread on the sample's
first 512 training texts, with all-MiniLM-L6-v2 (the default) timed in the same run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import pandas as pd
import yaml

from bench.results_path import result_path, with_provenance
from harness.dvc_repo import ROOT
from themetag.atomic import write_json, write_text
from themetag.features.encoder import Encoder, resolve_model
from themetag.features.encoder_source import fetch
from themetag.features.mpnet_onnx import MPNetConfig, build, load_weights, quantize

REFERENCE = ROOT / "bench/data/encoders/mpnet_reference.npz"


def throughput(folder_or_name: str, texts: list[str], max_tokens: int, repeats: int = 3) -> float:
    import onnxruntime as ort

    enc = Encoder(folder_or_name, max_tokens=max_tokens)
    enc._open()
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    enc._session = ort.InferenceSession(
        str(resolve_model(folder_or_name).onnx), options, providers=["CPUExecutionProvider"]
    )
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        enc.encode(texts)
        times.append(time.perf_counter() - started)
    return len(texts) / statistics.median(times)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=ROOT / ".encoder_cache")
    args = parser.parse_args(argv)
    settings = yaml.safe_load((ROOT / "params.yaml").read_text())["encoder_build"]["quantize"]
    source = fetch("all-mpnet-base-v2", args.cache)
    ref = np.load(REFERENCE)
    texts = [str(t) for t in ref["texts"]]
    sample = pd.read_csv(ROOT / "data/train.csv", keep_default_na=False)["Processed Text"].head(512).tolist()
    result: dict = {"quantization": settings, "texts": texts}
    with tempfile.TemporaryDirectory() as tmp:
        full = build(
            load_weights(source / "model.safetensors"),
            MPNetConfig.from_json(json.loads((source / "config.json").read_text())),
        )
        for kind, model in (("fp32", full), ("int8", quantize(full, settings))):
            folder = Path(tmp) / kind
            folder.mkdir()
            onnx.save(model, folder / "model.onnx")
            shutil.copy(source / "tokenizer.json", folder / "tokenizer.json")
            entry = {"mb": (folder / "model.onnx").stat().st_size / 2**20}
            for length in (384, 128):
                vec = Encoder(str(folder), max_tokens=length, batch_size=4).encode(texts)
                want = ref[f"max_{length}"]
                entry[f"cosine_{length}"] = ((vec * want).sum(1) / np.linalg.norm(want, axis=1)).tolist()
            entry["texts_per_second_1_thread"] = throughput(str(folder), sample, 384)
            result[kind] = entry
        result["minilm_texts_per_second_1_thread"] = throughput("all-MiniLM-L6-v2", sample, 256)
    write_json(result_path("encoder_reference", "encoder_reference.json"), result)
    rows = [
        f"| {kind} | {result[kind]['mb']:.0f} | {min(result[kind]['cosine_384']):.5f} | {min(result[kind]['cosine_128']):.5f} "
        f"| {result[kind]['texts_per_second_1_thread']:.1f} |"
        for kind in ("fp32", "int8")
    ]
    text = "\n".join(
        [
            "### all-mpnet-base-v2 built without PyTorch, against the reference vectors (`python -m bench.encoder_reference`)",
            "",
            "| model | MB | lowest cosine, 384 | lowest cosine, 128 | texts/s, 1 thread |",
            "|---|---|---|---|---|",
            *rows,
            f"| all-MiniLM-L6-v2 int8 (default), same run | 23 | | | {result['minilm_texts_per_second_1_thread']:.1f} |",
            "",
            f"12 reference texts (empty, non-Latin, past 384 tokens among them); int8: {settings}. Speed on the sample's "
            "first 512 training texts, median of 3 passes.",
            "",
        ]
    )
    write_text(result_path("encoder_reference", "encoder_reference.md"), with_provenance("encoder_reference", text))
    print(text)


if __name__ == "__main__":
    main(sys.argv[1:])
