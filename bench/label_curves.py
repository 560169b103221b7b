"""Learning curves of the label-loop simulation (``bench.label_loop``): per arm and figure, the
mean over seeds after each round, the paired difference to the random arm with a bootstrap
interval over seeds, and ``labels_to_match_random``: the added labels an arm needs to reach
random's figure at the last round, interpolated linearly on the arm's mean curve.

Seeds are paired: every arm of one seed starts from the same labelled rows, so the difference
is taken per seed before it is averaged and resampled.

Which themes a macro averages over matters: an arm that finds a rare theme's positives trains a
theme that another arm does not, and a new, weak theme would lower its macro. So:

- ``precision_at_recall_0.5`` (how well the model ranks) averages over every theme any arm
  trained at any round; a theme an arm has not trained yet counts at its test prevalence, the
  precision of a ranking that knows nothing. Finding a rare theme counts for the arm.
- ``rule_precision`` / ``rule_recall`` (what the team gets at the rule's thresholds) average
  over the themes every arm trained at that round and seed.
"""

from __future__ import annotations

import numpy as np

BOOTSTRAP = 2000
MATCHED = ("precision_at_recall_0.5", "rule_precision")  # the two headline figures
FIGURES = ("precision_at_recall_0.5", "rule_precision", "rule_recall")


def theme_figures(record: dict, figure: str) -> dict[str, float]:
    """One round's per-theme figure."""
    if figure == "precision_at_recall_0.5":
        return record["theme_precision_at_recall_0.5"]
    key = figure.removeprefix("rule_")
    return {t: m[key] for t, m in record["theme_test"].items()}


def macro(records: dict[str, dict], figure: str, universe: list[str], prevalence: dict[str, float]) -> dict:
    """Per arm, the macro of one round and seed (``records``: arm -> round record)."""
    per = {arm: theme_figures(r, figure) for arm, r in records.items()}
    if figure == "precision_at_recall_0.5":
        return {arm: float(np.mean([f.get(t, prevalence.get(t, 0.0)) for t in universe])) for arm, f in per.items()}
    common = sorted(set.intersection(*(set(f) for f in per.values())))
    return {arm: float(np.mean([f[t] for t in common])) for arm, f in per.items()}


def matrices(arms: dict, figure: str, prevalence: dict[str, float]) -> dict[str, np.ndarray]:
    """Per arm, seeds x rounds of one figure (seeds in sorted order, shared by every arm)."""
    seeds = sorted(arms["random"], key=int)
    n_rounds = len(arms["random"][seeds[0]])
    universe = sorted({t for a in arms.values() for rs in a.values() for r in rs for t in r["theme_test"]})
    out = {arm: np.zeros((len(seeds), n_rounds)) for arm in arms}
    for i, s in enumerate(seeds):
        for r in range(n_rounds):
            got = macro({arm: arms[arm][s][r] for arm in arms}, figure, universe, prevalence)
            for arm, v in got.items():
                out[arm][i, r] = v
    return out


def labels_to_match(added: np.ndarray, curve: np.ndarray, target: float) -> float | None:
    """The added labels at which ``curve`` first reaches ``target``, linear between rounds; None
    if it never does."""
    if curve[0] >= target:
        return 0.0
    for i in range(1, len(curve)):
        if curve[i] >= target:
            lo, hi = curve[i - 1], curve[i]
            return float(added[i - 1] + (target - lo) / (hi - lo) * (added[i] - added[i - 1]))
    return None


def bootstrap_interval(diffs: np.ndarray, seed: int = 0) -> tuple[float, float]:
    """95% percentile interval of the mean of ``diffs`` (one per seed) over seed resamples."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(diffs), size=(BOOTSTRAP, len(diffs)))
    means = diffs[idx].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def match_interval(added: np.ndarray, arm: np.ndarray, base: np.ndarray, seed: int = 0) -> dict:
    """``labels_to_match`` on the means, and its 95% interval over paired seed resamples (a
    resample whose curve never gets there counts as beyond the last round)."""
    rng = np.random.default_rng(seed)
    point = labels_to_match(added, arm.mean(axis=0), base[:, -1].mean())
    draws = []
    for idx in rng.integers(0, len(arm), size=(BOOTSTRAP, len(arm))):
        got = labels_to_match(added, arm[idx].mean(axis=0), base[idx, -1].mean())
        draws.append(np.inf if got is None else got)
    draws = np.sort(draws)  # percentiles by rank: "never" sorts last
    lo, hi = draws[int(0.025 * BOOTSTRAP)], draws[int(0.975 * BOOTSTRAP) - 1]
    return {
        "labels": point,
        "interval": [None if not np.isfinite(lo) else float(lo), None if not np.isfinite(hi) else float(hi)],
        "random_figure": float(base[:, -1].mean()),
        "never_within": float(added[-1]),
    }


def curves(arms: dict, start: int, prevalence: dict[str, float]) -> dict:
    """Per figure and arm: mean curve, and against random the paired difference per round with
    its interval; the headline per arm; and the worst theme per round. ``prevalence``: each
    theme's share of the test rows."""
    base = arms["random"]
    n_rounds = len(next(iter(base.values())))
    labelled = [base[next(iter(base))][r]["labelled"] for r in range(n_rounds)]
    added = np.array(labelled, dtype=float) - start
    out: dict = {"added": added.tolist(), "figures": {}, "labels_to_match_random": {}, "worst_theme": {}}
    for figure in FIGURES:
        rows = {}
        mats = matrices(arms, figure, prevalence)
        b = mats["random"]
        for arm in arms:
            m = mats[arm]
            rows[arm] = {"mean": m.mean(axis=0).tolist(), "seeds": m.tolist()}
            if arm != "random":
                d = m - b
                rows[arm]["diff"] = d.mean(axis=0).tolist()
                rows[arm]["diff_interval"] = [bootstrap_interval(d[:, r]) for r in range(n_rounds)]
                if figure in MATCHED:
                    out["labels_to_match_random"].setdefault(arm, {})[figure] = match_interval(added, m, b)
        out["figures"][figure] = rows
    for arm, seeds in arms.items():
        if arm != "random":
            out["worst_theme"][arm] = {f: worst_theme(seeds, base, f) for f in MATCHED}
    return out


def worst_theme(arm: dict, base: dict, figure: str) -> list[dict]:
    """Per round, the theme whose mean paired difference to random is lowest, with its interval."""

    keys = sorted(base, key=int)
    out = []
    for r in range(len(base[keys[0]])):
        ours = [theme_figures(arm[s][r], figure) for s in keys]
        theirs = [theme_figures(base[s][r], figure) for s in keys]
        themes = sorted(set.intersection(*(set(a) & set(b) for a, b in zip(ours, theirs, strict=True))))
        if not themes:
            out.append({})
            continue
        d = np.array([[a[t] - b[t] for t in themes] for a, b in zip(ours, theirs, strict=True)])
        i = int(np.argmin(d.mean(axis=0)))
        lo, hi = bootstrap_interval(d[:, i])
        out.append({"theme": themes[i], "diff": float(d[:, i].mean()), "interval": [lo, hi]})
    return out
