"""Read the composed parameters from params.yaml.

Stages read params.yaml (never ``@hydra.main``), because DVC writes the composed and
overridden config there: ``dvc exp run -S`` overrides would be ignored otherwise.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from themetag.errors import InputError

PARAMS_FILE = Path("params.yaml")
ENCODER_CHOICE = Path("artifacts/encoder_choice.json")  # the encoder_probe stage's output (paths.ENCODER_CHOICE)
AUTO = "auto"


def load_params(path: Path = PARAMS_FILE, resolve: bool = True) -> dict[str, Any]:
    """The parameters; with ``resolve``, an embeddings space's ``model: auto`` replaced by the
    encoder the ``encoder_probe`` stage chose (``themetag/features/encoder_choice.py``), once it has:
    every later stage, and every study's fingerprint, sees a plain model name."""
    if not path.exists():
        raise InputError(f"{path}: not found; run `python -m stages.compose` to build it from conf/")
    params = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not resolve or not ENCODER_CHOICE.is_file():
        return params
    return resolve_auto(params, json.loads(ENCODER_CHOICE.read_text(encoding="utf-8")))


def embedding_confs(conf: Any) -> Iterator[dict]:
    """Every embeddings conf inside a space's conf (a concat space's parts included)."""
    if not isinstance(conf, dict):
        return
    if conf.get("kind") == "embeddings":
        yield conf
    for part in (conf.get("parts") or {}).values() if conf.get("kind") == "concat" else ():
        yield from embedding_confs(part)


def resolve_auto(params: dict, choice: dict) -> dict:
    """``params`` with every embeddings ``model: auto`` replaced by ``choice``'s model and length
    (a copy; ``params`` itself when nothing is ``auto``)."""
    if not any(c.get("model") == AUTO for v in params.get("features", {}).values() for c in embedding_confs(v)):
        return params
    out = copy.deepcopy(params)
    for value in out.get("features", {}).values():
        for conf in embedding_confs(value):
            if conf.get("model") == AUTO:
                conf["model"], conf["max_tokens"] = choice["model"], int(choice["max_tokens"])
    return out
