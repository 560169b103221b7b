"""The cost model's trial budgets, the forest's row cap, and solver settings per space kind."""

import numpy as np
import pytest
import yaml

from harness.dvc_repo import ROOT
from themetag.errors import InputError
from themetag.modelling.candidates import family_conf
from themetag.modelling.families import build, fit_model
from themetag.tuning.budget import study_budget

TUNING = {"n_trials": 40, "budget": 40, "min_trials": 2}


@pytest.fixture(scope="module")
def params():
    return yaml.safe_load((ROOT / "params.yaml").read_text())


def test_budget_binds_on_large_data_only_and_depends_on_rows_not_the_clock(params):
    svm_emb = family_conf(params, "linsvm", "embeddings")
    logreg_tfidf = family_conf(params, "logreg", "tfidf")
    small = study_budget(svm_emb, TUNING, folds=5, train_rows=2_800)  # the bundled sample's fold size
    large = study_budget(svm_emb, TUNING, folds=5, train_rows=39_000)  # goemotions
    assert (small.trials, small.cut) == (40, False)
    assert large.cut and TUNING["min_trials"] <= large.trials < 10
    assert study_budget(logreg_tfidf, TUNING, folds=5, train_rows=39_000).trials >= 30  # cheap pairs keep most
    assert study_budget(svm_emb, TUNING, folds=5, train_rows=39_000) == large  # a pure function of its inputs
    assert study_budget(svm_emb, {**TUNING, "budget": None}, 5, 39_000).trials == 40  # budget null: off
    assert study_budget(svm_emb, {**TUNING, "min_trials": 7}, 5, 10**7).trials == 7


def test_family_max_trials_still_caps_and_a_capped_forest_still_costs_more_on_more_rows(params):
    rf = family_conf(params, "rf", "tfidf")
    assert study_budget(rf, TUNING, 5, 2_800).trials == rf["max_trials"]
    # at the reference size one fit costs max_rows x cost_us (measured 1.21-1.29 s at 20,000 rows)
    assert study_budget(rf, TUNING, 1, 20_000).trial_cost == pytest.approx(rf["max_rows"] * rf["cost_us"] * 1e-6)
    # beyond it each tree still fits max_rows rows, but splits on and scores every row: sqrt growth
    at_40k, at_160k = (study_budget(rf, TUNING, 5, n).trial_cost for n in (40_000, 160_000))
    assert at_160k == pytest.approx(2 * at_40k)
    assert study_budget(rf, TUNING, 5, 39_000).trials <= 5  # goemotions: 8 trials ran 4x over the budget


def test_forest_fits_each_tree_on_at_most_max_rows(params):
    rf = {**family_conf(params, "rf", "tfidf"), "max_rows": 50}
    X, y = np.random.default_rng(0).random((120, 4)), np.arange(120) % 2
    assert build(rf, {"n_estimators": 5}, 0, 4, n_rows=120).max_samples == 50
    assert build(rf, {"n_estimators": 5}, 0, 4, n_rows=40).max_samples is None  # below the cap: unchanged
    fit_model(rf, {"n_estimators": 5}, 0, X, y)
    with pytest.raises(InputError, match="max_rows is for rf only"):
        build({**family_conf(params, "logreg", "tfidf"), "max_rows": 10}, {}, 0, 4, 20)


def test_logreg_solver_follows_the_space_kind_and_a_missing_cost_says_where(params):
    assert family_conf(params, "logreg", "tfidf")["fixed"]["solver"] == "liblinear"
    assert family_conf(params, "logreg", "embeddings")["fixed"]["solver"] == "lbfgs"
    assert family_conf(params, "logreg", "tfidf_embeddings")["fixed"]["solver"] == "lbfgs"
    broken = {**params, "families": {**params["families"], "nb": {**params["families"]["nb"], "cost_us": {"x": 1}}}}
    with pytest.raises(InputError, match=r"conf/families/nb.yaml: cost_us has no entry for space kind 'tfidf'"):
        family_conf(broken, "nb", "tfidf")
