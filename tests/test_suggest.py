"""What to label next: a batch near each needy theme's threshold, diverse, never a text already
labelled; its Label Studio export; and appending a labelled batch to the training CSV."""

import argparse
import json
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
import yaml

from harness.dvc_repo import ROOT
from stages import suggest
from themetag.data.label_fixes import text_fingerprint
from themetag.data.label_studio import labelled_rows
from themetag.errors import InputError
from themetag.labelling import append_batch
from themetag.labelling.label_next import ThemeNeed, allot
from themetag.labelling.next_batch import random_rows
from themetag.tagging.bundle import load_bundle

BATCH = 30


@pytest.fixture
def project(trained, tmp_path, monkeypatch):
    """A copy of the trained slice with a pool: unseen sample rows, some training texts again
    (one re-cased and re-spaced), a repeat within the pool, and an empty text."""
    path = tmp_path / "p"
    shutil.copytree(trained, path, ignore=shutil.ignore_patterns(".optuna"))
    sample = pd.read_csv(ROOT / "data/train.csv", dtype=str, keep_default_na=False)
    train = pd.read_csv(path / "data/train.csv", dtype=str, keep_default_na=False)
    unseen = sample.iloc[len(train) : len(train) + 600]["Processed Text"].tolist()
    again = train["Processed Text"].iloc[:20].tolist()
    again[0] = "  " + again[0].upper().replace(" ", "   ") + " "
    pool = pd.DataFrame({"Processed Text": [*unseen, *again, unseen[3], ""], "source": "survey"})
    pool.to_csv(path / "data/unlabeled.csv", index=False)
    params = yaml.safe_load((path / "params.yaml").read_text())
    params["suggest"]["batch_rows"] = BATCH
    (path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    monkeypatch.chdir(path)
    return path


def test_batch_is_near_thresholds_diverse_and_new(project):
    suggest.main()
    batch = pd.read_csv(project / "metrics/label_next.csv", dtype=str, keep_default_na=False)
    train = pd.read_csv(project / "data/train.csv", dtype=str, keep_default_na=False)
    assert len(batch) == BATCH
    assert list(batch.columns[:2]) == ["Processed Text", "Themes"] and "source" in batch.columns
    fps = [text_fingerprint(t) for t in batch["Processed Text"]]
    assert len(set(fps)) == BATCH  # no repeats
    assert not set(fps) & {text_fingerprint(t) for t in train["Processed Text"]}  # nothing already labelled
    assert all(t.strip() for t in batch["Processed Text"])
    # the line points at the row in the pool; Themes holds the bundle's tags
    pool = pd.read_csv(project / "data/unlabeled.csv", dtype=str, keep_default_na=False)
    lines = batch["unlabeled line"].astype(int)
    assert (pool["Processed Text"].iloc[lines - 2].to_numpy() == batch["Processed Text"].to_numpy()).all()
    tagger = load_bundle(project / "models/bundle.joblib")
    assert batch["Themes"].tolist() == [", ".join(t) for t in tagger.predict(batch["Processed Text"].tolist())]
    # each row is nearer its theme's threshold than most pool rows are
    scores = tagger.scores(pool["Processed Text"].tolist())
    oof = pd.read_csv(project / "artifacts/selected_oof.csv")
    model = batch[batch["picked by"] == "model"]
    assert len(model) == BATCH - round(0.2 * BATCH)  # suggest.random_share's default
    for theme, rows in model.groupby("picked for"):
        scale = oof[theme].std(ddof=0)
        everyone = (scores[theme] - tagger.thresholds[theme]).abs().dropna() / scale
        picked = (tagger.scores(rows["Processed Text"].tolist())[theme] - tagger.thresholds[theme]).abs() / scale
        assert picked.median() < everyone.quantile(0.2), theme
        assert all(theme in s.split(", ") for s in rows["suggested for"])
    # no two rows are near-duplicates
    cache = {}
    tagger.scores(batch["Processed Text"].tolist(), cache)
    vec = next(v for k, v in cache.items() if k.startswith("embeddings:"))
    sims = vec @ vec.T
    assert (sims[~np.eye(BATCH, dtype=bool)] < 0.95).all()
    summary = (project / "metrics/label_next.md").read_text()
    assert "20 in train.csv" in summary and "1 repeat in pool" in summary and "1 empty text" in summary


def test_a_random_share_is_drawn_from_the_pool_and_marked(project):
    suggest.main()
    batch = pd.read_csv(project / "metrics/label_next.csv", dtype=str, keep_default_na=False)
    drawn = batch[batch["picked by"] == "random"]
    assert len(drawn) == 6 and (drawn["picked for"] == "").all()
    assert set(batch["picked by"]) == {"model", "random"}
    eligible = 600  # the pool's unseen rows (622 read, less 20 in train.csv, 1 repeat, 1 empty)
    assert f"6/{eligible} chance" in (project / "metrics/label_next.md").read_text()
    tasks = json.loads((project / "metrics/label_next.json").read_text())
    assert [t["data"]["picked_by"] for t in tasks] == batch["picked by"].tolist()
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["suggest"]["random_share"] = 0
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    suggest.main()
    again = pd.read_csv(project / "metrics/label_next.csv", dtype=str, keep_default_na=False)
    assert len(again) == BATCH and (again["picked by"] == "model").all()


PARKING = [
    "no parking anywhere near the restaurant",
    "we circled for ages to find a parking spot",
    "the parking lot was full so we parked two blocks away",
    "valet parking took forever",
    "parking on the street is impossible at night",
]
MORE_PARKING = [
    "there is a big free parking lot behind the building",
    "finding a parking space was a nightmare",
    "the garage next door has cheap parking",
    "parking was easy and close to the entrance",
    "they validate parking at the garage across the street",
    "parking meters outside take cards",
]


def test_a_theme_with_too_few_positives_to_train_gets_rows_like_its_positives(project):
    train = pd.read_csv(project / "data/train.csv", dtype=str, keep_default_na=False)
    extra = pd.DataFrame({"Processed Text": PARKING, "Themes": "Parking"})
    pd.concat([train, extra]).to_csv(project / "data/train.csv", index=False)
    themes = json.loads((project / "metrics/themes.json").read_text())
    themes["counts"]["parking"] = 5
    themes["left_out"]["parking"] = "5 positives < labels.min_positives 10"
    (project / "metrics/themes.json").write_text(json.dumps(themes))
    pool = pd.read_csv(project / "data/unlabeled.csv", dtype=str, keep_default_na=False)
    pool = pd.concat([pool, pd.DataFrame({"Processed Text": MORE_PARKING, "source": "survey"})])
    pool.to_csv(project / "data/unlabeled.csv", index=False)
    suggest.main()
    batch = pd.read_csv(project / "metrics/label_next.csv", dtype=str, keep_default_na=False)
    searched = batch[batch["picked for"] == "parking"]
    # 6 of the pool's 606 rows are about parking (1%); the search's rows mostly are
    found = searched["Processed Text"].isin(MORE_PARKING)
    assert len(searched) >= 3 and found.mean() >= 0.75
    assert all(s.startswith("parking: like its labelled positives") for s in searched["scores"])
    md = (project / "metrics/label_next.md").read_text()
    assert "not trained: 5 positives < labels.min_positives 10" in md and '<Choice value="parking"/>' in md


def test_random_rows_give_every_eligible_row_the_same_chance():
    rows = np.arange(100, 120)
    counts = np.zeros(200, dtype=int)
    for seed in range(2000):
        counts[random_rows(rows, 0.25, 20, seed)] += 1  # 5 of 20 rows per draw
    assert counts.sum() == 2000 * 5 and not counts[:100].any()
    assert np.abs(counts[rows] / 2000 - 0.25).max() < 0.04  # 2000 draws: sd of each share about 0.01


def test_label_studio_tasks_match_their_config(project):
    suggest.main()
    tasks = json.loads((project / "metrics/label_next.json").read_text())
    batch = pd.read_csv(project / "metrics/label_next.csv", dtype=str, keep_default_na=False)
    assert len(tasks) == BATCH and [t["data"]["text"] for t in tasks] == batch["Processed Text"].tolist()
    md = (project / "metrics/label_next.md").read_text()
    config = ET.fromstring(md.split("```xml")[1].split("```")[0])
    text, choices = config.find("Text"), config.find("Choices")
    allowed = {c.get("value") for c in choices.findall("Choice")}
    assert text.get("value") == "$text" and choices.get("toName") == text.get("name")
    for task, themes in zip(tasks, batch["Themes"], strict=True):
        (prediction,) = task["predictions"]
        got = [c for r in prediction["result"] for c in r["value"]["choices"]]
        assert got == [t for t in themes.split(", ") if t] and set(got) <= allowed
        assert all(r["from_name"] == choices.get("name") and r["type"] == "choices" for r in prediction["result"])


def test_labelled_batch_appends_once_and_is_not_suggested_again(project):
    suggest.main()
    before = (project / "data/train.csv").read_bytes()
    batch = pd.read_csv(project / "metrics/label_next.csv", dtype=str, keep_default_na=False)
    batch.loc[0, "Themes"] = "food, staff"
    labelled = project / "batch.csv"
    batch.to_csv(labelled, index=False)
    append_batch.main([str(labelled)])
    after = (project / "data/train.csv").read_bytes()
    assert after.startswith(before)  # the existing rows stay byte for byte
    train = pd.read_csv(project / "data/train.csv", dtype=str, keep_default_na=False)
    assert len(train) == len(pd.read_csv(ROOT / "data/train.csv").head(600)) + BATCH
    assert list(train.columns) == ["Processed Text", "Themes"]
    assert train["Themes"].iloc[-BATCH] == "food, staff"
    ledger = pd.read_csv(project / "data/picked.csv", dtype=str, keep_default_na=False)
    assert ledger["text"].tolist() == batch["Processed Text"].tolist()
    assert ledger["picked"].tolist() == batch["picked by"].tolist()  # how each row was picked, kept
    append_batch.main([str(labelled)])  # twice: nothing more
    assert (project / "data/train.csv").read_bytes() == after
    assert len(pd.read_csv(project / "data/picked.csv")) == BATCH
    suggest.main()
    again = pd.read_csv(project / "metrics/label_next.csv", dtype=str, keep_default_na=False)
    assert not set(again["Processed Text"]) & set(batch["Processed Text"])


def test_a_relabel_of_a_training_row_becomes_ledger_decisions_and_is_named(project, capsys):
    train = pd.read_csv(project / "data/train.csv", dtype=str, keep_default_na=False)
    before = (project / "data/train.csv").read_bytes()
    text, themes = train["Processed Text"].iloc[3], train["Themes"].iloc[3]
    old = [t.strip() for t in themes.split(",")]
    new = ["price"] if "price" not in old else ["staff"]
    batch = pd.DataFrame(
        {
            "Processed Text": [text.upper(), train["Processed Text"].iloc[4], "a text nobody labelled before"],
            "Themes": [", ".join(new), train["Themes"].iloc[4], "food"],
        }
    )
    batch.to_csv(project / "relabel.csv", index=False)
    append_batch.run(argparse.Namespace(batch=project / "relabel.csv"))
    out = capsys.readouterr().out
    assert "1 rows appended" in out and "1 already in data/train.csv with the same themes" in out
    assert f"1 relabel(s) of rows already in data/train.csv (line 5) recorded as {len(old) + 1} decision(s)" in out
    ledger = pd.read_csv(project / "data/label_fixes.csv", dtype=str, keep_default_na=False)
    got = sorted(zip(ledger["theme"], ledger["decision"], strict=True))
    assert got == sorted([(new[0], "add"), *((t, "remove") for t in old)])
    assert set(ledger["fingerprint"]) == {text_fingerprint(text)} and set(ledger["line"]) == {"5"}
    assert (project / "data/train.csv").read_bytes().startswith(before)  # the row itself is never rewritten
    append_batch.run(argparse.Namespace(batch=project / "relabel.csv"))  # again: the ledger now agrees
    assert "relabel" not in capsys.readouterr().out
    assert len(pd.read_csv(project / "data/label_fixes.csv")) == len(ledger)
    (project / "data/train.csv").write_bytes(before)
    (project / "data/label_fixes.csv").unlink()
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["data"]["fixes"] = None
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    with pytest.raises(InputError) as err:
        append_batch.run(argparse.Namespace(batch=project / "relabel.csv"))
    msg = str(err.value)
    assert "line 2 relabels data/train.csv line 5" in msg and "set data.fixes" in msg and "\n" not in msg
    assert (project / "data/train.csv").read_bytes() == before


def test_conflicting_rows_in_a_batch_are_named_and_nothing_is_appended(project, capsys):
    before = (project / "data/train.csv").read_bytes()
    batch = pd.DataFrame(
        {
            "Processed Text": [
                "A brand new text about the bill",
                "another new one",
                "A brand  new text about the bill",
            ],
            "Themes": ["price", "staff", "price, staff"],
        }
    )
    batch.to_csv(project / "clash.csv", index=False)
    with pytest.raises(InputError) as err:
        append_batch.run(argparse.Namespace(batch=project / "clash.csv"))
    msg = str(err.value)
    assert "line 2 and line 4 have the same text with different themes (price against price, staff)" in msg
    assert "nothing was appended" in msg and "\n" not in msg
    assert (project / "data/train.csv").read_bytes() == before
    batch.loc[2, "Themes"] = "Price"  # the same themes, spelled otherwise: a repeat, appended once
    batch.to_csv(project / "clash.csv", index=False)
    append_batch.run(argparse.Namespace(batch=project / "clash.csv"))
    assert "2 rows appended" in capsys.readouterr().out
    (project / "data/train.csv").write_bytes(before)


def test_label_studio_export_comes_back_as_rows():
    export = [
        {
            "data": {"text": "a"},
            "annotations": [{"result": [{"type": "choices", "from_name": "themes", "value": {"choices": ["food"]}}]}],
        },
        {"data": {"text": "b"}, "annotations": [{"was_cancelled": True, "result": []}]},
        {
            "data": {"text": "c"},
            "annotations": [
                {"result": [{"type": "choices", "from_name": "themes", "value": {"choices": ["staff"]}}]},
                {"result": []},
            ],
        },
    ]
    rows, unlabelled = labelled_rows(export, "export.json")
    assert rows == [("a", ["food"]), ("c", [])] and unlabelled == 1
    with pytest.raises(InputError, match="no data.text"):
        labelled_rows([{"data": {}}], "export.json")


def test_edited_batch_is_not_overwritten(project):
    suggest.main()
    path = project / "metrics/label_next.csv"
    batch = pd.read_csv(path, dtype=str, keep_default_na=False)
    batch.loc[2, "Themes"] = "price"
    batch.to_csv(path, index=False)
    with pytest.raises(InputError, match="1 labelled rows are not in data/train.csv yet"):
        suggest.main()
    append_batch.main([str(path)])
    suggest.main()  # appended: the batch may be replaced now


def test_no_pool_writes_an_empty_batch(project):
    (project / "data/unlabeled.csv").unlink()
    suggest.main()
    assert len(pd.read_csv(project / "metrics/label_next.csv")) == 0
    assert json.loads((project / "metrics/label_next.json").read_text()) == []


def test_quotas_follow_the_reasons():
    needs = [ThemeNeed("a", ["x", "y"], 0, 1), ThemeNeed("b", ["x"], 0, 1), ThemeNeed("c", [], 0, 1)]
    allot(needs, 200)
    assert [n.quota for n in needs] == [133, 67, 0]
    settled = [ThemeNeed(t, [], 0, 1) for t in "abc"]
    allot(settled, 10)
    assert sorted(n.quota for n in settled) == [3, 3, 4]


def test_a_flat_forecast_holds_a_themes_quota_back_unless_the_quota_is_told_not_to_follow(project):
    themes = json.loads((project / "artifacts/thresholds.json").read_text())["themes"]
    flat = {"verdict": "flat", "fit": {"ceiling": [0.5, 0.6, 0.7]}, "target_average_precision": 0.9}
    curves = {"settings": {"horizons": [2.0]}, "themes": {t: flat for t in themes}}
    (project / "metrics/learning_curve.json").write_text(json.dumps(curves))
    suggest.main()
    assert "flat: even the fitted ceiling's upper bound" in (project / "metrics/label_next.md").read_text()
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["suggest"]["follow_forecast"] = False
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    suggest.main()
    assert "flat: even the fitted ceiling" not in (project / "metrics/label_next.md").read_text()
