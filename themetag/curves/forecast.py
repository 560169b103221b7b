"""A theme's learning curve, forecast: an inverse power law fitted by weighted least squares,
with an interval from bootstrapping the whole procedure.

The fitted figure is out-of-fold **average precision**, the smooth one: a precision at a recall
constraint rests on a few dozen tagged rows and jumps (0.9 on 40 tagged rows has a standard error
of about 0.05). ``pow3`` is ``AP(x) = c - a x^-alpha`` in ``x``, the training rows as a multiple of
today's (random labelling adds positives at the same rate), with ``c`` the ceiling. Each
bootstrap replicate reweights the scored rows (Poisson weights, the same for every point, so the
points stay paired) and redraws the subset seeds, then fits again: the interval carries the
scoring noise and the subset noise, not the chance that the folds themselves were lucky, so it
may be optimistic (as Figueroa et al. 2012 warn of theirs).

``pow3_gain`` fits the same law to the subsets alone and adds its gain from 1x to today's
figure: the point at 1x is the selected candidate's, the best of several, so it sits a little high
against subsets of one setting, and a fit through it can read that selection as a steep curve.

``last_value`` is the no-gain rule: tomorrow's figure is today's (LCDB's strong baseline). It is
always reported beside the fit.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import least_squares

FORECASTS = ("pow3", "pow3_gain", "last_value")
ALPHA = (0.2, 2.0)  # the power law's exponent: statistical rates sit near 0.5; outside this the fit is noise
CHUNK = 50  # bootstrap replicates computed at once (memory: CHUNK x rows floats per point)


def weighted_ap(y: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Average precision (as scikit-learn defines it, ties grouped) under each row of
    ``weights`` (replicates x rows): one sort for all replicates."""
    order = np.argsort(-scores, kind="stable")
    s, yy, w = scores[order], y[order].astype(float), weights[:, order]
    ends = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # last row of each tied group
    tp = np.cumsum(w * yy, axis=1)[:, ends]
    seen = np.cumsum(w, axis=1)[:, ends]
    precision = np.divide(tp, seen, out=np.zeros_like(tp), where=seen > 0)
    gained = np.diff(tp, axis=1, prepend=0.0)
    total = tp[:, -1:]
    return np.divide((gained * precision).sum(axis=1, keepdims=True), total, out=np.zeros_like(total), where=total > 0)[
        :, 0
    ]


def pow3(x: np.ndarray, c: float, a: float, alpha: float) -> np.ndarray:
    return c - a * np.power(x, -alpha)


def fit_pow3(x: np.ndarray, y: np.ndarray, sigma: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
    """(c, a, alpha) by bounded, weighted least squares: ceiling in [0, 1], a rising curve.
    ``start``: where the search begins (a bootstrap replicate starts from the point estimate's fit)."""

    log_x = np.log(x)

    def residuals(p: np.ndarray) -> np.ndarray:
        return (pow3(x, *p) - y) / sigma

    def jacobian(p: np.ndarray) -> np.ndarray:
        """Exact derivatives: a finite-difference Jacobian costs 3 more curve evaluations per
        step, and the bootstrap fits this law thousands of times per run."""
        power = np.power(x, -p[2])
        return np.column_stack([np.ones_like(x), -power, p[1] * power * log_x]) / sigma[:, None]

    if start is None:
        start = np.array([min(max(y.max(), 1e-3), 1.0), max(y.max() - y.min(), 1e-3), 0.5])
    fit = least_squares(residuals, start, jac=jacobian, bounds=([0.0, 0.0, ALPHA[0]], [1.0, 10.0, ALPHA[1]]))
    return fit.x


def bootstrap_points(
    y: np.ndarray, points: dict[float, list[np.ndarray]], replicates: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per fraction (sorted): the mean AP over its subset seeds, and ``replicates`` bootstrap
    values of it (rows reweighted alike across points, seeds redrawn per fraction)."""
    rng = np.random.default_rng(seed)
    fractions = sorted(points)
    estimate = np.array([np.mean([weighted_ap(y, s, np.ones((1, len(y))))[0] for s in points[f]]) for f in fractions])
    boot = np.empty((replicates, len(fractions)))
    for start in range(0, replicates, CHUNK):
        n = min(CHUNK, replicates - start)
        w = rng.poisson(1.0, size=(n, len(y))).astype(float)
        for j, f in enumerate(fractions):
            per_seed = np.stack([weighted_ap(y, s, w) for s in points[f]], axis=1)  # n x seeds
            pick = rng.integers(0, per_seed.shape[1], size=per_seed.shape)
            boot[start : start + n, j] = np.take_along_axis(per_seed, pick, axis=1).mean(axis=1)
    return estimate, boot


def forecast(
    fractions: np.ndarray, estimate: np.ndarray, boot: np.ndarray, horizons: list[float], method: str, interval: float
) -> dict:
    """The fitted curve, the forecasts at ``horizons`` and the ceiling, each with its interval."""
    if method not in FORECASTS:
        raise ValueError(f"learning_curve.forecast={method!r}; use one of {FORECASTS}")
    sigma = np.maximum(boot.std(axis=0, ddof=1), 0.005)  # a floor: no point is known exactly
    grid = np.asarray(sorted({*map(float, fractions), *map(float, horizons)}))
    now = float(estimate[-1])

    used = fractions < 1.0 if method == "pow3_gain" else np.ones(len(fractions), dtype=bool)

    def fit_of(values: np.ndarray, start: np.ndarray | None = None) -> np.ndarray | None:
        return None if method == "last_value" else fit_pow3(fractions[used], values[used], sigma[used], start)

    def curve(values: np.ndarray, params: np.ndarray | None) -> np.ndarray:
        """The curve on ``grid``, then its ceiling."""
        if params is None:
            return np.r_[np.full(len(grid), values[-1]), values[-1]]
        c, a, alpha = params
        if method == "pow3":
            return np.r_[pow3(grid, c, a, alpha), c]
        shift = values[-1] - pow3(1.0, c, a, alpha)
        return np.r_[np.clip(pow3(grid, c, a, alpha) + shift, 0.0, 1.0), min(c + shift, 1.0)]

    params = fit_of(estimate)
    point = curve(estimate, params)
    reps = np.stack([curve(b, fit_of(b, params)) for b in boot])
    q = [(1 - interval) / 2, (1 + interval) / 2]
    lo, hi = np.quantile(reps, q, axis=0)
    # the gain from today to the furthest horizon, per replicate: its interval leaves out how
    # uncertain today's level is, which the forecast's own interval carries
    far, one = len(grid) - 1, int(np.flatnonzero(grid == 1.0)[0])
    gains = reps[:, far] - reps[:, one]
    gain = [float(np.quantile(gains, q[0])), float(point[far] - point[one]), float(np.quantile(gains, q[1]))]
    # the forecast less today's measured figure, per replicate: the interval of what the forecast
    # adds to today, without how uncertain today's level is (to add to a figure measured elsewhere)
    gain_lo, gain_hi = np.quantile(reps[:, : len(grid)] - boot[:, -1:], q, axis=0)
    fitted = {"params": None if params is None else dict(zip(("c", "a", "alpha"), map(float, params), strict=True))}
    return {
        "now": now,
        "sd": sigma.tolist(),
        "grid": grid.tolist(),
        "curve": point[:-1].tolist(),
        "low": lo[:-1].tolist(),
        "high": hi[:-1].tolist(),
        "ceiling": [float(lo[-1]), float(point[-1]), float(hi[-1])],
        "gain": gain,
        "gain_low": gain_lo.tolist(),
        "gain_high": gain_hi.tolist(),
        **fitted,
    }


def first_reaching(grid: list[float], curve: list[float], target: float, horizon: float) -> float | None:
    """The smallest multiple (on a fine grid up to ``horizon``) where the fitted curve reaches
    ``target``, interpolated linearly between the curve's points; None when it does not."""
    xs = np.linspace(1.0, horizon, 41)
    ys = np.interp(xs, grid, curve)
    hit = np.flatnonzero(ys >= target)
    return float(xs[hit[0]]) if hit.size else None


def ceil_int(x: float) -> int:
    return int(math.ceil(x - 1e-9))
