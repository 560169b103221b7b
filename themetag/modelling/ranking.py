"""How candidates rank for a theme (``select.criterion``): used by ``select`` among tuned
candidates and by ``reuse`` among a recorded setting and its challengers, so both choose alike."""

from __future__ import annotations


def rank(candidate: dict, criterion: str) -> tuple[float, ...]:
    """Sort key of one candidate's result for a theme: higher is better."""
    if criterion == "objective":
        return (candidate["objective"], candidate["average_precision"])
    if criterion == "average_precision":
        return (candidate["average_precision"],)
    raise ValueError(f"select.criterion={criterion!r}; use objective or average_precision")
