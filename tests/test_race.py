"""Racing: portfolios as a study's first trials, the margin rule, and a raced study that gives what
a study run in one go gives."""

import pandas as pd
import pytest

from harness.dvc_repo import ROOT
from themetag.data.folds import make_folds
from themetag.errors import InputError
from themetag.features.spaces import TfidfSpace
from themetag.fingerprint import fingerprint
from themetag.tuning.race import decide, portfolio
from themetag.tuning.trials import screen_theme, tune_theme

FEATURES = {"kind": "tfidf", "ngram_max": 1, "min_df": 1, "max_df": 1.0, "sublinear_tf": True, "max_features": None}
LOGREG = {
    "estimator": "logreg",
    "max_trials": None,
    "fixed": {"solver": "liblinear"},
    "space": {
        "C": {"type": "float", "low": 0.1, "high": 100.0, "log": True},
        "class_weight": {"type": "categorical", "choices": [None, "balanced"]},
    },
    "portfolio": [{"C": 10, "class_weight": None}, {"C": 1, "class_weight": "balanced"}],
}


def test_decide_keeps_candidates_within_the_margin_and_says_why_the_others_stop():
    out = decide({"a": 0.90, "b": 0.86, "c": 0.84, "d": 0.70}, 0.05)
    assert out["a"] is None and out["b"] is None and out["c"] is not None and out["d"] is not None
    assert "0.060 behind a (0.900)" in out["c"] and "tuning.race.margin 0.05" in out["c"]
    assert decide({"a": 0.9, "b": 0.1}, None) == {"a": None, "b": None}  # racing off: everyone goes on
    assert decide({"x": 0.8, "y": 0.8}, 0.0) == {"x": None, "y": None}  # a tie is never raced out


def test_portfolio_is_cast_to_the_search_space_and_must_set_exactly_its_parameters():
    points = portfolio("logreg", LOGREG)
    assert points == [{"C": 10.0, "class_weight": None}, {"C": 1.0, "class_weight": "balanced"}]
    assert all(isinstance(p["C"], float) for p in points)  # so Optuna's skip_if_exists sees a repeat
    with pytest.raises(InputError, match=r"conf/families/logreg.yaml: portfolio entry 1 sets \['C'\]"):
        portfolio("logreg", {**LOGREG, "portfolio": [{"C": 1.0}]})
    assert portfolio("nb", {"space": {}, "portfolio": None}) == []


@pytest.fixture(scope="module")
def problem():
    frame = pd.read_csv(ROOT / "data/train.csv", keep_default_na=False).head(400)
    labels = pd.DataFrame({t: frame["Themes"].str.contains(t).astype(int) for t in ("price", "food")})
    y = labels["price"].to_numpy()
    fold = make_folds(labels, 4, 0)
    space = TfidfSpace("tfidf", FEATURES)
    return y, space.fold_matrices(space.fold_data(frame["Processed Text"].tolist(), fold, {}))


def tuning(storage: str, n_trials: int = 6) -> dict:
    return {
        "n_trials": n_trials,
        "timeout": None,
        "storage": storage,
        "pruner": "none",
        "early_stop": {"min_precision": 1.01, "min_recall": 0.5},  # never met: every trial runs
        "budget": None,
    }


def test_screen_then_tune_runs_the_portfolio_once_and_equals_one_uninterrupted_study(problem, tmp_path):
    y, mats = problem
    points = portfolio("logreg", LOGREG)
    fp = fingerprint("race", LOGREG["space"])
    raced = tuning(f"journal:{tmp_path}/raced.log")
    screened = screen_theme("price", "logreg", LOGREG, y, raced, 0, fp, points, mats=mats)
    assert screened["trials"] == 2 and screened["best_params"] in points
    after = tune_theme("price", "logreg", LOGREG, y, raced, 0, fp, points, mats=mats)
    assert after["trials_complete"] == 6 and after["trials_resumed"] == 2  # the portfolio is not run again
    first_two = after["trials"].head(2)
    assert first_two["params_C"].tolist() == [10.0, 1.0]  # the portfolio, in its order
    assert first_two["params_class_weight"].fillna("none").tolist() == ["none", "balanced"]
    alone = tune_theme("price", "logreg", LOGREG, y, tuning(f"journal:{tmp_path}/alone.log"), 0, fp, points, mats=mats)
    # the same trials in the same order: a fresh clone, which runs screen and tune anew, gets the same study
    assert alone["best_params"] == after["best_params"] and alone["best_value"] == after["best_value"]
    assert alone["trials"]["value"].tolist() == after["trials"]["value"].tolist()
    assert (alone["oof"] == after["oof"]).all()


def test_a_costly_candidate_below_the_bar_stops_after_its_portfolio(problem, tmp_path):
    y, mats = problem
    points = portfolio("logreg", LOGREG)
    fp = fingerprint("costly", LOGREG["space"])
    out = tune_theme("price", "x", LOGREG, y, tuning(f"journal:{tmp_path}/c.log"), 0, fp, points, 2.0, mats=mats)
    assert out["stop_reason"] == "raced_out" and out["trials_complete"] == 2 and len(out["oof"]) == len(y)
    free = tune_theme("price", "x", LOGREG, y, tuning(f"journal:{tmp_path}/d.log"), 0, fp, points, -1.0, mats=mats)
    assert free["stop_reason"] == "n_trials" and free["trials_complete"] == 6


def test_the_sample_s_fold_matrices_are_the_full_ones_rows_renumbered(problem):
    import numpy as np

    from themetag.tuning.race import restrict, screen_sample

    y, mats = problem
    labels = np.column_stack([y, 1 - y])
    assert screen_sample(labels, None, 0) is None and screen_sample(labels, len(y), 0) is None
    rows = screen_sample(labels, 200, 0)
    assert rows is not None and abs(len(rows) - 200) <= 2 and (np.diff(rows) > 0).all()
    assert np.array_equal(rows, screen_sample(labels, 200, 0))  # seeded: every run races on the same rows
    assert abs(y[rows].mean() - y.mean()) < 0.02  # stratified
    sub = restrict(mats, rows)
    assert sorted(np.concatenate(sub.valid_idx).tolist()) == list(range(len(rows)))
    for k in range(mats.k):
        assert not set(sub.train_idx[k]) & set(sub.valid_idx[k])
        for idx, X, full_idx, full_X in (
            (sub.train_idx[k], sub.X_train[k], mats.train_idx[k], mats.X_train[k]),
            (sub.valid_idx[k], sub.X_valid[k], mats.valid_idx[k], mats.X_valid[k]),
        ):
            where = {r: i for i, r in enumerate(full_idx)}
            picked = [where[rows[i]] for i in idx]  # each row keeps its own matrix row
            assert (X != full_X[picked]).nnz == 0


def test_the_margin_widens_with_the_sampling_error_of_the_leader():
    from themetag.tuning.race import widening

    assert widening(0.9, 30, 0.5) > 0.15  # 15-odd rows tagged: nobody can be raced out on that
    assert 0.015 < widening(0.9, 2000, 0.5) < 0.025  # 1,100 rows tagged
    assert widening(1.0, 40, 0.5) > 0.05  # a perfect precision on a few rows is not certain
    out = decide({"a": 0.90, "b": 0.80}, 0.05, widen=0.06)
    assert out["b"] is None
    out = decide({"a": 0.90, "b": 0.78}, 0.05, widen=0.06)
    assert "+ 0.060 sampling error" in out["b"]


def test_on_large_data_the_race_runs_on_a_sample_and_the_candidates_that_go_on_run_their_portfolio_on_every_row(
    tmp_path,
):
    """Real dvc on 400 rows with ``tuning.race.sample_rows=200``: the screen runs on a sample in
    studies of its own; each first-round candidate that goes on runs its portfolio on every row
    and stops there; a second repro runs nothing. Up to select, the last stage that tunes."""
    import json

    from harness.dvc_repo import DvcRepo

    repo = DvcRepo(
        tmp_path / "p",
        train_rows=400,
        test_rows=60,
        overrides=[
            "tuning.race.sample_rows=200",
            "tuning.n_trials=6",
            "tuning.early_stop.min_precision=1.01",  # nothing settles: every study runs to its budget
            "models.spaces=[tfidf]",
        ],
    )
    ran = repo.repro("select")
    assert {"screen", "tune@logreg-tfidf", "select"} <= set(ran)
    screen = json.loads((repo.path / "artifacts/screen/summary.json").read_text())
    assert 198 <= screen["sample_rows"] <= 202
    assert all(t["widening"] > 0.05 for t in screen["themes"].values())  # a few dozen positives per theme
    tuned = json.loads((repo.path / "artifacts/tune/first/logreg-tfidf/summary.json").read_text())
    assert tuned["themes"]
    for res in tuned["themes"]:  # the portfolio (4 settings), on every row: not the sample's studies
        assert res["trials_resumed"] == 0 and res["budget"]["asked"] == 4
        assert res["trials_complete"] + res["trials_pruned"] == 4
    assert repo.repro("select") == []


def test_only_a_first_round_candidate_on_large_data_stops_at_its_portfolio():
    from themetag.tuning.race import search_tuning

    tuning = {"n_trials": 40, "race": {"margin": 0.05, "sample_rows": 1000}}
    points = [{"C": 1.0}, {"C": 10.0}]
    assert search_tuning(tuning, 5000, points, costly=False)["n_trials"] == 2
    assert search_tuning(tuning, 1000, points, costly=False) is tuning  # not larger than sample_rows
    assert search_tuning(tuning, 5000, points, costly=True) is tuning  # costly: no sample rule, extra_trials unset
    assert search_tuning(tuning, 5000, [], costly=False) is tuning  # no portfolio: tuned as before
    off = {"n_trials": 40, "race": {"margin": 0.05, "sample_rows": None}}
    assert search_tuning(off, 10**6, points, costly=False) is off


def test_extra_trials_cap_every_search_at_its_portfolio_plus_that_many_at_any_size():
    from themetag.tuning.race import search_tuning

    points = [{"C": 1.0}, {"C": 10.0}]
    for extra, want in ((0, 2), (3, 5), (100, 40)):
        tuning = {"n_trials": 40, "race": {"margin": 0.05, "sample_rows": 1000, "extra_trials": extra}}
        assert search_tuning(tuning, 500, points, costly=False)["n_trials"] == want  # small data too
        assert search_tuning(tuning, 5000, points, costly=False)["n_trials"] == 2  # large data: the portfolio
        assert search_tuning(tuning, 500, points, costly=True)["n_trials"] == want  # costly candidates too
        assert search_tuning(tuning, 5000, points, costly=True)["n_trials"] == want  # at any size
    full = {"n_trials": 40, "race": {"margin": 0.05, "sample_rows": 1000, "extra_trials": None}}
    assert search_tuning(full, 500, points, costly=False) is full
