"""The models that tag (bag or refit), the precision floor and the recall audit."""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from themetag.modelling.families import score
from themetag.reporting.check_first import check_first
from themetag.reporting.recall_audit import recall_audit
from themetag.tagging.bundle import load_bundle


@pytest.fixture
def copy_of(trained, tmp_path):
    """A copy of the trained slice to run stages in with edited params; returns an editor."""
    dst = tmp_path / "copy"
    shutil.copytree(trained, dst)
    old = Path.cwd()
    os.chdir(dst)

    def edit(section: str, **values) -> Path:
        params = yaml.safe_load(Path("params.yaml").read_text())
        params[section].update(values)
        Path("params.yaml").write_text(yaml.safe_dump(params))
        return dst

    yield edit
    os.chdir(old)


def test_bag_is_the_default_and_its_members_reproduce_the_out_of_fold_scores_the_threshold_was_chosen_on(trained):
    tagger = load_bundle(trained / "models/bundle.joblib")
    assert tagger.mode == "bag" and len(tagger.featurizers) == 5
    assert all(len(m) == 5 for m in tagger.models.values())
    assert json.loads((trained / "models/bundle.json").read_text())["final_model"] == "bag"
    texts = pd.read_csv(trained / "artifacts/labels.csv", keep_default_na=False)["text"].to_numpy()
    fold = np.asarray(json.loads((trained / "artifacts/folds.json").read_text())["fold"])
    oof = pd.read_csv(trained / "artifacts/selected_oof.csv")
    for k in range(5):
        rows = np.flatnonzero(fold == k)
        X = tagger.matrices(list(texts[rows]))[k]
        for theme in tagger.themes:
            member = score(tagger.models[theme][k], X[tagger.spaces[theme]])
            # equal up to float32 encoding noise (a text encoded in another batch differs by ~1e-7)
            np.testing.assert_allclose(member, oof[theme].to_numpy()[rows], rtol=0, atol=1e-3)


def test_refit_gives_one_model_per_theme(copy_of):
    from stages import package, train_final

    trained = copy_of("final", model="refit")
    train_final.main()
    package.main()
    tagger = load_bundle(trained / "models/bundle.joblib")
    assert tagger.mode == "refit" and len(tagger.featurizers) == 1
    assert all(len(m) == 1 for m in tagger.models.values())
    assert json.loads((trained / "models/bundle.json").read_text())["final_model"] == "refit"


def test_a_theme_below_min_precision_is_flagged_first_and_not_tagged_with_fallback_never(copy_of):
    from stages import evaluate, package, thresholds

    copy_of("thresholds", min_precision=0.99, fallback="never")
    thresholds.main()
    package.main()
    evaluate.main()
    chosen = json.loads(Path("artifacts/thresholds.json").read_text())["themes"]
    low = [t for t, c in chosen.items() if c["below_min_precision"]]
    assert low, chosen
    assert all(chosen[t]["threshold"] == float("inf") and chosen[t]["rule"] == "below_min_precision" for t in low)
    results = Path("metrics/results.md").read_text().splitlines()
    assert results[2] == "**Check first:**" and low[0] in "\n".join(results[4 : 4 + len(low) * 2])
    metrics = json.loads(Path("metrics/metrics.json").read_text())
    assert all(metrics["test"]["themes"][t]["tp"] + metrics["test"]["themes"][t]["fp"] == 0 for t in low)
    assert metrics["test"]["themes"][low[0]]["below_min_precision"] is True


def test_recall_audit_flags_a_shortfall_beyond_two_sd_only():
    def split(recall, support):
        return {
            "themes": {
                "a": {"recall": recall[0], "support": support[0]},
                "b": {"recall": recall[1], "support": support[1]},
            }
        }

    metrics = {"cv_nested": split((0.6, 0.6), (400, 400)), "test": split((0.55, 0.40), (100, 100))}
    audit = recall_audit(metrics, {"a": "logreg", "b": "rf"})
    a, b = audit["themes"]["a"], audit["themes"]["b"]
    assert a["nested_sd"] == pytest.approx(np.sqrt(0.6 * 0.4 / 400)) and a["test_sd"] == pytest.approx(
        np.sqrt(0.55 * 0.45 / 100)
    )
    assert not a["flagged"] and b["flagged"]  # 0.05 is within 2 sd (0.11); 0.20 is not (0.11)
    assert audit["families"]["rf"]["mean_shortfall"] == pytest.approx(0.2)
    chosen = {t: {"threshold": 0.0, "met_target": True, "rule": "precision_first"} for t in "ab"}
    lines = check_first({**metrics, "recall_audit": audit}, chosen, 0.5)
    assert len(lines) == 1 and "short of its nested estimate" in lines[0] and lines[0].endswith(": b 0.400 vs 0.600.")
