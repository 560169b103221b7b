"""Tag pandas batches: the one function the CLI and distributed engines (Dask, Spark, Ray) share.

``tag_frame(df)`` returns a fixed schema: the input columns unchanged, then ``Predicted Themes``
(the themes joined by ``, `` in the bundle's theme order, empty when none applies), then, with
``scores=True``, one ``score <theme>`` column per theme. The bundle is loaded (and verified) once
per process and kept, so an engine that calls it on many batches in one worker pays the load
once. An empty batch gives an empty frame with the same columns, which is what engines that ask
for the output schema up front (Dask's ``meta``) need.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from themetag.errors import InputError
from themetag.tagging.bundle import DEFAULT_BUNDLE, ThemeTagger, load_bundle

PREDICTED = "Predicted Themes"


def score_column(theme: str) -> str:
    return f"score {theme}"


@lru_cache(maxsize=4)
def cached_tagger(bundle: str) -> ThemeTagger:
    """The bundle at this absolute path, loaded once per process."""
    return load_bundle(bundle)


def tag_with(
    tagger: ThemeTagger, frame: pd.DataFrame, text_column: str, with_scores: bool
) -> tuple[pd.DataFrame, np.ndarray]:
    """``frame`` plus the predicted themes (and scores); also the rows x themes hit matrix."""
    scores = tagger.scores(frame[text_column].tolist())
    hits = tagger.hits(scores)
    names = np.asarray(tagger.themes, dtype=object)
    out = frame.copy()
    out[PREDICTED] = [", ".join(names[row]) for row in hits]
    if with_scores:
        for t in tagger.themes:
            out[score_column(t)] = scores[t].to_numpy()
    return out, hits


def tag_frame(
    df: pd.DataFrame, bundle: str | Path = DEFAULT_BUNDLE, text_column: str | None = None, scores: bool = False
) -> pd.DataFrame:
    """``df`` with ``Predicted Themes`` (and ``score <theme>`` columns); ``text_column`` defaults
    to the column the bundle was trained on."""
    tagger = cached_tagger(str(Path(bundle).resolve()))
    column = text_column or tagger.text_column
    if column not in df.columns:
        raise InputError(
            f"tag_frame: no column {column!r} in the batch (columns: {list(df.columns)}); pass text_column"
        )
    return tag_with(tagger, df, column, scores)[0]
