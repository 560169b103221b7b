"""Rows the model picked for labelling train the models but never set a threshold or an estimate:
the ledger data/picked.csv, the thresholds stage's sample rows, and the report's note."""

import json

import numpy as np
import pandas as pd
import pytest

from stages import expand_labels, report, thresholds
from themetag.errors import InputError
from themetag.labelling import append_batch
from themetag.labelling.picked_rows import origins, read_picked, record_picked
from themetag.pipeline.artifacts import load_folds
from themetag.reporting.estimate_rows import estimate_rows_section
from themetag.thresholds.rules import choose


@pytest.fixture
def project(trained_copy):
    return trained_copy


def test_the_ledger_appends_and_reads_back_by_normalised_text(tmp_path):
    path = tmp_path / "picked.csv"
    assert read_picked(path) == {} and record_picked(path, ["a"], [""]) == 0 and not path.exists()
    assert record_picked(path, ["Good food", "Rude staff", "x"], ["model", "random", ""]) == 2
    assert record_picked(path, ["late bill"], ["model"]) == 1
    assert path.read_text().count("text,picked") == 1
    assert origins(["  GOOD   food ", "rude staff", "late bill", "other"], read_picked(path)) == [
        "model",
        "random",
        "model",
        "",
    ]


def test_a_wrong_origin_in_the_ledger_is_one_line_naming_the_line_and_the_fix(tmp_path):
    path = tmp_path / "picked.csv"
    path.write_text("text,picked\na,model\nb,chosen\n")
    with pytest.raises(InputError) as err:
        read_picked(path)
    msg = str(err.value)
    assert str(path) in msg and "line 3" in msg and "'chosen'" in msg and "delete the line" in msg
    assert "\n" not in msg


def picked_first(project, n: int) -> pd.DataFrame:
    """Mark the first ``n`` training rows as model-picked in data/picked.csv, as append-batch would."""
    train = pd.read_csv(project / "data/train.csv", dtype=str, keep_default_na=False)
    record_picked(project / "data/picked.csv", train["Processed Text"].iloc[:n].tolist(), ["model"] * n)
    return train


def test_thresholds_and_estimates_rest_on_the_rows_that_are_a_sample(project):
    before = json.loads((project / "artifacts/thresholds.json").read_text())["themes"]
    assert all(not c["estimate_rows"]["model_picked_rows"] for c in before.values())
    picked_first(project, 200)
    expand_labels.main()
    assert pd.read_csv(project / "artifacts/row_origin.csv")["model_picked"].tolist() == [1] * 200 + [0] * 400
    thresholds.main()
    chosen = json.loads((project / "artifacts/thresholds.json").read_text())["themes"]
    labels = pd.read_csv(project / "artifacts/labels.csv", keep_default_na=False)
    oof = pd.read_csv(project / "artifacts/selected_oof.csv")
    fold, themes = load_folds()
    sample = np.arange(len(labels)) >= 200
    rule = json.loads((project / "artifacts/thresholds.json").read_text())["rule"]
    for t in themes:
        rows = chosen[t]["estimate_rows"]
        y, s = labels[t].to_numpy(dtype=int), oof[t].to_numpy(dtype=float)
        assert rows["model_picked_rows"] == 200
        assert chosen[t]["support"] == y.sum()  # every labelled positive still counts as support
        if not rows["rests_on_model_picked"]:
            assert rows["rows"] == sample.sum() and rows["positives"] == y[sample].sum() >= 10
            assert chosen[t]["threshold"] == pytest.approx(choose(y[sample], s[sample], rule).threshold)
            assert chosen[t]["nested"]["tp"] + chosen[t]["nested"]["fn"] == y[sample].sum()
        else:
            assert y[sample].sum() < 10 and rows["rows"] == len(labels)


def test_a_theme_with_too_few_sampled_positives_uses_every_row_and_the_report_says_so(project):
    train = picked_first(project, 560)  # 40 sampled rows are left: too few positives for most themes
    expand_labels.main()
    thresholds.main()
    chosen = json.loads((project / "artifacts/thresholds.json").read_text())["themes"]
    resting = [t for t, c in chosen.items() if c["estimate_rows"]["rests_on_model_picked"]]
    assert resting and all(chosen[t]["estimate_rows"]["rows"] == len(train) for t in resting)
    report.main()
    page = (project / "metrics/report.md").read_text()
    assert "## What the thresholds rest on" in page and "560 training rows were picked by the model" in page
    assert all(f"- **{t}**: all {len(train)} rows" in page for t in resting)


def test_the_report_says_nothing_while_no_row_was_model_picked():
    record = {"rows": 10, "positives": 3, "model_picked_rows": 0, "rests_on_model_picked": False}
    assert estimate_rows_section({"a": {"estimate_rows": record}}) == []
    assert estimate_rows_section({"a": {}}) == []  # a thresholds.json from before the ledger


def test_a_label_studio_export_keeps_how_each_row_was_picked(project):
    export = [
        {
            "data": {"text": f"a new text number {i}", "picked_by": how},
            "annotations": [{"result": [{"type": "choices", "from_name": "themes", "value": {"choices": ["food"]}}]}],
        }
        for i, how in enumerate(["model", "random", "model"])
    ]
    (project / "export.json").write_text(json.dumps(export))
    append_batch.main(["export.json"])
    ledger = pd.read_csv(project / "data/picked.csv")
    assert ledger["picked"].tolist() == ["model", "random", "model"]
