"""Fitted models whose pickles depend on the models only, so two runs that fit the same models
write the same bytes (and DVC sees a changed bundle only when a model changed).

Two things in a fitted scikit-learn model vary from run to run without changing a prediction:
- a tree's node array has padding bytes (7 per node after ``missing_go_to_left``) that nothing
  initialises, so they hold whatever the memory held;
- a text vectoriser caches ``id(stop_words)``, a memory address, as ``_stop_words_id``; it is
  only a cache (the check it skips reruns when the attribute is missing).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.tree._tree import Tree


def zero_padding(tree: Tree) -> None:
    """Rebuild the tree's node array from its fields in zeroed memory."""
    state = tree.__getstate__()
    nodes = state["nodes"]
    clean = np.zeros(nodes.shape, dtype=nodes.dtype)
    for name in nodes.dtype.names:
        clean[name] = nodes[name]
    state["nodes"] = clean
    tree.__setstate__(state)


def stable(obj: Any, _seen: set[int] | None = None) -> Any:
    """Clear both, in place, in ``obj`` and everything it holds (dicts, lists, tuples, and the
    attributes of scikit-learn and project objects); return ``obj``."""
    seen = set() if _seen is None else _seen
    if id(obj) in seen:
        return obj
    seen.add(id(obj))
    if isinstance(obj, Tree):
        zero_padding(obj)
        return obj
    if isinstance(obj, dict):
        items = list(obj.values())
    elif isinstance(obj, (list, tuple)):
        items = list(obj)
    elif hasattr(obj, "__dict__") and type(obj).__module__.startswith(("sklearn.", "themetag.")):
        obj.__dict__.pop("_stop_words_id", None)
        items = list(obj.__dict__.values())
    else:
        return obj
    for item in items:
        stable(item, seen)
    return obj
