"""The model bundle: featurizers and per-theme models in one file, thresholds in its manifest.

``models/bundle.joblib`` is a pickle, and unpickling can run code. So it is never opened
before checks against ``models/bundle.json``, a plain JSON manifest written when the bundle
was trained: the file's SHA-256 must match, the installed scikit-learn must be the version
that trained it, and every sentence encoder's model file must be present with the SHA-256 it
had (a different encoder would give different vectors, so every score would be wrong).
Load it with :func:`load_bundle`.

The thresholds live in the manifest, not in the pickle: the train_final stage writes the pickle
once (:func:`save_models`), and the package stage writes only the manifest
(:func:`write_manifest`), so a threshold edit rewrites a small JSON file rather than every model.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn

from themetag.errors import InputError
from themetag.features.encoder import Encoder, resolve_model, sha256_of
from themetag.features.featurizers import leaves
from themetag.modelling.families import score
from themetag.tagging.manifest import manifest_path, theme_thresholds, write_manifest
from themetag.tagging.pickles import FORMAT, load_pickle, save_pickle
from themetag.thresholds.scoring import tagged

DEFAULT_BUNDLE = Path("models/bundle.joblib")


class ThemeTagger:
    """Tags texts with themes.

    ``featurizers`` holds one {space: featurizer} per model that tags each theme (K fold models
    for a bag, one for a refit), and ``models`` each theme's models in the same order; a theme's
    score is their mean. Per chunk of texts each featurizer runs once: one TF-IDF transform per
    distinct vectoriser, one encoding, whichever spaces and members use them.
    """

    def __init__(
        self,
        featurizers: list[dict],
        models: dict[str, list],
        thresholds: dict[str, float],
        families: dict[str, str],
        spaces: dict[str, str],
        text_column: str = "Processed Text",
        mode: str = "bag",
    ):
        self.featurizers = featurizers
        self.text_column = text_column
        self.models = models
        self.thresholds = thresholds
        self.families = families
        self.spaces = spaces
        self.mode = mode
        self.themes = list(models)
        self.sklearn_version = sklearn.__version__

    def encoders(self) -> list[Encoder]:
        """The distinct sentence encoders the featurizers use."""
        found: dict[str, Encoder] = {}
        for member in self.featurizers:
            for top in member.values():
                for f in leaves(top):
                    if hasattr(f, "encoder"):
                        found.setdefault(f.key, f.encoder)
        return list(found.values())

    def use_vector_cache(self, root: Path | None) -> ThemeTagger:
        """Every encoder looks its texts up in the vector cache at ``root`` first (the pipeline's
        stages do; ``predict`` does not, so tagging a stream never fills a disk)."""
        for member in self.featurizers:
            for top in member.values():
                for f in leaves(top):
                    if hasattr(f, "encoder"):
                        f.encoder.use_cache(root)
        return self

    def matrices(self, texts: list[str], cache: dict | None = None) -> list[dict]:
        """Per member, each space's matrix of ``texts``; shared featurizers run once.

        ``cache`` (featurizer key -> matrix) is filled as a side effect, for a caller that also
        wants the encoder's vectors of the same texts without encoding them twice."""
        cache = {} if cache is None else cache
        return [{space: f.transform(texts, cache) for space, f in member.items()} for member in self.featurizers]

    def scores(self, texts: Sequence[str], cache: dict | None = None) -> pd.DataFrame:
        """One column per theme; a row with empty or missing text gets NaN (no score, no theme)."""
        texts = ["" if t is None or (isinstance(t, float) and np.isnan(t)) else str(t) for t in texts]
        if not texts:  # scikit-learn refuses 0-row input; no rows, no scores
            return pd.DataFrame({t: np.empty(0) for t in self.themes}, columns=self.themes)
        Xs = self.matrices(texts, cache)
        out = pd.DataFrame(
            {
                t: np.mean([score(m, X[self.spaces[t]]) for m, X in zip(models, Xs, strict=True)], axis=0)
                for t, models in self.models.items()
            },
            columns=self.themes,
        )
        empty = np.array([not t.strip() for t in texts], dtype=bool)
        if empty.any():
            out.loc[empty, :] = np.nan
        return out

    def hits(self, scores: pd.DataFrame) -> np.ndarray:
        """rows x themes, True where the theme applies (score at or above its threshold)."""
        return tagged(scores, self.thresholds, self.themes)

    def tags(self, scores: pd.DataFrame) -> list[list[str]]:
        """Themes that apply to each row, in the pipeline's theme order."""
        names = np.asarray(self.themes, dtype=object)
        return [list(names[row]) for row in self.hits(scores)]

    def predict(self, texts: Sequence[str]) -> list[list[str]]:
        return self.tags(self.scores(texts))


def save_models(tagger: ThemeTagger, path: Path = DEFAULT_BUNDLE) -> dict:
    """Pickle ``tagger`` without its thresholds; return what its manifest says of it."""
    thresholds, tagger.thresholds = tagger.thresholds, {}
    try:
        save_pickle(tagger, path)
    finally:
        tagger.thresholds = thresholds
    return {
        "bundle": path.name,
        "format": FORMAT,
        "sha256": sha256_of(path),
        "sklearn_version": tagger.sklearn_version,
        "themes": tagger.themes,
        "text_column": tagger.text_column,
        "families": tagger.families,
        "spaces": tagger.spaces,
        "final_model": tagger.mode,
        "members": len(tagger.featurizers),
        "encoders": [e.describe() for e in tagger.encoders()],
    }


def save_bundle(tagger: ThemeTagger, path: Path = DEFAULT_BUNDLE) -> dict:
    """The pickle and its manifest at once, thresholds from ``tagger``."""
    return write_manifest(save_models(tagger, path), tagger.thresholds, path)


def load_bundle(path: str | Path = DEFAULT_BUNDLE) -> ThemeTagger:
    """Load a bundle after checking its hash and scikit-learn version; refuse it otherwise."""
    path = Path(path)
    mpath = manifest_path(path)
    if not path.is_file():
        raise InputError(f"{path}: no model bundle there; run `dvc repro` to train one, or pass --bundle")
    if not mpath.is_file():
        raise InputError(f"{mpath}: manifest missing, so {path} cannot be verified; retrain with `dvc repro`")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InputError(f"{mpath}: not valid JSON; retrain with `dvc repro`") from None
    if manifest.get("sklearn_version") != sklearn.__version__:
        raise InputError(
            f"{path}: trained with scikit-learn {manifest.get('sklearn_version')}, but {sklearn.__version__} "
            f"is installed; install scikit-learn=={manifest.get('sklearn_version')} or retrain with `dvc repro`"
        )
    for enc in manifest.get("encoders", []):
        check_encoder(enc)
    if sha256_of(path) != manifest.get("sha256"):
        raise InputError(
            f"{path}: SHA-256 does not match {mpath} (file changed or truncated); refusing to unpickle it, "
            "retrain with `dvc repro` or restore it with `dvc checkout`"
        )
    thresholds = manifest.get("thresholds") or {}
    try:
        tagger = load_pickle(path, manifest.get("format"))
    except ModuleNotFoundError as exc:  # pickles name each class by module, e.g. stages.bundle before themetag
        raise InputError(
            f"{path}: its classes live in module {exc.name}, which this version does not have (bundles "
            "from before the themetag package); retrain with `dvc repro`"
        ) from None
    except AttributeError as exc:  # a class that moved: the featurizers left themetag.features.spaces
        raise InputError(f"{path}: made by an older version ({exc}); retrain with `dvc repro`") from None
    chosen = theme_thresholds(tagger.themes, thresholds, path, "run `dvc repro` to write the manifest again")
    tagger.thresholds = {t: float(v) for t, v in chosen.items()}
    return tagger


def check_encoder(recorded: dict) -> None:
    """The encoder files the bundle was trained with must be here, byte for byte: the model and
    the tokenizer (either one changed gives other vectors)."""
    files = resolve_model(recorded["model"])  # one line when missing
    for path, key in ((files.onnx, "sha256"), (files.tokenizer, "tokenizer_sha256")):
        if key in recorded and sha256_of(path) != recorded[key]:
            raise InputError(
                f"{path}: sha256 differs from the encoder the bundle was trained with "
                f"({recorded[key][:12]}...); install the pinned requirements.txt or retrain with `dvc repro`"
            )
