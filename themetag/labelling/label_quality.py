"""Label quality from out-of-fold scores: which training labels most likely disagree with the text.

The score is the **self-confidence** of confident learning (Northcutt, Jiang and Chuang 2021;
Kuan and Mueller 2022, "Model-agnostic label quality scoring"): the predicted probability of
the label a row was given. For one binary theme it ranks rows exactly as the normalised margin
does (p_given - p_other = 2 p_given - 1). A row labelled positive that the model scores low, or
labelled negative that it scores high, gets a low quality and comes first in the review list.

The selected candidates' scores are margins, log-likelihood ratios or probabilities, so they
are first put on one probability scale per theme by Platt scaling (a one-feature logistic
regression of the label on the score), cross-fitted: each fold's rows get probabilities from
a sigmoid fitted on the other folds' out-of-fold scores, so no row's own label sets its score.
The sigmoid is monotone, so it never reorders rows of the same label; it only sets how a
low-scored positive compares with a high-scored negative.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression


def platt_cross_fitted(y: np.ndarray, s: np.ndarray, fold: np.ndarray) -> np.ndarray:
    """P(label 1 | score) for every row, from sigmoids fitted on the other folds' rows."""
    p = np.empty(len(y), dtype=float)
    for k in np.unique(fold):
        fit, apply = fold != k, fold == k
        mu, sd = float(s[fit].mean()), float(s[fit].std()) or 1.0
        model = LogisticRegression(C=1e4).fit(((s[fit] - mu) / sd).reshape(-1, 1), y[fit])
        p[apply] = model.predict_proba(((s[apply] - mu) / sd).reshape(-1, 1))[:, 1]
    return p


def self_confidence(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Predicted probability of the given label: low means the label is likely wrong."""
    return np.where(np.asarray(y) == 1, p, 1.0 - p)


def ranked(y: np.ndarray, s: np.ndarray, fold: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row order, worst label first; probability of label 1; label quality) of one theme.

    Ties keep the file's order, so the list is the same on every run.
    """
    p = platt_cross_fitted(y, s, fold)
    quality = self_confidence(y, p)
    return np.argsort(quality, kind="stable"), p, quality
