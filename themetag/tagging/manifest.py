"""The bundle's manifest, ``models/bundle.json``: plain JSON that says what the pickle beside it
holds (its SHA-256, scikit-learn version, themes, encoders) and each theme's threshold.

Apart from ``bundle.py`` so that the package stage, which writes only this file, imports no
scikit-learn and opens no model.
"""

from __future__ import annotations

from pathlib import Path

from themetag.atomic import write_json
from themetag.errors import InputError


def manifest_path(bundle: Path) -> Path:
    return bundle.with_suffix(".json")


def theme_thresholds(themes: list[str], thresholds: dict, bundle: Path, fix: str) -> dict[str, float]:
    """Each theme's threshold, in theme order; a theme without one stops in one line."""
    missing = [t for t in themes if t not in thresholds]
    if missing:
        raise InputError(f"{manifest_path(bundle)}: no threshold for theme(s) {missing}; {fix}")
    return {t: thresholds[t] for t in themes}


def write_manifest(models: dict, thresholds: dict[str, float], bundle: Path) -> dict:
    """The manifest of the pickle that ``models`` describes (what ``bundle.save_models`` returned),
    with a threshold for each of its themes."""
    manifest = {k: v for k, v in models.items() if k != "encoders"}
    manifest["thresholds"] = theme_thresholds(models["themes"], thresholds, bundle, "run `dvc repro` to choose them")
    manifest["encoders"] = models["encoders"]  # last, where the manifest has always had them
    write_json(manifest_path(bundle), manifest)
    return manifest
