"""Model pickles written and read with the standard library's C pickler (protocol 5).

``joblib.dump`` and ``joblib.load`` run the pure-Python pickler so that they can write numpy
arrays beside it, and a bundle's TF-IDF vocabularies are dicts of 10^5 strings: on the sample's
90 MB bundle, ``joblib.load`` took 1.31 s and ``pickle.load`` 0.11 s (``joblib.dump`` 0.67 s,
``pickle.dump`` 0.14 s). Protocol 5 writes numpy arrays in a few large copies too, so nothing is
lost by leaving joblib. Every stage that tags (evaluate, suggest, predict) loads the bundle.

A file written here is a plain pickle, which ``joblib.load`` also reads.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from themetag.atomic import write_with
from themetag.tagging.stable_pickle import stable

FORMAT = "pickle-5"  # what a bundle's manifest records; a manifest without it names a joblib pickle


def save_pickle(obj: Any, path: Path) -> None:
    """Write ``obj`` atomically, with the bytes that depend on the models only (``stable``)."""

    def dump(p: Path) -> None:
        with open(p, "wb") as f:
            pickle.dump(stable(obj), f, protocol=5)

    write_with(path, dump)


def load_pickle(path: Path, fmt: str | None = FORMAT) -> Any:
    """Unpickle ``path``: only a file this project wrote (a bundle is checked against its
    manifest first). ``fmt=None``: a joblib pickle, from before this module."""
    if fmt is None:
        import joblib

        return joblib.load(path)
    with open(path, "rb") as f:
        return pickle.load(f)
