"""Cheap candidates first: which themes a costly candidate need not tune.

The families in ``models.costly`` (by default the tree ensembles, whose fits cost 10-100x a
linear model's) are tuned after every other candidate, by ``tune_costly@<family>-<space>``
stages that take the others' summaries as deps. A theme is *settled* when one of those
cheaper candidates already met the early-stop rule (``tuning.early_stop``: good enough, out of
fold). A costly candidate tunes only the unsettled themes; for a settled one it records which
candidate settled it, and ``select`` chooses among the candidates that ran.

Candidates also race (``themetag/tuning/race.py``): a first-round candidate tunes only the themes
where its screen kept it in the race, and a costly one stops after its portfolio on a theme when
it is more than ``tuning.race.margin`` below the best value the first round reached there.
"""

from __future__ import annotations

from themetag.atomic import read_json
from themetag.errors import InputError
from themetag.modelling.candidates import Candidate, candidates
from themetag.pipeline import paths
from themetag.tuning.race import margin, raced_out


def first_round(params: dict) -> list[dict]:
    """The per-theme results of the candidates tuned first (their ``summary.json`` files)."""
    rows = []
    for cand in candidates(params):
        if cand.costly or cand.skip:
            continue
        path = paths.tune_dir(cand.name) / "summary.json"
        if not path.exists():
            raise InputError(
                f"{path}: missing; run `dvc repro stages/tuning/dvc.yaml:tune@{cand.name}` first (costly candidates run after it)"
            )
        rows += [{**res, "candidate": cand.name} for res in read_json(path).get("themes", [])]
    return rows


def settled_themes(params: dict) -> dict[str, str]:
    """Theme -> why it is settled, from the summaries of the candidates tuned first."""
    found: dict[str, str] = {}
    for res in first_round(params):
        if res["stop_reason"] == "early_stop" and res["theme"] not in found:
            found[res["theme"]] = (
                f"{res['candidate']} met tuning.early_stop (oof P={res['oof_precision']:.3f} R={res['oof_recall']:.3f})"
            )
    return found


def race_bars(params: dict, themes: list[str]) -> dict[str, float]:
    """Per theme, the value a costly candidate's portfolio must reach to be tuned further: the
    first round's best less ``tuning.race.margin`` (none when racing is off)."""
    m = margin(params["tuning"])
    if m is None:
        return {}
    best: dict[str, float] = {}
    for res in first_round(params):
        best[res["theme"]] = max(best.get(res["theme"], float("-inf")), res["best_value"])
    return {t: best[t] - m for t in themes if t in best}


def themes_to_tune(
    params: dict, cand: Candidate, themes: list[str]
) -> tuple[list[str], dict[str, str], dict[str, str]]:
    """The themes ``cand`` tunes; the settled ones it leaves, with why; the ones the screen
    raced it out of, with why."""
    if not cand.costly:
        out = raced_out(cand.name, themes) if margin(params["tuning"]) is not None else {}
        return [t for t in themes if t not in out], {}, out
    settled = settled_themes(params)
    return [t for t in themes if t not in settled], {t: settled[t] for t in themes if t in settled}, {}
