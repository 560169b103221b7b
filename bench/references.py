"""The simple ways a user would otherwise pick thresholds, scored on the same test split.

(a) TF-IDF + logistic regression per theme, threshold 0.5 on the predicted probability.
(b) the same inside scikit-learn's ``TunedThresholdClassifierCV`` (5-fold), choosing the
    threshold for maximum precision subject to recall >= ``min_recall``.
(d) (b) on sentence embeddings (the pipeline's encoder) instead of TF-IDF.
None of them sees test.csv while choosing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import make_scorer, precision_score, recall_score
from sklearn.model_selection import TunedThresholdClassifierCV
from sklearn.pipeline import make_pipeline

from stages.scoring import theme_metrics, with_averages
from stages.spaces import make_vectorizer


def load_split(data_dir: Path, themes: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A dataset's train.csv and test.csv as a text column plus one 0/1 column per theme."""
    from stages.labels import split_themes

    def table(path: Path) -> pd.DataFrame:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        lists = [split_themes(c) for c in frame["Themes"]]
        return pd.DataFrame({"text": frame["Processed Text"], **{t: [int(t in ts) for ts in lists] for t in themes}})

    return table(data_dir / "train.csv"), table(data_dir / "test.csv")


def precision_at_min_recall(min_recall: float):
    def metric(y_true, y_pred):
        if recall_score(y_true, y_pred, zero_division=0) < min_recall:
            return 0.0
        return precision_score(y_true, y_pred, zero_division=0)

    return make_scorer(metric)


def _pipeline(features: dict):
    return make_pipeline(make_vectorizer(features), LogisticRegression(max_iter=2000))


def reference_a(train: pd.DataFrame, test: pd.DataFrame, themes: list[str], features: dict) -> dict:
    """(a): logistic regression per theme, threshold 0.5 on the probability."""
    per_theme = {}
    for theme in themes:
        model = _pipeline(features).fit(train["text"], train[theme].to_numpy())
        per_theme[theme] = theme_metrics(test[theme].to_numpy(), model.predict_proba(test["text"])[:, 1], 0.5)
    return with_averages(per_theme)


def _tuned_threshold(model, X_train, X_test, train: pd.DataFrame, test: pd.DataFrame, themes, min_recall) -> dict:
    per_theme = {}
    for theme in themes:
        tuned = TunedThresholdClassifierCV(
            model, scoring=precision_at_min_recall(min_recall), cv=5, random_state=0
        ).fit(X_train, train[theme].to_numpy())
        per_theme[theme] = theme_metrics(test[theme].to_numpy(), tuned.predict(X_test).astype(float), 0.5)
        per_theme[theme]["threshold"] = float(tuned.best_threshold_)
    return with_averages(per_theme)


def reference_b(train: pd.DataFrame, test: pd.DataFrame, themes: list[str], features: dict, min_recall: float) -> dict:
    """(b): TunedThresholdClassifierCV (5-fold) for maximum precision at recall >= min_recall."""
    return _tuned_threshold(_pipeline(features), train["text"], test["text"], train, test, themes, min_recall)


def reference_d(
    train: pd.DataFrame, test: pd.DataFrame, themes: list[str], embeddings: dict, min_recall: float
) -> dict:
    """(d): (b) with logistic regression on the sentence embeddings instead of TF-IDF."""
    from stages.encoder import Encoder

    encoder = Encoder.from_conf(embeddings)
    E_train, E_test = encoder.encode(train["text"].tolist()), encoder.encode(test["text"].tolist())
    return _tuned_threshold(LogisticRegression(max_iter=2000), E_train, E_test, train, test, themes, min_recall)


def summarise(result: dict, min_recall: float, early_stop: dict) -> dict:
    """How many themes reach min_recall, and meet the early-stop rule, on test."""
    themes = result["themes"].values()
    return {
        "macro_precision": result["macro"]["precision"],
        "macro_recall": result["macro"]["recall"],
        "themes_reaching_min_recall": int(sum(m["recall"] >= min_recall for m in themes)),
        "themes_meeting_early_stop_rule": int(
            sum(
                m["precision"] >= early_stop["min_precision"] and m["recall"] >= early_stop["min_recall"]
                for m in themes
            )
        ),
        "min_theme_recall": float(np.min([m["recall"] for m in themes])),
        "themes": len(result["themes"]),
    }
