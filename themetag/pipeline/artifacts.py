"""Readers of the pipeline's shared artifacts, for the stages that use them.

Library code: stage entry points import these instead of importing each other.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from themetag.atomic import read_json
from themetag.pipeline import paths


def load_folds() -> tuple[np.ndarray, list[str]]:
    """The fold of each row of artifacts/labels.csv, and the themes the tuning may use."""
    data = read_json(paths.FOLDS)
    return np.asarray(data["fold"], dtype=int), data["themes"]


def load_texts() -> list[str]:
    return pd.read_csv(paths.TEXTS, keep_default_na=False)["text"].tolist()


def load_embeddings() -> dict[str, np.ndarray]:
    """The ``embed`` stage's vectors of every training text, by encoder key (``spaces.encoder_key``)."""
    index = paths.EMBEDDINGS / "index.json"
    if not index.is_file():
        return {}
    return {key: np.load(paths.EMBEDDINGS / name) for key, name in read_json(index).items()}
