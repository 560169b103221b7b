"""themetag: multi-label theme classification, one tuned binary classifier per theme.

The library behind the DVC pipeline in ``stages/``. A service that only tags needs::

    from themetag import load_bundle, tag_frame
    tagged = tag_frame(batch, "models/bundle.joblib")   # pandas in, pandas out

Subpackages, one concern each: ``data`` (CSV input, labels, review ledger), ``features``
(feature spaces and the ONNX encoder), ``modelling`` (families and candidates), ``tuning``
(Optuna trials, budget, studies), ``thresholds`` (the threshold rules), ``tagging`` (the bundle,
``tag_frame``), ``labelling`` (label quality and what to label next), ``reporting`` (tables, plots,
the model card) and ``pipeline`` (the DVC pipeline's paths, params and artifacts).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

# Loaded on first use, so that `import themetag` (and `themetag --help`) stays fast.
_PUBLIC = {
    "tag_frame": "themetag.tagging.frame",
    "load_bundle": "themetag.tagging.bundle",
    "ThemeTagger": "themetag.tagging.bundle",
    "InputError": "themetag.errors",
}
__all__ = [*_PUBLIC, "__version__"]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'themetag' has no attribute {name!r}")
