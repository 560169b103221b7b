"""Which sentence encoder pays on this data set, measured on a sample before any full encoding.

A stronger encoder is not stronger everywhere, and it costs on every text, in training and in
tagging: all-mpnet-base-v2 encodes at about a quarter of all-MiniLM-L6-v2's speed and doubles the
width every embeddings model is tuned on. On semeval25's emotions it lifts test macro precision
by 0.071; on mams_acsa's aspects and goemotions' 28 emotions it lifts nothing. So the choice is
measured, per data set:

1. ``encoder_probe.rows`` training rows, stratified on every theme at once (the race's sampler);
2. each candidate encodes them (into the vector cache, so the ``embed`` stage reuses them);
3. per theme, a linear model (ridge regression, alpha from a two-point grid) scores every
   sampled row out of fold, on the project's own folds; its average precision is the figure.
   Average precision ranks without a threshold: on a sample, the rule's precision at one
   recall would swing more than the gains it should detect;
4. a later candidate replaces the first (the cheapest) only if its mean per-theme gain is at
   least ``encoder_probe.min_gain`` and its one-sided 95% lower bound over the themes is above 0:
   a gain that a few themes make and the rest undo is not one.

The probe's cost is bounded (``budget``): each candidate encodes at most
``encoder_probe.max_word_pieces`` word pieces. Where the sampled rows hold more (long texts),
fewer rows are drawn, down to ``encoder_probe.min_rows``, and past that each input is cut short
for the probe (the chosen encoder still runs at its own length). On short texts the budget never
binds: 1,000 rows of mams_acsa, semeval25 and goemotions hold 31k, 21k and 20k word pieces.

Themes with fewer than ``MIN_POSITIVES`` positives in the sample do not vote: their average
precision moves by more than the gains in question. Every figure is out of fold on the sample.
"""

from __future__ import annotations

import math
import time

import numpy as np

MIN_POSITIVES = 10  # a theme's positives in the sample for it to vote (2 per fold of 5)
ALPHAS = (1.0, 10.0)
Z_ONE_SIDED = 1.645  # 95% one-sided


def label(conf: dict) -> str:
    return f"{conf['model']}@{conf['max_tokens']}"


def themes_ap(vectors: np.ndarray, labels: np.ndarray, fold: np.ndarray) -> list[float]:
    """Per theme (column of ``labels``), the best out-of-fold average precision over ``ALPHAS``
    of a ridge regression on +-1 targets; NaN where the theme cannot vote.

    Ridge fits every theme at once in closed form (one solve per fold and alpha): 0.2-0.5 s
    on 1,000 rows against about 25 s for a logistic regression per theme, with the same decision
    on all three data sets (gains -0.032 / +0.068 / -0.014 against -0.033 / +0.073 / -0.007)."""
    from sklearn.linear_model import Ridge
    from sklearn.metrics import average_precision_score

    positives = labels.sum(axis=0)
    ks = np.unique(fold)
    votes = [
        j
        for j in range(labels.shape[1])
        if positives[j] >= MIN_POSITIVES and all(0 < labels[fold != k, j].sum() < (fold != k).sum() for k in ks)
    ]
    best = np.full(labels.shape[1], np.nan)
    for alpha in ALPHAS:
        scores = np.zeros(labels.shape, dtype=float)
        for k in ks:
            tr, va = fold != k, fold == k
            scores[va] = Ridge(alpha=alpha).fit(vectors[tr], 2.0 * labels[tr] - 1.0).predict(vectors[va])
        for j in votes:
            ap = float(average_precision_score(labels[:, j], scores[:, j]))
            best[j] = ap if np.isnan(best[j]) else max(best[j], ap)
    return best.tolist()


def budget(lengths: np.ndarray, max_pieces: int, min_rows: int) -> tuple[int, int | None, str | None]:
    """Rows to probe and the input length to cut them to (None: uncut), within ``max_pieces``
    word pieces per candidate, for a sample whose rows hold ``lengths`` word pieces; and why."""
    total, n = int(lengths.sum()), len(lengths)
    if total <= max_pieces or n == 0:
        return n, None, None
    mean = total / n
    rows = min(n, max(min_rows, int(max_pieces / mean)))
    cap = None if rows * mean <= max_pieces else max(32, max_pieces // rows)
    cut = f", each input cut to {cap} word pieces" if cap else ""
    why = (
        f"{n} sampled rows hold {total:,} word pieces, more than encoder_probe.max_word_pieces={max_pieces:,}: "
        f"probed on {rows} rows{cut}"
    )
    return rows, cap, why


def gain(base: list[float], other: list[float]) -> dict:
    """Mean per-theme gain of ``other`` over ``base`` (voting themes only) and its lower bound."""
    d = np.array([o - b for b, o in zip(base, other, strict=True) if not (math.isnan(b) or math.isnan(o))])
    if len(d) == 0:
        return {"themes": 0, "mean": None, "lower": None}
    se = float(d.std(ddof=1) / math.sqrt(len(d))) if len(d) > 1 else float("inf")
    mean = float(d.mean())
    return {"themes": len(d), "mean": round(mean, 4), "lower": round(mean - Z_ONE_SIDED * se, 4)}


def decide(gains: dict[str, dict], min_gain: float) -> tuple[str | None, str]:
    """The candidate (label) that pays most over the first, or None to keep the first; and why."""
    paying = {
        c: g
        for c, g in gains.items()
        if g["mean"] is not None and g["mean"] >= min_gain and g["lower"] is not None and g["lower"] > 0
    }
    if paying:
        best = max(paying, key=lambda c: paying[c]["mean"])
        g = paying[best]
        return best, (
            f"mean average precision +{g['mean']:.3f} over {g['themes']} themes (one-sided 95% lower bound "
            f"{g['lower']:+.3f}), at least encoder_probe.min_gain={min_gain}"
        )
    parts = []
    for c, g in gains.items():
        if g["mean"] is None:
            parts.append(f"{c}: no theme with {MIN_POSITIVES}+ positives in the sample to compare on")
        else:
            parts.append(f"{c}: {g['mean']:+.3f} over {g['themes']} themes (lower bound {g['lower']:+.3f})")
    return None, f"no candidate gains encoder_probe.min_gain={min_gain} with a lower bound above 0 ({'; '.join(parts)})"


def probe(
    texts: list[str],
    labels: np.ndarray,
    themes: list[str],
    fold: np.ndarray,
    candidates: list[dict],
    rows: np.ndarray,
    min_gain: float,
    encode,
) -> tuple[dict, dict]:
    """The choice (the chosen candidate's settings) and the figures behind it.

    ``rows``: the sampled rows; ``encode(conf, texts)`` returns the vectors of ``texts``."""
    sample = [texts[i] for i in rows]
    y, f = labels[rows], fold[rows]
    aps: dict[str, list[float]] = {}
    seconds: dict[str, float] = {}
    for conf in candidates:
        started = time.perf_counter()
        vectors = encode(conf, sample)
        seconds[label(conf)] = round(time.perf_counter() - started, 1)
        aps[label(conf)] = themes_ap(vectors, y, f)
    names = [label(c) for c in candidates]
    gains = {c: gain(aps[names[0]], aps[c]) for c in names[1:]}
    chosen, why = decide(gains, min_gain)
    conf = candidates[names.index(chosen)] if chosen else candidates[0]

    def figure(x: float) -> float | None:
        return None if math.isnan(x) else round(x, 4)

    figures = {
        "rows": len(rows),
        "candidates": names,
        "chosen": label(conf),
        "why": why,
        "mean_ap": {c: figure(float(np.nanmean(v))) if not np.all(np.isnan(v)) else None for c, v in aps.items()},
        "gain": gains,
        "themes": {t: {c: figure(aps[c][j]) for c in names} for j, t in enumerate(themes)},
        "encode_seconds": seconds,
    }
    return {"model": conf["model"], "max_tokens": conf["max_tokens"]}, figures
