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

On large data (more training rows than ``tuning.race.sample_rows``) the screen runs on a seeded,
multi-label-stratified sample of that many rows, in studies of their own, and each theme's
margin is widened by twice the sampling error of the leader's precision there (``widening``):
a theme with few positives in the sample races nobody out. The candidates that go on run their
portfolio on every row and stop there (``search_tuning``): on goemotions (48,836 rows), the
trials beyond the portfolio raised no theme's best value by more than 0.0032 (mean 0.0003,
``bench/results/race_regret/race_regret_goemotions_sampled.md``); the first round's tune stages took 949 s
there, against 1,344 s tuned to the full budget. Costly candidates race as on small data: their
portfolio on every row, against the first round's best.

At every size a candidate that goes on stops after ``tuning.race.extra_trials`` trials beyond
its portfolio, 0 by default: on mams_acsa, semeval25 and goemotions those trials raised a theme's
best by less than one standard error of its precision on all but one theme (in-sample), and
stopping at the portfolio cost semeval25 0.004 test macro precision at 0.68x the time
(docs/tuning-and-thresholds.md). Costly candidates (the forest, AdaBoost) stop there too: on
the sample their trials beyond the portfolio took 71% of their studies' trial time and changed
no theme's winner (``bench/results/costly_trials/``).

Winners, thresholds and every reported figure still come from full out-of-fold scores of the
tuned candidates, so the race changes what is spent, not how honest a figure is. The portfolio
and the decisions depend on the data and the config only: two runs give the same race.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from themetag.atomic import read_json
from themetag.errors import InputError
from themetag.features.spaces import FoldMatrices
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


def decide(values: dict[str, float], race_margin: float | None, widen: float = 0.0) -> dict[str, str | None]:
    """Per candidate of one theme: None when it goes on, else why it stops (its screen value is
    more than ``race_margin`` + ``widen`` below the best one's)."""
    if not values or race_margin is None:
        return dict.fromkeys(values)
    leader = max(values, key=lambda c: (values[c], c))
    best, gap = values[leader], race_margin + widen
    extra = f" + {widen:.3f} sampling error" if widen else ""
    return {
        c: None
        if v >= best - gap
        else f"screen {v:.3f}, {best - v:.3f} behind {leader} ({best:.3f}) > tuning.race.margin {race_margin}{extra}"
        for c, v in values.items()
    }


def sample_limit(tuning: dict) -> int | None:
    """``tuning.race.sample_rows``: the screen's row limit, or None (every row)."""
    value = (tuning.get("race") or {}).get("sample_rows")
    return None if value is None else int(value)


def screen_sample(labels: np.ndarray, limit: int | None, seed: int) -> np.ndarray | None:
    """The rows the screen runs on, sorted: None (all of them) up to ``limit`` rows, else a
    sample of ``limit`` rows stratified on every theme at once (``iterative-stratification``)."""
    if limit is None or len(labels) <= limit:
        return None
    from iterstrat.ml_stratifiers import MultilabelStratifiedShuffleSplit

    split = MultilabelStratifiedShuffleSplit(
        n_splits=1, train_size=limit, test_size=len(labels) - limit, random_state=seed
    )
    rows, _ = next(split.split(np.zeros(len(labels)), labels))
    return np.sort(rows)


def restrict(mats: FoldMatrices, rows: np.ndarray) -> FoldMatrices:
    """The fold matrices of ``rows`` only, renumbered 0..len(rows)-1 (each fold keeps its own
    featurizer, fitted on that fold's training rows: nothing from the held-out rows leaks)."""
    n = sum(len(v) for v in mats.valid_idx)
    pos = np.full(n, -1)
    pos[rows] = np.arange(len(rows))
    out = FoldMatrices([], [], [], [])
    for k in range(mats.k):
        for idx, X, to_idx, to_X in (
            (mats.train_idx[k], mats.X_train[k], out.train_idx, out.X_train),
            (mats.valid_idx[k], mats.X_valid[k], out.valid_idx, out.X_valid),
        ):
            keep = pos[idx] >= 0
            to_idx.append(pos[idx[keep]])
            to_X.append(X[np.flatnonzero(keep)])
    return out


def precision_se(value: float, positives: int, min_recall: float) -> float:
    """The standard error of a precision measured where the rule tags about ``min_recall`` x
    ``positives`` / precision rows (Agresti-Coull, so that a precision of 1.0 on a few rows is
    not taken as certain)."""
    p = min(max(value, 0.0), 1.0)
    tagged = min_recall * positives / max(p, 0.05)
    q = (p * tagged + 2) / (tagged + 4)
    return math.sqrt(q * (1 - q) / (tagged + 4))


def widening(leader_value: float, positives: int, min_recall: float) -> float:
    """Twice the standard error of the leader's precision on the sample (``precision_se``)."""
    return 2 * precision_se(leader_value, positives, min_recall)


def raced_out(candidate: str, themes: list[str]) -> dict[str, str]:
    """Theme -> why ``candidate`` stops there, from its file of the screen stage's output."""
    path = paths.screen_file(candidate)
    if not path.exists():
        raise InputError(
            f"{path}: missing; run `dvc repro stages/tuning/dvc.yaml:screen` first (the tune stages race on it)"
        )
    out = read_json(path).get("raced_out", [])
    why = f"more than tuning.race.margin behind the theme's best screen value ({paths.SCREEN})"
    return {t: why for t in themes if t in out}


def setups_sample(tuning: dict, setups: list[tuple]) -> np.ndarray | None:
    """``screen_sample`` of the themes' labels in ``setups`` (the same rows for every candidate)."""
    labels = np.column_stack([y for _, y, _, _ in setups])
    return screen_sample(labels, sample_limit(tuning), int(tuning["seed"]))


def sampled_setups(
    rows: np.ndarray | None, mats: FoldMatrices, setups: list[tuple]
) -> tuple[FoldMatrices, list[tuple], int | None]:
    """The screen's fold matrices and per theme (theme, y, seed, fingerprint): the sample's
    (``rows``, from ``setups_sample``) when the data is larger than ``tuning.race.sample_rows``,
    in studies of their own (the sample's rows are in their fingerprint); else the full ones,
    whose studies the tune stages resume. Also the sample's size, or None."""
    if rows is None:
        return mats, setups, None
    from themetag.fingerprint import fingerprint

    sub = [(theme, y[rows], seed, fingerprint(fp, "screen sample", rows)) for theme, y, seed, fp in setups]
    return restrict(mats, rows), sub, len(rows)


def theme_widening(tuning: dict, values: dict[str, float], y: np.ndarray, sample: int | None) -> float:
    """The theme's widening of the margin: none on all rows, else ``widening`` of its leader."""
    if sample is None or not values:
        return 0.0
    return widening(max(values.values()), int(y.sum()), float(tuning["early_stop"]["min_recall"]))


def search_tuning(tuning: dict, rows: int, points: list, costly: bool) -> dict:
    """The tuning settings of a candidate's studies on every row: its portfolio plus
    ``tuning.race.extra_trials`` trials (null: the full budget), costly candidates included; and
    for a first-round candidate on data larger than ``tuning.race.sample_rows`` the portfolio
    alone (``n_trials`` capped), since the screen chose it on a sample. The stage and
    ``tune_worker`` both use it, so they agree."""
    if not points:
        return tuning
    limit = sample_limit(tuning)
    extra = (tuning.get("race") or {}).get("extra_trials")
    if not costly and limit is not None and rows > limit:
        extra = 0
    if extra is None:
        return tuning
    return {**tuning, "n_trials": min(int(tuning["n_trials"]), len(points) + int(extra))}
