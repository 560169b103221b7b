"""Tuning plans: which themes each candidate's tune stage runs (the ``reuse`` stage writes them).

A tune stage depends on its plan file, not on the labels, folds or features: the plan names
each study it must run by its fingerprint (which covers the labels, texts, folds and settings,
``studies.theme_setups``) and the SHA-256 of the candidate's features file. So the stage reruns
exactly when one of its studies would change; when the tuning record covers every theme, the
plan is empty and stays empty round after round, and the stage does not rerun at all.
"""

from __future__ import annotations

from pathlib import Path

from themetag.atomic import read_json
from themetag.errors import InputError
from themetag.fingerprint import file_sha256
from themetag.pipeline import paths


def plan_body(themes: dict[str, str], features: Path | None) -> dict:
    """A plan: theme -> study fingerprint, and the features file's digest when anything is tuned."""
    body: dict = {"themes": themes}
    if themes and features is not None and features.exists():
        body["features_sha256"] = file_sha256(features)
    return body


def planned_themes(candidate: str) -> list[str]:
    """The themes ``candidate``'s stage tunes, from its plan file."""
    path = paths.plan_file(candidate)
    if not path.exists():
        raise InputError(f"{path}: missing; run `dvc repro reuse` first (it plans what the tune stages run)")
    return list(read_json(path).get("themes", {}))
