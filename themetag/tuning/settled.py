"""Cheap candidates first: which themes a costly candidate need not tune.

The families in ``models.costly`` (by default the tree ensembles, whose fits cost 10-100x a
linear model's) are tuned after every other candidate, by ``tune_costly@<family>-<space>``
stages that take the others' summaries as deps. A theme is *settled* when one of those
cheaper candidates already met the early-stop rule (``tuning.early_stop``: good enough, out of
fold). A costly candidate tunes only the unsettled themes; for a settled one it records which
candidate settled it, and ``select`` chooses among the candidates that ran.
"""

from __future__ import annotations

from themetag.atomic import read_json
from themetag.errors import InputError
from themetag.modelling.candidates import Candidate, candidates
from themetag.pipeline import paths


def settled_themes(params: dict) -> dict[str, str]:
    """Theme -> why it is settled, from the summaries of the candidates tuned first."""
    found: dict[str, str] = {}
    for cand in candidates(params):
        if cand.costly or cand.skip:
            continue
        path = paths.tune_dir(cand.name) / "summary.json"
        if not path.exists():
            raise InputError(
                f"{path}: missing; run `dvc repro tune@{cand.name}` first (costly candidates run after it)"
            )
        for res in read_json(path).get("themes", []):
            if res["stop_reason"] == "early_stop" and res["theme"] not in found:
                found[res["theme"]] = (
                    f"{cand.name} met tuning.early_stop (oof P={res['oof_precision']:.3f} R={res['oof_recall']:.3f})"
                )
    return found


def themes_to_tune(params: dict, cand: Candidate, themes: list[str]) -> tuple[list[str], dict[str, str]]:
    """The themes ``cand`` tunes, and the settled ones it leaves, with why."""
    if not cand.costly:
        return themes, {}
    settled = settled_themes(params)
    return [t for t in themes if t not in settled], {t: settled[t] for t in themes if t in settled}
