"""Racing: the tuning budget goes to the candidates that can still win a theme.

The question per theme is which candidate wins, not what each candidate's best is. So every
candidate's study starts with its family's **portfolio** (``conf/families/<family>.yaml``): a few
settings known to be good on text, like auto-sklearn 2.0's portfolios, run as the study's first
trials with Optuna's ``enqueue_trial``. The ``screen`` stage runs the portfolios of every
candidate in ``models.families`` on every theme, all on the full out-of-fold scores. Then, per
theme, a candidate whose best portfolio value is more than ``tuning.race.margin`` below the
theme's best stops there (``raced_out``); the others are tuned by their ``tune@`` stage to the
full budget, the portfolio trials counted in it. A costly candidate (``models.costly``) runs its
own portfolio in its ``tune_costly@`` stage and stops when it is that far below the best the
candidates tuned before it reached.

Why a margin and not a rank: on the bundled sample, 40 TPE trials beyond the portfolio moved a
candidate's value by at most +0.03 (``bench/race_screen.py``), while the candidates that won no
theme were 0.1 to 0.2 behind. A margin larger than what tuning can still add never drops a
winner; a rank would drop the second of two close candidates.

Winners, thresholds and every reported figure still come from full out-of-fold scores of the
tuned candidates, so the race changes what is spent, not how honest a figure is. The portfolio
and the decisions depend on the data and the config only: two runs give the same race.
"""

from __future__ import annotations

from typing import Any

from themetag.atomic import read_json
from themetag.errors import InputError
from themetag.pipeline import paths


def portfolio(family: str, family_conf: dict) -> list[dict[str, Any]]:
    """The family's portfolio as trial parameters, each cast to its search-space type (so that
    Optuna's ``skip_if_exists`` recognises a setting the study already ran)."""
    space = family_conf["space"]
    out = []
    for i, point in enumerate(family_conf.get("portfolio") or []):
        if set(point) != set(space):
            raise InputError(
                f"conf/families/{family}.yaml: portfolio entry {i + 1} sets {sorted(point)}; set exactly the "
                f"search space's parameters {sorted(space)}"
            )
        cast = {}
        for name, value in point.items():
            kind = space[name]["type"]
            cast[name] = float(value) if kind == "float" else int(value) if kind == "int" else value
        out.append(cast)
    return out


def margin(tuning: dict) -> float | None:
    """``tuning.race.margin``, or None when racing is off (``race: null`` or ``margin: null``)."""
    race = tuning.get("race") or {}
    value = race.get("margin")
    return None if value is None else float(value)


def decide(values: dict[str, float], race_margin: float | None) -> dict[str, str | None]:
    """Per candidate of one theme: None when it goes on, else why it stops (its screen value is
    more than ``race_margin`` below the best one's)."""
    if not values or race_margin is None:
        return dict.fromkeys(values)
    leader = max(values, key=lambda c: (values[c], c))
    best = values[leader]
    return {
        c: None
        if v >= best - race_margin
        else f"screen {v:.3f}, {best - v:.3f} behind {leader} ({best:.3f}) > tuning.race.margin {race_margin}"
        for c, v in values.items()
    }


def raced_out(candidate: str, themes: list[str]) -> dict[str, str]:
    """Theme -> why ``candidate`` stops there, from its file of the screen stage's output."""
    path = paths.screen_file(candidate)
    if not path.exists():
        raise InputError(f"{path}: missing; run `dvc repro screen` first (the tune stages race on it)")
    out = read_json(path).get("raced_out", [])
    why = f"more than tuning.race.margin behind the theme's best screen value ({paths.SCREEN})"
    return {t: why for t in themes if t in out}
