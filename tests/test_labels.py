import pandas as pd

from themetag.data.labels import expand, label_test_set, split_themes

DATA = {"text_column": "Processed Text", "themes_column": "Themes", "separator": ","}
LABELS = {"lowercase": True, "aliases": {"Work Process": "work processes"}, "min_positives": 3, "empty_themes": "drop"}


def test_separator_and_case_variants_agree():
    for cell in ["food,staff", "food, staff", "food , staff", "food, staff,", " Food ,STAFF, food", "food,,staff"]:
        assert split_themes(cell, ", ", True) == ["food", "staff"]


def test_alias_applies_after_normalising():
    aliases = {"work process": "work processes"}
    assert split_themes("Work  Process, pay", ",", True, aliases) == ["work processes", "pay"]


def frame(rows):
    return pd.DataFrame(rows, columns=["Processed Text", "Themes"])


def test_rare_and_universal_themes_are_left_out_with_reasons():
    rows = [(f"text {i}", "common, rare" if i == 0 else "common" + (", mid" if i % 2 else "")) for i in range(12)]
    result = expand(frame(rows), DATA, LABELS, k_folds=5)
    assert list(result.labels.columns) == ["mid"]
    assert "min_positives=3" in result.left_out["rare"]
    assert "every row" in result.left_out["common"]
    assert result.counts == {"common": 12, "mid": 6, "rare": 1}


def test_theme_with_fewer_positives_than_folds_is_left_out():
    rows = [(f"t{i}", "a" if i < 4 else "b") for i in range(20)]
    result = expand(frame(rows), DATA, {**LABELS, "min_positives": 1}, k_folds=5)
    assert "folds.k=5" in result.left_out["a"]


def test_blank_rows_are_dropped_and_reported():
    rows = [("", "a"), ("  ", "a"), ("ok", ""), ("ok too", "a"), ("x", "a, b"), ("y", "a"), ("z", "b"), ("w", "b")]
    result = expand(frame(rows), DATA, {**LABELS, "min_positives": 1}, k_folds=2)
    assert [d["row"] for d in result.dropped_rows] == ["line 2", "line 3", "line 4"]
    assert [d["reason"] for d in result.dropped_rows] == ["empty text", "empty text", "no themes"]
    assert len(result.texts) == 5


def test_empty_themes_as_negative_keeps_the_row():
    rows = [("ok", ""), ("a1", "a"), ("a2", "a"), ("b1", "b")]
    result = expand(frame(rows), DATA, {**LABELS, "min_positives": 1, "empty_themes": "negative"}, k_folds=1)
    assert result.texts[0] == "ok" and result.labels.iloc[0].sum() == 0


def test_conflicting_duplicates_are_kept_and_noted():
    rows = [("same", "a"), ("same", "b"), ("x", "a"), ("y", "b")]
    result = expand(frame(rows), DATA, {**LABELS, "min_positives": 1}, k_folds=2)
    assert len(result.texts) == 4 and "1 texts appear more than once" in result.notes[0]


def test_test_set_themes_not_trained_are_reported():
    table, report = label_test_set(frame([("a", "food, unicorns"), ("b", "food")]), DATA, LABELS, ["food"])
    assert table["food"].tolist() == [1, 1]
    assert report["themes_not_trained"] == {"unicorns": 1}


def test_themes_joined_by_another_delimiter_stop_with_the_key_to_set():
    import pytest

    from themetag.errors import InputError

    themes = ["food;staff", "food;price", "staff;price;food", "food", "staff", "ambience;food", "price;staff"]
    rows = [(f"t{i}", themes[i % len(themes)]) for i in range(40)]
    with pytest.raises(InputError) as err:
        expand(frame(rows), {**DATA, "train": "data/train.csv"}, LABELS, k_folds=2)
    message = str(err.value)
    assert "\n" not in message and message.startswith("data/train.csv: column 'Themes'")
    assert "';'" in message and 'separator: ";"' in message and "conf/config.yaml" in message
    # names that merely contain a slash are not combinations of fewer pieces: accepted
    named = ["food/drink", "staff/service", "price/value", "place"]
    result = expand(frame([(f"t{i}", named[i % 4]) for i in range(40)]), DATA, LABELS, k_folds=2)
    assert "food/drink" in result.labels.columns


def test_left_out_log_names_a_few_and_counts_the_rest():
    from stages.expand_labels import capped

    assert capped(["a", "b"]) == "a, b"
    assert capped([f"t{i}" for i in range(40)]) == "t0, t1, t2, t3, t4 and 35 more"
