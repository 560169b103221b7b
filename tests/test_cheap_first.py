"""Cheap candidates first: a costly family tunes only the themes the others leave unsettled."""

import json

import pandas as pd

from bench.gap_skip import studies
from harness.trained import train_slice


def test_costly_family_skips_settled_themes_and_select_still_covers_every_theme(tmp_path):
    path = train_slice(tmp_path, train_rows=600, families="[logreg]", costly="[nb]", spaces="[tfidf]")
    first = json.loads((path / "artifacts/tune/first/logreg-tfidf/summary.json").read_text())
    costly = json.loads((path / "artifacts/tune/costly/nb-tfidf/summary.json").read_text())
    met = {r["theme"] for r in first["themes"] if r["stop_reason"] == "early_stop"}
    themes = {r["theme"] for r in first["themes"]}
    assert met and met != themes, "the slice should leave some themes settled and some open"
    assert set(costly["settled"]) == met
    assert all(why.startswith("logreg-tfidf met tuning.early_stop") for why in costly["settled"].values())
    assert {r["theme"] for r in costly["themes"]} == themes - met
    assert set(pd.read_csv(path / "artifacts/tune/costly/nb-tfidf/oof.csv").columns) == themes - met
    selection = json.loads((path / "artifacts/selection.json").read_text())
    assert set(selection) == themes
    assert all(selection[t]["candidate"] == "logreg-tfidf" for t in met)  # the only one that ran there
    assert all(set(selection[t]["candidates"]) == {"logreg-tfidf", "nb-tfidf"} for t in themes - met)
    report = json.loads((path / "metrics/tuning.json").read_text())
    assert report["settled"] == {"nb-tfidf": costly["settled"]}
    # bench/gap_skip.py replays its rule on exactly these files: one study per unsettled theme,
    # with every finished trial in order
    found = studies(path)
    assert {s["theme"] for s in found} == themes - met and {s["candidate"] for s in found} == {"nb-tfidf"}
    done = {r["theme"]: r["trials_complete"] for r in costly["themes"]}
    assert all(len(s["values"]) == len(s["fit_seconds"]) == done[s["theme"]] for s in found)
    assert all(s["cheap_best"] == selection[s["theme"]]["candidates"]["logreg-tfidf"]["objective"] for s in found)
