"""Stage embed: encode every training text once with the sentence encoder the spaces use.

The encoder is pretrained and never fitted, so there is nothing per fold or per trial to
redo: the vectors are a DVC output that reruns only when the texts or the encoder settings
change. When no listed space uses an encoder, it writes an empty matrix and encodes nothing.
"""

from __future__ import annotations

import numpy as np

from stages import paths
from stages.artifacts import load_texts
from stages.atomic import write_json, write_with
from stages.encoder import Encoder, encode_timed
from stages.errors import run_cli
from stages.params import load_params
from stages.spaces import needs_encoder


def save_npy(path, array: np.ndarray) -> None:
    with open(path, "wb") as fh:  # np.save on a path would append ".npy" to the temporary name
        np.save(fh, array)


def main() -> None:
    params = load_params()
    conf = needs_encoder(params)
    if conf is None:
        write_with(paths.EMBEDDINGS, lambda p: save_npy(p, np.empty((0, 0), dtype=np.float32)))
        write_json(paths.ENCODING_METRICS, {"encoder": None})
        print("embed: no listed space uses an encoder; nothing encoded")
        return
    texts = load_texts()
    encoder = Encoder.from_conf(conf)
    vectors, timing = encode_timed(encoder, texts)
    write_with(paths.EMBEDDINGS, lambda p: save_npy(p, vectors))
    write_json(paths.ENCODING_METRICS, {"encoder": encoder.describe(), "dimensions": vectors.shape[1], **timing})
    print(
        f"embed: {timing['texts']} texts x {vectors.shape[1]} dims in {timing['seconds']:.1f}s "
        f"({timing['texts_per_second']:.0f} texts/s, {conf['model']}, {encoder.provider})"
    )


if __name__ == "__main__":
    run_cli(main)
