"""The simple ways a user would otherwise pick thresholds, scored on the same test split.

(a) TF-IDF + logistic regression per theme, threshold 0.5 on the predicted probability.
(b) the same inside scikit-learn's ``TunedThresholdClassifierCV`` (5-fold), choosing the
    threshold for maximum precision subject to recall >= ``min_recall``.
(d) (b) on sentence embeddings (the pipeline's encoder) instead of TF-IDF.
(e) (b)'s model with the pipeline's own threshold rule, recall margin included, and its final
    model (``final.model``: the fold models' average, or a refit): the threshold is chosen on
    its out-of-fold scores over folds made as the pipeline makes them. (b) keeps no margin, so it buys
    its precision with recall that may not hold on new data; (e) asks for the same recall as the
    pipeline, so (c) - (e) is what the pipeline's models and features add.
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

from themetag.features.spaces import make_vectorizer
from themetag.thresholds.scoring import theme_metrics, with_averages


def load_split(data_dir: Path, themes: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A dataset's train.csv and test.csv as a text column plus one 0/1 column per theme."""
    from themetag.data.labels import split_themes

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
    from themetag.features.encoder import Encoder

    encoder = Encoder.from_conf(embeddings)
    E_train, E_test = encoder.encode(train["text"].tolist()), encoder.encode(test["text"].tolist())
    return _tuned_threshold(LogisticRegression(max_iter=2000), E_train, E_test, train, test, themes, min_recall)


def reference_e_scores(
    train: pd.DataFrame, test: pd.DataFrame, themes: list[str], features: dict, folds: dict, final: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(e)'s out-of-fold scores on train and its scores on test, one column per theme.

    The TF-IDF is fitted once per fold (it sees no label), as the pipeline's features stage does.
    Test is scored as ``final.model`` says: ``bag`` averages the fold models (each with its own
    fold's TF-IDF), ``refit`` refits one model on every row.
    """
    from themetag.data.folds import make_folds

    fold = make_folds(train[themes], int(folds["k"]), int(folds["seed"]))
    k_folds = int(fold.max()) + 1
    oof = pd.DataFrame(0.0, index=train.index, columns=themes)
    bagged = pd.DataFrame(0.0, index=test.index, columns=themes)
    for k in range(k_folds):
        fit, held = fold != k, fold == k
        vectorizer = make_vectorizer(features).fit(train["text"][fit])
        X_fit, X_held = vectorizer.transform(train["text"][fit]), vectorizer.transform(train["text"][held])
        X_test = vectorizer.transform(test["text"])
        for theme in themes:
            model = LogisticRegression(max_iter=2000).fit(X_fit, train[theme].to_numpy()[fit])
            oof.loc[held, theme] = model.predict_proba(X_held)[:, 1]
            bagged[theme] += model.predict_proba(X_test)[:, 1] / k_folds
    if final == "bag":
        return oof, bagged
    vectorizer = make_vectorizer(features).fit(train["text"])
    X_train, X_test = vectorizer.transform(train["text"]), vectorizer.transform(test["text"])
    refit = {t: LogisticRegression(max_iter=2000).fit(X_train, train[t].to_numpy()) for t in themes}
    return oof, pd.DataFrame({t: m.predict_proba(X_test)[:, 1] for t, m in refit.items()})


def reference_e(train: pd.DataFrame, test: pd.DataFrame, scores: tuple[pd.DataFrame, pd.DataFrame], rule: dict) -> dict:
    """(e): per theme, the pipeline's threshold rule (``thresholds`` params) on (e)'s out-of-fold scores."""
    from themetag.thresholds.rules import choose

    oof, test_scores = scores
    per_theme = {}
    for theme in oof.columns:
        choice = choose(train[theme].to_numpy(), oof[theme].to_numpy(), rule)
        per_theme[theme] = theme_metrics(test[theme].to_numpy(), test_scores[theme].to_numpy(), choice.threshold)
        per_theme[theme]["threshold"] = float(choice.threshold)
    return with_averages(per_theme)


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
