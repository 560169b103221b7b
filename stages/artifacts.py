"""Readers of the pipeline's shared artifacts, for the stages that use them.

Library code: stage entry points import these instead of importing each other.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from stages import paths
from stages.atomic import read_json


def load_folds() -> tuple[np.ndarray, list[str]]:
    """The fold of each row of artifacts/labels.csv, and the themes the tuning may use."""
    data = read_json(paths.FOLDS)
    return np.asarray(data["fold"], dtype=int), data["themes"]


def load_texts() -> list[str]:
    return pd.read_csv(paths.TEXTS, keep_default_na=False)["text"].tolist()


def load_embeddings() -> np.ndarray | None:
    return np.load(paths.EMBEDDINGS) if paths.EMBEDDINGS.exists() else None
