"""Read the composed parameters from params.yaml.

Stages read params.yaml (never ``@hydra.main``), because DVC writes the composed and
overridden config there: ``dvc exp run -S`` overrides would be ignored otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from themetag.errors import InputError

PARAMS_FILE = Path("params.yaml")


def load_params(path: Path = PARAMS_FILE) -> dict[str, Any]:
    if not path.exists():
        raise InputError(f"{path}: not found; run `python -m stages.compose` to build it from conf/")
    return yaml.safe_load(path.read_text(encoding="utf-8"))
