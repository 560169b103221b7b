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


def write_manifest(models: dict, thresholds: dict[str, float], bundle: Path) -> dict:
    """The manifest of the pickle that ``models`` describes (what ``bundle.save_models`` returned),
    with a threshold for each of its themes."""
    missing = [t for t in models["themes"] if t not in thresholds]
    if missing:
        raise InputError(
            f"{manifest_path(bundle)}: no threshold chosen for theme(s) {missing}; run `dvc repro` to choose them"
        )
    manifest = {k: v for k, v in models.items() if k != "encoders"}
    manifest["thresholds"] = {t: thresholds[t] for t in models["themes"]}
    manifest["encoders"] = models["encoders"]  # last, where the manifest has always had them
    write_json(manifest_path(bundle), manifest)
    return manifest
