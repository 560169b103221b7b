"""How many trials a study gets: a cost model of the data and the config, never of the clock.

A trial fits one model per fold. Its estimated cost, in reference seconds, is

    folds x rows fitted per fold x the family's ``cost_us`` per row on that space's kind

(``conf/families/<family>.yaml``; measured on one core of the development machine, see
bench/results/fit_costs_goemotions.md). A study gets ``tuning.n_trials`` trials (capped by the
family's ``max_trials``), but no more than fit in ``tuning.budget`` reference seconds, and no
fewer than ``tuning.min_trials``. On a few thousand rows the budget does not bind; on 50,000 rows
the costly pairs (a linear SVM on embeddings, a forest) get a handful of trials, the cheap ones
(TF-IDF with a linear model, naive Bayes) keep all of theirs.

Because the count comes from row counts and config values only, two runs of the same data and
config run the same trials on any machine, at any load: results stay byte-identical.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from stages.errors import InputError


@dataclass(frozen=True)
class Budget:
    trials: int  # finished trials the study runs to
    asked: int  # tuning.n_trials, capped by the family's max_trials
    trial_cost: float | None  # estimated reference seconds per trial; None without a cost model

    @property
    def cut(self) -> bool:
        """True when the cost model gave the study fewer trials than asked."""
        return self.trials < self.asked

    def as_dict(self) -> dict:
        return {
            "trials": self.trials,
            "asked": self.asked,
            "est_seconds_per_trial": None if self.trial_cost is None else round(self.trial_cost, 3),
            "cut_by_cost_model": self.cut,
        }


def rows_fitted(family_conf: dict, train_rows: int) -> int:
    """Rows one fit reads: a forest with ``max_rows`` fits each tree on at most that many."""
    cap = family_conf.get("max_rows")
    return min(train_rows, int(cap)) if cap is not None else train_rows


def cost_on(family: str, family_conf: dict, space_kind: str) -> float | None:
    """The family's ``cost_us`` on a space kind: microseconds per fitted row, per fit."""
    costs = family_conf.get("cost_us")
    if not costs:
        return None
    if space_kind not in costs:
        raise InputError(
            f"conf/families/{family}.yaml: cost_us has no entry for space kind {space_kind!r}; add one "
            f"(microseconds per training row per fit, see stages/budget.py)"
        )
    return float(costs[space_kind])


def trial_cost(family_conf: dict, folds: int, train_rows: int) -> float | None:
    """Estimated reference seconds of one trial, or None when the family has no cost.

    ``family_conf`` is a candidate's (``candidates.family_conf``): ``cost_us`` is one number.
    """
    cost = family_conf.get("cost_us")
    if cost is None:
        return None
    return folds * rows_fitted(family_conf, train_rows) * float(cost) * 1e-6


def study_budget(family_conf: dict, tuning: dict, folds: int, train_rows: int) -> Budget:
    """The trials one (theme, candidate) study runs to."""
    asked = int(tuning["n_trials"])
    if family_conf.get("max_trials"):
        asked = min(asked, int(family_conf["max_trials"]))
    cost = trial_cost(family_conf, folds, train_rows)
    seconds = tuning.get("budget")
    if seconds is None or cost is None or cost <= 0:
        return Budget(asked, asked, cost)
    floor = min(asked, int(tuning.get("min_trials", 1)))
    return Budget(max(floor, min(asked, math.floor(float(seconds) / cost))), asked, cost)
