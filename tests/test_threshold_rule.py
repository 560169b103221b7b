import numpy as np
import pytest
from sklearn.metrics import precision_recall_curve

from themetag.errors import InputError
from themetag.thresholds.pr_sweep import curve as _curve
from themetag.thresholds.pr_sweep import precision_first as choose
from themetag.thresholds.pr_sweep import wilson_lower
from themetag.thresholds.rules import RULES, next_batch_positives
from themetag.thresholds.rules import choose as choose_by_name
from themetag.tuning.trials import policy_score


def brute_force(y, s, min_recall):
    """Try every distinct score as a threshold; lexicographic (precision, recall) among feasible."""
    best = None
    for t in np.unique(s):
        pred = s >= t
        tp, fp = int((pred & (y == 1)).sum()), int((pred & (y == 0)).sum())
        p, r = tp / (tp + fp), tp / y.sum()
        if r >= min_recall and (best is None or (p, r) > best[:2]):
            best = (p, r, t)
    return best


@pytest.mark.parametrize("seed", range(20))
def test_sweep_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    y = (rng.random(80) < 0.3).astype(int)
    y[:3] = 1
    s = np.round(rng.normal(size=80) + 1.2 * y, 1)  # rounded: many tied scores
    for min_recall in (0.3, 0.5, 0.8):
        c = choose(y, s, min_recall)
        p, r, t = brute_force(y, s, min_recall)
        assert c.met_target
        assert (c.precision, c.recall, c.threshold) == pytest.approx((p, r, t))


@pytest.mark.parametrize("seed", range(10))
def test_curve_equals_sklearn(seed):
    rng = np.random.default_rng(seed)
    y = (rng.random(300) < 0.2).astype(int)
    y[0] = 1
    s = np.round(rng.normal(size=300) + y, 1 + seed % 3)  # some seeds heavy with ties
    precision, recall, thresholds = precision_recall_curve(y, s)
    ours = _curve(y, s)
    np.testing.assert_array_equal(ours[2], thresholds)
    np.testing.assert_allclose(ours[0], precision[:-1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours[1], recall[:-1], rtol=0, atol=1e-12)


def test_precision_one_then_recall_is_maximised():
    y = np.array([1, 1, 1, 1, 0, 1, 0, 0])
    s = np.array([9, 8, 7, 6, 5, 4, 3, 2], dtype=float)
    c = choose(y, s, min_recall=0.4)
    # precision 1.0 holds down to score 6 (4 of 5 positives); the rule takes the lowest such threshold
    assert (c.threshold, c.precision, c.recall) == (6.0, 1.0, 0.8)
    assert policy_score(y, s, 0.4) == pytest.approx(1.8)


def test_fallback_is_flagged_when_min_recall_unreachable():
    y = np.array([1, 0, 1, 0])
    s = np.array([0.9, 0.8, 0.7, 0.6])
    c = choose(y, s, min_recall=1.0, recall_confidence=0.99)  # the bound on 2 positives never reaches 1.0
    assert not c.met_target and c.rule == "fallback_best_f1"
    never = choose(y, s, min_recall=1.0, recall_confidence=0.99, fallback="never")
    assert never.threshold == float("inf") and never.rule == "fallback_never"


def test_wilson_bound_asks_for_more_recall_on_few_positives():
    # Known value: 8 of 10 successes, one-sided 95% Wilson bound, worked by hand: (0.9353 - 0.2482) / 1.2706 = 0.5408.
    assert wilson_lower(np.array([8]), 10, 0.95)[0] == pytest.approx(0.5408, abs=1e-3)
    y = np.r_[np.ones(20), np.zeros(80)].astype(int)
    s = np.r_[np.linspace(1, 0.5, 20), np.linspace(0.9, 0, 80)]
    plain, bounded = choose(y, s, 0.5), choose(y, s, 0.5, recall_confidence=0.9)
    assert bounded.recall > plain.recall >= 0.5


def test_next_batch_margin_grows_as_the_batch_shrinks():
    rng = np.random.default_rng(0)
    y = (rng.random(3000) < 0.1).astype(int)
    s = rng.normal(size=3000) + 1.5 * y
    recalls = [choose(y, s, 0.5, 0.9, next_positives=n).recall for n in (0, 400, 40, 10)]
    assert recalls == sorted(recalls) and recalls[0] < recalls[-1]
    # the bound is the two-source standard error: 0.5 +- z * sqrt(.25 * (1/n_train + 1/n_next))
    c = choose(y, s, 0.5, 0.9, next_positives=40)
    n_eff = 1 / (1 / y.sum() + 1 / 40)
    assert wilson_lower(np.array([c.recall * n_eff]), n_eff, 0.9)[0] >= 0.5


def test_a_rare_theme_is_bounded_on_at_least_min_batch_positives():
    rng = np.random.default_rng(1)
    y = (rng.random(20000) < 0.006).astype(int)  # ~2.4 positives in a 400-row batch
    s = rng.normal(size=20000) + 1.5 * y
    conf = {"rule": "precision_first", "min_recall": 0.5, "recall_confidence": 0.9, "fallback": "best_f1"}
    conf |= {"next_batch_rows": 400}
    assert next_batch_positives(y, conf) == pytest.approx(400 * y.mean())
    unfloored = choose_by_name(y, s, conf)
    floored = choose_by_name(y, s, conf | {"min_batch_positives": 30})
    assert next_batch_positives(y, conf | {"min_batch_positives": 30}) == 30
    assert floored.recall < unfloored.recall and floored.precision > unfloored.precision
    assert floored == choose(y, s, 0.5, 0.9, next_positives=30)
    # a common theme already expects more than the floor: unchanged; next_batch_rows 0 keeps it off
    common = (rng.random(2000) < 0.2).astype(int)
    assert next_batch_positives(common, conf | {"min_batch_positives": 30}) == pytest.approx(400 * common.mean())
    assert next_batch_positives(y, {"next_batch_rows": 0, "min_batch_positives": 30}) == 0


def brute_confusion(y, s, t):
    pred = s >= t
    return int((pred & (y == 1)).sum()), int((pred & (y == 0)).sum()), int((~pred & (y == 1)).sum())


@pytest.mark.parametrize("seed", range(10))
def test_fixed_precision_and_cost_ratio_match_brute_force(seed):
    rng = np.random.default_rng(seed)
    y = (rng.random(120) < 0.3).astype(int)
    y[:3] = 1
    s = np.round(rng.normal(size=120) + 1.5 * y, 1)
    base = {"fallback": "never", "next_batch_rows": 0}
    for target in (0.6, 0.8):
        c = choose_by_name(y, s, {**base, "rule": "fixed_precision", "target_precision": target})
        feasible = []
        for t in np.unique(s):
            tp, fp, _ = brute_confusion(y, s, t)
            if tp / (tp + fp) >= target:
                feasible.append((tp / y.sum(), tp / (tp + fp), t))
        if feasible:
            r, p, t = max(feasible)
            assert c.met_target and (c.recall, c.precision, c.threshold) == pytest.approx((r, p, t))
        else:
            assert c.rule == "fallback_never"
    for ratio in (0.5, 3.0):
        c = choose_by_name(y, s, {**base, "rule": "cost_ratio", "cost_ratio": ratio})
        costs = {t: ratio * brute_confusion(y, s, t)[1] + brute_confusion(y, s, t)[2] for t in np.unique(s)}
        best = min(costs.values())
        assert (
            c.met_target
            and ratio * brute_confusion(y, s, c.threshold)[1] + brute_confusion(y, s, c.threshold)[2] == best
        )


def test_rules_are_chosen_by_name_and_an_unknown_name_says_which_exist():
    assert list(RULES) == ["precision_first", "fixed_precision", "cost_ratio"]
    y, s = np.array([1, 0, 1, 0, 0]), np.array([0.8, 0.9, 0.7, 0.2, 0.1])
    conf = {"rule": "precision_first", "min_recall": 0.5, "recall_confidence": 0.0, "fallback": "best_f1"}
    assert choose_by_name(y, s, conf) == choose(y, s, 0.5)
    with pytest.raises(InputError, match="thresholds.rule='nope'; use one of precision_first, fixed_precision"):
        choose_by_name(y, s, {**conf, "rule": "nope"})
    # a wrong tag far costlier than a miss: tagging nothing wins, and the theme is not tagged
    never = choose_by_name(y, s, {"rule": "cost_ratio", "cost_ratio": 100.0})
    assert never.threshold == float("inf") and not never.met_target and never.rule == "cost_ratio_tag_nothing"
