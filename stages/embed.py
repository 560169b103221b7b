"""Stage embed: encode every training text once with each sentence encoder the spaces use.

The encoders are pretrained and never fitted, so there is nothing per fold or per trial to
redo: the vectors are a DVC output (``artifacts/embeddings/``, one ``.npy`` per encoder and an
``index.json`` from encoder key to file) that reruns only when the texts or the encoder settings
change. Two spaces on the same encoder share its vectors; when no listed space uses an encoder,
nothing is encoded. A text already in the vector cache (``themetag/features/vector_cache.py``:
content-addressed, shared by every run on this machine) is not encoded again.
"""

from __future__ import annotations

import re
import shutil

import numpy as np

from themetag.atomic import write_json, write_with
from themetag.errors import run_cli
from themetag.features.encoder import Encoder, encode_timed
from themetag.features.spaces import encoder_key, needs_encoders
from themetag.features.vector_cache import default_root
from themetag.pipeline import paths
from themetag.pipeline.artifacts import load_texts
from themetag.pipeline.params import load_params


def save_npy(path, array: np.ndarray) -> None:
    with open(path, "wb") as fh:  # np.save on a path would append ".npy" to the temporary name
        np.save(fh, array)


def file_name(conf: dict) -> str:
    """Readable and unique: the model's last path part, its length and the key's hash."""
    base = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(conf["model"]).rstrip("/\\").split("/")[-1].split("\\")[-1])
    return f"{base}-{conf['max_tokens']}-{encoder_key(conf).split(':')[1]}.npy"


def main() -> None:
    params = load_params()
    confs = needs_encoders(params)
    shutil.rmtree(paths.EMBEDDINGS, ignore_errors=True)
    paths.EMBEDDINGS.mkdir(parents=True)
    index, report = {}, {}
    texts = load_texts() if confs else []
    for conf in confs:
        encoder = Encoder.from_conf(conf).use_cache(default_root())
        vectors, timing = encode_timed(encoder, texts)
        name = file_name(conf)
        write_with(paths.EMBEDDINGS / name, lambda p, v=vectors: save_npy(p, v))
        index[encoder_key(conf)] = name
        # what was encoded, not how fast or from which cache: those vary by machine and run, and a
        # fresh clone's `dvc repro` must give this metrics file byte for byte (they are in the log)
        report[f"{conf['model']}@{conf['max_tokens']}"] = {
            "encoder": encoder.describe(),
            "dimensions": vectors.shape[1],
        }
        print(
            f"embed: {timing['texts']} texts x {vectors.shape[1]} dims in {timing['seconds']:.1f}s "
            f"({timing['texts_per_second']:.0f} texts/s, {timing['cached']} from the vector cache, "
            f"{conf['model']}, {encoder.provider})"
        )
    write_json(paths.EMBEDDINGS / "index.json", index)
    write_json(paths.ENCODING_METRICS, {"encoders": report, "texts": len(texts)})
    if not confs:
        print("embed: no listed space uses an encoder; nothing encoded")


if __name__ == "__main__":
    run_cli(main)
