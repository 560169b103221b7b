"""What to label next: a diverse batch of unlabelled rows near each needy theme's own threshold,
beside a random share (``next_batch.random_rows``: the rows the thresholds can rest on) and a
search for the positives of themes too rare to train yet.

Three steps, each linear in the pool's rows:

1. **Which themes need labels, and how many rows each gets.** A theme needs labels when it
   misses the early-stop rule (``tuning.early_stop``) on its nested estimate, is flagged below
   ``thresholds.min_precision`` or by the recall audit, or has fewer than
   ``suggest.few_positives`` positives. Its share of the batch is proportional to how many of
   these reasons hold; themes that meet the early-stop rule (the project's own "good enough")
   get none while any theme needs labels.
2. **Rows near each theme's threshold.** Every eligible pool row is scored by the bundle once.
   A row's distance to a theme is ``|score - threshold|`` in units of the spread (standard
   deviation) of that theme's out-of-fold scores, so themes whose scores are margins, log-odds
   or probabilities compare alike. These are the rows the threshold is least sure of: above it,
   labelling finds its false positives (precision); below it, the positives it misses. A
   precision-first threshold sits where most rows above it are positives, so these rows also
   find positives of rare themes far more often than a random row does. Rows whose distance is
   in a theme's ``prefilter x quota`` smallest are kept, per theme, in bounded memory.
   A theme left out for too few positives (``labels.min_positives``) has no model and no
   threshold; its distance is 1 - the cosine similarity to the nearest of its labelled
   positives, and its rows are the nearest ones (no k-means spread): a search for more of them,
   as AnchorAL (2024) searches a rare class's neighbourhood.
3. **A diverse batch.** Per theme, the kept rows are clustered into ``quota`` groups (k-means on
   the encoder's vectors, or on TF-IDF when the bundle has no encoder) and each group gives the
   row nearest the threshold; a row closer than ``suggest.near_duplicate`` (cosine) to one
   already in the batch is passed over for the next in its group. This is the
   "informativeness prefilter, then k-means for diversity" of Zhdanov (2019), "Diverse
   mini-batch active learning", with the theme's threshold as the point of uncertainty.

Texts already in the training CSV (after normalising) and repeats within the pool are never
suggested, so a batch that was labelled and appended is not suggested again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.cluster import KMeans
from sklearn.preprocessing import normalize

from themetag.data.label_fixes import text_fingerprint
from themetag.tagging.bundle import ThemeTagger


@dataclass
class ThemeNeed:
    theme: str
    reasons: list[str]
    threshold: float
    scale: float  # spread of the theme's out-of-fold scores: distances are in these units
    quota: int = 0
    held: str = ""  # why the theme gets no quota though it misses the rule (its learning curve is flat)
    # a theme with too few positives to train has no threshold: its rows are those most like the
    # positives it has (unit vectors, one row each), a search for more of them
    positives: np.ndarray | sp.csr_matrix | None = None


def untrained_needs(left_out: dict[str, int], min_positives: int, few_positives: int) -> list[ThemeNeed]:
    """A need per theme left out for too few positives (but with at least one): the batch
    searches the pool for rows like its positives, so that it can be trained. The vectors are set
    by the caller (``search_vectors``)."""
    return [
        ThemeNeed(
            theme,
            [
                f"not trained: {n} positives < labels.min_positives {min_positives}; rows most like them",
                f"few positives ({n} < suggest.few_positives {few_positives})",
            ],
            float("nan"),
            1.0,
        )
        for theme, n in left_out.items()
        if 0 < n < min_positives
    ]


def theme_needs(
    chosen: dict, metrics: dict, oof: pd.DataFrame, early_stop: dict, min_precision: float, few_positives: int
) -> list[ThemeNeed]:
    """Each theme's reasons to need labels, from the thresholds stage and the evaluation."""
    audit = metrics.get("recall_audit", {}).get("themes", {})
    out = []
    for theme, c in chosen.items():
        nested = c["nested"]
        reasons = []
        if nested["precision"] < early_stop["min_precision"] or nested["recall"] < early_stop["min_recall"]:
            reasons.append(
                f"misses the early-stop rule (nested P {nested['precision']:.3f}, R {nested['recall']:.3f}; "
                f"rule P >= {early_stop['min_precision']}, R >= {early_stop['min_recall']})"
            )
        if c.get("below_min_precision"):
            reasons.append(f"nested precision below thresholds.min_precision {min_precision}")
        if audit.get(theme, {}).get("flagged"):
            reasons.append("test recall short of its nested estimate (recall audit)")
        if c["support"] < few_positives:
            reasons.append(f"few positives ({c['support']} < suggest.few_positives {few_positives})")
        threshold = float(c["threshold"])
        if not np.isfinite(threshold):  # never tagged (fallback never): the folds' own choices
            threshold = float(np.median(nested["fold_thresholds"]))
        scores = oof[theme].to_numpy(dtype=float)
        scale = float(np.nanstd(scores)) or 1.0
        out.append(ThemeNeed(theme, reasons, threshold, scale))
    return out


def follow_forecast(needs: list[ThemeNeed], curves: dict | None) -> None:
    """Let the learning curves (``metrics/learning_curve.json``) steer the quota: a *rising*
    theme gets one more reason (labels are forecast to lift it); a *flat* theme's reasons are
    held back, so it gets no quota of its own: more of the same labels are not forecast to lift
    it, and its confusions and label review come first."""
    if not curves:
        return
    for n in needs:
        c = curves.get("themes", {}).get(n.theme)
        if not c or not n.reasons:
            continue
        if c["verdict"] == "rising":
            h = str(float(max(curves["settings"]["horizons"])))
            f = c["forecast"][h]
            n.reasons.append(
                f"rising: AP {c['now']['average_precision']:.3f} forecast {f['average_precision']:.3f} "
                f"[{f['low']:.3f}, {f['high']:.3f}] at {float(h):g}x its positives"
            )
        elif c["verdict"] == "flat":
            n.held = (
                f"flat: even the fitted ceiling's upper bound ({c['fit']['ceiling'][2]:.3f} AP) stays below the "
                f"rule's {c['target_average_precision']:.3f}, and more labels are not forecast to lift it; "
                "review its labels and confusions first"
            )
            n.reasons = []


def allot(needs: list[ThemeNeed], batch_rows: int) -> None:
    """Set each theme's quota: proportional to its number of reasons (largest remainder).

    When no theme has a reason, every theme gets an equal share."""
    weights = np.array([len(n.reasons) for n in needs], dtype=float)
    if not weights.sum():
        weights[:] = 1.0
    exact = batch_rows * weights / weights.sum()
    quota = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - quota), kind="stable")[: batch_rows - quota.sum()]:
        quota[i] += 1
    for n, q in zip(needs, quota, strict=True):
        n.quota = int(q)


@dataclass
class PoolScan:
    """What the passes over the pool found: rows read, rows left out and why, rows scored, and
    per theme the kept rows nearest its threshold (pool row index, distance)."""

    rows: int = 0
    excluded: dict[str, int] = field(default_factory=lambda: {"empty text": 0, "in train.csv": 0, "repeat in pool": 0})
    scored: int = 0
    near: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    above: dict[str, int] = field(default_factory=dict)  # scored rows at or above each threshold


def eligible_rows(chunks: Iterator[list[str]], train: set[str], scan: PoolScan) -> np.ndarray:
    """Pool row indices that may be suggested: text not empty, not in the training CSV, not a
    repeat of an earlier pool row (all after normalising). Counts the rest in ``scan``."""
    seen: set[str] = set()
    out = []
    for texts in chunks:
        for i, text in enumerate(texts, start=scan.rows):
            if not text.strip():
                scan.excluded["empty text"] += 1
                continue
            fp = text_fingerprint(text)
            if fp in train:
                scan.excluded["in train.csv"] += 1
            elif fp in seen:
                scan.excluded["repeat in pool"] += 1
            else:
                seen.add(fp)
                out.append(i)
        scan.rows += len(texts)
    return np.asarray(out, dtype=np.int64)


def scan_pool(
    tagger: ThemeTagger,
    chunks: Iterator[tuple[np.ndarray, list[str]]],
    needs: list[ThemeNeed],
    prefilter: int,
    scan: PoolScan,
) -> None:
    """Score each (row indices, texts) chunk once; keep per theme its ``prefilter x quota`` nearest rows."""
    keep = {n.theme: max(1, prefilter * n.quota) for n in needs if n.quota}
    near = {t: (np.empty(0, dtype=np.int64), np.empty(0)) for t in keep}
    above = {n.theme: 0 for n in needs if n.theme in keep and n.positives is None}
    for idx, texts in chunks:
        scan.scored += len(texts)
        cache: dict = {}
        scores = tagger.scores(texts, cache)
        unit = None  # the chunk's unit vectors, once, if a search needs them
        for n in needs:
            if n.theme not in keep:
                continue
            if n.positives is None:
                s = scores[n.theme].to_numpy(dtype=float)
                above[n.theme] += int((s >= n.threshold).sum())
                d = np.abs(s - n.threshold) / n.scale
            else:  # 1 - cosine similarity to the nearest of the theme's positives
                unit = normalize(cache[diversity_key(cache)]) if unit is None else unit
                d = 1.0 - _max_similarity(unit, n.positives)
            rows, dist = near[n.theme]
            rows, dist = np.concatenate([rows, idx]), np.concatenate([dist, d])
            if len(dist) > keep[n.theme]:
                best = np.argsort(dist, kind="stable")[: keep[n.theme]]
                rows, dist = rows[best], dist[best]
            near[n.theme] = (rows, dist)
    scan.near, scan.above = near, above


def diversity_key(cache: dict) -> str:
    """The vectors rows are compared by: the encoder's when the bundle has one, else TF-IDF."""
    encoders = [k for k in cache if k.startswith("embeddings:")]
    return encoders[0] if encoders else next(k for k in cache if k.startswith("tfidf:"))


def vectors_for_diversity(tagger: ThemeTagger, texts: list[str]) -> tuple[pd.DataFrame, np.ndarray | sp.csr_matrix]:
    """The bundle's scores of ``texts`` and unit-length vectors to compare them by (computed
    once, in the same pass as the scores)."""
    cache: dict = {}
    scores = tagger.scores(texts, cache)
    return scores, normalize(cache[diversity_key(cache)])


def search_vectors(tagger: ThemeTagger, needs: list[ThemeNeed], positives: dict[str, list[str]]) -> None:
    """Set each untrained theme's ``positives``: its labelled texts in the batch's vector space."""
    for n in needs:
        if n.theme in positives:
            n.positives = vectors_for_diversity(tagger, positives[n.theme])[1]


def pick_diverse(
    needs: list[ThemeNeed],
    scan: PoolScan,
    vectors: np.ndarray | sp.csr_matrix,
    position: dict[int, int],
    near_duplicate: float,
    seed: int,
) -> list[tuple[int, str]]:
    """(pool row, theme it was picked for), neediest theme first: per theme, k-means on its kept
    rows into ``quota`` groups, and from each group the row nearest the threshold that is not a
    near-duplicate of a row already picked; groups left empty that way are filled from the
    theme's other kept rows, nearest first."""
    picked: list[tuple[int, str]] = []
    taken_rows: set[int] = set()
    taken: list[int] = []  # positions in ``vectors`` of the picked rows

    def take(row: int, p: int, theme: str) -> bool:
        if row in taken_rows or (taken and _max_cosine(vectors, p, taken) >= near_duplicate):
            return False
        picked.append((row, theme))
        taken_rows.add(row)
        taken.append(p)
        return True

    for n in sorted(needs, key=lambda n: (-len(n.reasons), n.theme)):
        if not n.quota or n.theme not in scan.near:
            continue
        rows, dist = scan.near[n.theme]
        free = np.array([r not in taken_rows for r in rows], dtype=bool)
        rows, dist = rows[free], dist[free]
        if not len(rows):
            continue
        pos = np.array([position[r] for r in rows])
        # a search for an untrained theme's positives wants the rows most like them, not a spread
        groups = min(n.quota, len(rows)) if n.positives is None else 1
        if groups > 1:
            label = KMeans(groups, n_init=1, random_state=seed).fit_predict(vectors[pos])
        else:
            label = np.zeros(len(rows), dtype=int)
        got = 0
        for g in range(groups):
            members = np.flatnonzero(label == g)
            got += any(
                take(int(rows[i]), int(pos[i]), n.theme) for i in members[np.argsort(dist[members], kind="stable")]
            )
        for i in np.argsort(dist, kind="stable"):
            if got >= n.quota:
                break
            got += take(int(rows[i]), int(pos[i]), n.theme)
    return picked


def _max_similarity(rows, positives) -> np.ndarray:
    sims = rows @ positives.T
    return np.asarray(sims.max(axis=1).toarray() if sp.issparse(sims) else sims.max(axis=1)).ravel()


def _max_cosine(vectors, i: int, others: list[int]) -> float:
    sims = vectors[others] @ vectors[i].T
    return float(sims.max() if not sp.issparse(sims) else sims.toarray().max())
