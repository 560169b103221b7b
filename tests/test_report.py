"""Why a theme is weak: error examples, confusions, score pictures' data and the report page,
on rows made up here (the real `dvc plots show` run is in test_dvc_pipeline.py)."""

import math

import numpy as np
import pandas as pd
import pytest

from themetag.data.label_fixes import text_fingerprint
from themetag.reporting.check_first import check_first
from themetag.reporting.error_examples import NO_THEME, confusions, error_examples, errors_markdown
from themetag.reporting.report_page import changed_choices, moved, report_markdown
from themetag.reporting.score_plots import score_histogram, threshold_sweep

THEMES = ["food", "price", "staff"]


@pytest.fixture
def rows():
    labels = pd.DataFrame(
        {
            "text": ["cheap eats", "great pasta", "rude waiter", "nice view", "pricey wine", "tasty and cheap"],
            "food": [1, 1, 0, 0, 0, 1],
            "price": [1, 0, 0, 0, 1, 1],
            "staff": [0, 0, 1, 0, 0, 0],
        }
    )
    scores = pd.DataFrame(
        {
            "food": [0.9, 0.2, 0.7, 0.6, 0.8, 0.1],  # FPs: rude waiter 0.7, nice view 0.6, pricey wine 0.8
            "price": [0.1, 0.9, 0.2, 0.3, 0.95, 0.8],  # FP: great pasta 0.9; FN: cheap eats 0.1
            "staff": [0.1, 0.1, np.nan, 0.1, 0.1, 0.1],  # the staff row has no score: missed
        }
    )
    return labels, scores, {"food": 0.5, "price": 0.5, "staff": 0.5}


def test_false_positives_highest_first_false_negatives_lowest_first_capped(rows):
    labels, scores, thresholds = rows
    ex = error_examples(labels, scores, thresholds, THEMES, cap=2, source="out of fold")
    food_fp = ex[(ex.theme == "food") & (ex.error == "false positive")]
    assert food_fp.text.tolist() == ["pricey wine", "rude waiter"]  # 0.8, 0.7; capped at 2 of 3
    assert food_fp["labelled themes"].tolist() == ["price", "staff"]
    food_fn = ex[(ex.theme == "food") & (ex.error == "false negative")]
    assert food_fn.text.tolist() == ["tasty and cheap", "great pasta"]  # 0.1 before 0.2
    staff_fn = ex[(ex.theme == "staff") & (ex.error == "false negative")]
    assert staff_fn.text.tolist() == ["rude waiter"] and math.isinf(staff_fn.score.iloc[0])
    assert (ex.threshold == 0.5).all() and set(ex.source) == {"out of fold"}


def test_a_false_positive_the_label_review_lists_is_marked(rows):
    labels, scores, thresholds = rows
    reviewed = {(text_fingerprint("Pricey  WINE"), "food")}  # matched after normalising, per theme
    ex = error_examples(labels, scores, thresholds, THEMES, cap=10, source="test", reviewed=reviewed)
    marked = ex[ex["in label review"]]
    assert list(zip(marked.theme, marked.text, strict=True)) == [("food", "pricey wine")]


def test_confusions_count_false_positives_by_the_themes_their_rows_have(rows):
    labels, scores, thresholds = rows
    table = confusions(labels, scores, thresholds, THEMES)
    got = {(r.tagged, r.labelled): (r.rows, round(r.share, 3)) for r in table.itertuples()}
    # food's 3 false positives: on a price row, a staff row and a row with no theme
    assert got[("food", "price")] == (1, 0.333) and got[("food", "staff")] == (1, 0.333)
    assert got[("food", NO_THEME)] == (1, 0.333)
    assert got[("price", "food")] == (1, 1.0)  # great pasta
    chance = {(r.tagged, r.labelled): r.vs_chance for r in table.itertuples()}
    assert chance[("food", "staff")] == pytest.approx(1.0)  # 1 of 3 wrong tags; staff is 1 of food's 3 negatives
    assert chance[("price", "food")] == pytest.approx(3.0)  # all its wrong tags; food is 1 of price's 3 negatives
    assert not any(a == "staff" for a, _ in got)  # staff has no false positive
    md = errors_markdown(
        error_examples(labels, scores, thresholds, THEMES, 10, "out of fold"),
        {"out of fold": table},
        THEMES,
        show=1,
        csv_cap=10,
        top=5,
    )
    assert "## Most frequent confusions (out of fold)" in md and "| food" in md and "## staff" in md
    assert md.count("rude waiter") == 1  # show=1: food's second false positive is in the CSV only


def test_score_histogram_shares_each_class_and_marks_the_threshold():
    y = np.array([1, 1, 1, 0, 0, 0, 0, 0])
    s = np.array([0.9, 0.8, 0.4, 0.1, 0.2, 0.3, 0.5, np.nan])
    hist = score_histogram("food", y, s, 0.45, bins=4)
    for name in ("positive", "negative"):
        part = [h for h in hist if h["class"] == name]
        assert len(part) == 4 and sum(h["share"] for h in part) == pytest.approx(1.0)
    assert sum(h["rows"] for h in hist) == 7 and {h["threshold"] for h in hist} == {0.45}
    assert {h["threshold"] for h in score_histogram("food", y, s, math.inf, 4)} == {None}  # never tagged
    sweep = threshold_sweep("food", y, s, 0.45, points=3)
    assert len(sweep) == 3 and all(r["chosen"] == 0.45 and r["theme"] == "food" for r in sweep)


def test_check_first_is_one_line_per_reason_naming_every_theme():
    themes = [f"t{i}" for i in range(20)]
    chosen = {
        t: {"threshold": 0.5, "met_target": i % 4 != 0, "rule": "fallback_best_f1", "below_min_precision": i < 6}
        for i, t in enumerate(themes)
    }
    metrics = {
        "cv_nested": {"themes": {t: {"precision": 0.4} for t in themes}},
        "recall_audit": {
            "themes": {
                t: {"flagged": i % 5 == 0, "test_recall": 0.3, "nested_recall": 0.6} for i, t in enumerate(themes)
            }
        },
    }
    lines = check_first(metrics, chosen, 0.5)
    assert len(lines) == 3
    below, short, missed = lines
    assert all(f"t{i} 0.400" in below for i in range(6)) and "t6 " not in below
    assert all(f"t{i} 0.300 vs 0.600" in short for i in (0, 5, 10, 15))
    assert all(f"t{i} (fallback_best_f1)" in missed for i in (0, 4, 8, 12, 16))


def split(precision: float, tagged: int, model: str = "logreg", space: str = "tfidf") -> dict:
    tp = round(precision * tagged)
    return {"precision": precision, "tp": tp, "fp": tagged - tp, "model": model, "space": space}


def test_moves_beyond_two_sd_and_changed_choices_are_reported_and_small_moves_are_not():
    before = {
        "test": {"themes": {"a": split(0.90, 400), "b": split(0.80, 50)}},
        "cv_nested": {"themes": {"a": split(0.90, 400), "b": split(0.80, 50)}},
        "cv": {"themes": {"a": split(0.9, 400), "b": split(0.8, 50)}},
    }
    after = {
        "test": {"themes": {"a": split(0.80, 400), "b": split(0.85, 50)}},  # a: -0.10 > 2 sd (0.05); b: within
        "cv_nested": {"themes": {"a": split(0.90, 400), "b": split(0.80, 50)}},
        "cv": {"themes": {"a": split(0.9, 400), "b": split(0.8, 50, "linsvm", "embeddings")}},
    }
    lines = moved(before, after)
    assert len(lines) == 1 and lines[0].startswith("a: test precision down 0.900 → 0.800")
    assert changed_choices(before, after) == ["b: logreg on tfidf → linsvm on embeddings"]
    page = report_markdown([], "| theme |\n", [], lines + changed_choices(before, after))
    assert "- a: test precision down" in page and "- b: logreg on tfidf" in page
    assert "No committed metrics/metrics.json" in report_markdown([], "| theme |\n", [], None)


def test_the_model_card_describes_the_bundle_without_the_repo(trained):
    import json

    card = (trained / "models/bundle.md").read_text()
    manifest = json.loads((trained / "models/bundle.json").read_text())
    metrics = json.loads((trained / "metrics/metrics.json").read_text())
    rows = len(pd.read_csv(trained / "artifacts/labels.csv"))
    for t in manifest["themes"]:
        line = next(line for line in card.splitlines() if line.startswith(f"| {t} "))
        assert manifest["families"][t] in line and manifest["spaces"][t] in line
        assert f"{metrics['test']['themes'][t]['precision']:.3f}" in line
        assert f"{metrics['cv_nested']['themes'][t]['recall']:.3f}" in line
    assert manifest["sha256"] in card and f"training rows: {rows} " in card
    assert "## Known limits" in card and "Intended use" in card
    assert f"scikit-learn {manifest['sklearn_version']}" in card and "all-MiniLM-L6-v2" in card
