"""How many trials a study gets: a cost model of the data and the config, never of the clock.

A trial fits one model per fold. Its estimated cost, in reference seconds, is

    folds x m x the family's ``cost_us`` per row on that space's kind x (n / 20,000) ** GROWTH

with n the training rows per fold and m the rows one fit reads: n, or a forest's ``max_rows``
(``conf/families/<family>.yaml``; ``cost_us`` measured at
20,000 rows on one core of the development machine, bench/results/fit_costs/fit_costs_goemotions.md).
The solvers' cost per row grows with the rows: from 5,000 to 20,000 rows it grew with an
exponent of 0.2-0.7 (TF-IDF logistic regression lowest, linear SVMs highest), and on the
48,836 goemotions rows a linear model on TF-IDF + embeddings took 1.5x what a linear model
predicted. GROWTH = 0.5 covers that, and it makes small data cheaper, so the budget never binds
on a few thousand rows. A study gets ``tuning.n_trials`` trials (capped by the
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

from themetag.errors import InputError

REFERENCE_ROWS = 20_000  # the row count cost_us was measured at
GROWTH = 0.5  # per-row cost grows as (rows / REFERENCE_ROWS) ** GROWTH


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
            f"(microseconds per training row per fit, see themetag/tuning/budget.py)"
        )
    return float(costs[space_kind])


def trial_cost(family_conf: dict, folds: int, train_rows: int) -> float | None:
    """Estimated reference seconds of one trial, or None when the family has no cost.

    ``family_conf`` is a candidate's (``candidates.family_conf``): ``cost_us`` is one number.
    """
    cost = family_conf.get("cost_us")
    if cost is None:
        return None
    # The growth term follows all the rows even for a forest whose trees fit max_rows each: its
    # sparse splitter scans each column's non-zeros over every row, and it scores all held-out
    # rows with every tree. Measured: 0.63 s per fit at 5,000 rows, 1.21-1.29 s at 20,000
    # (bench/results/fit_costs/fit_costs_goemotions.md); capping the growth at max_rows made the model 4x
    # low on goemotions' 39,000 fold rows.
    m = rows_fitted(family_conf, train_rows)
    return folds * m * float(cost) * 1e-6 * (train_rows / REFERENCE_ROWS) ** GROWTH


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
