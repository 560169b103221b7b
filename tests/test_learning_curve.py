"""Where the next labels pay: the learning curve's pieces on rows made up here, and the stage on
the trained slice of the sample (tests/conftest.py)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score

from themetag.curves.forecast import first_reaching, fit_pow3, forecast, pow3, weighted_ap
from themetag.curves.points import nested_order
from themetag.curves.theme_curve import unshared_test_noise
from themetag.curves.verdict import AT_TARGET, FLAT, RISING, TOO_FEW, target_ap, verdict
from themetag.labelling.label_next import ThemeNeed, allot, follow_forecast
from themetag.reporting.labels_pay import labels_pay_section, to_test_level


def test_each_prefix_of_the_order_is_stratified_and_holds_the_shorter_ones():
    y = np.r_[np.ones(30, dtype=int), np.zeros(170, dtype=int)]
    order = nested_order(y, 3)
    assert sorted(order) == list(range(200)) and not np.array_equal(order, nested_order(y, 4))
    for n in (20, 50, 100, 150):
        assert abs(y[order[:n]].sum() - 0.15 * n) <= 1  # the positives' share, to a row
    assert set(order[:50]) <= set(order[:100])


def test_weighted_average_precision_is_scikit_learns_with_weights_and_ties():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    scores = np.round(y + rng.normal(0, 1, 300), 1)  # rounded: many ties
    w = rng.poisson(1.0, (3, 300)).astype(float)
    ours = weighted_ap(y, scores, w)
    theirs = [average_precision_score(y, scores, sample_weight=w[i]) for i in range(3)]
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_the_power_law_fit_recovers_a_known_curve_and_forecasts_it():
    x = np.array([0.25, 0.5, 0.75, 1.0])
    truth = (0.9, 0.1, 0.5)
    c, a, alpha = fit_pow3(x, pow3(x, *truth), np.full(4, 0.01))
    np.testing.assert_allclose([c, a, alpha], truth, atol=1e-4)
    boot = pow3(x, *truth) + np.random.default_rng(1).normal(0, 0.005, (100, 4))
    fc = forecast(x, pow3(x, *truth), boot, [2.0], "pow3", 0.8)
    at2 = fc["curve"][fc["grid"].index(2.0)]
    assert at2 == pytest.approx(pow3(2.0, *truth), abs=1e-4) and fc["low"][-1] < at2 < fc["high"][-1]
    assert fc["ceiling"][1] == pytest.approx(0.9, abs=1e-3)
    # pow3_gain: the subsets' curve gives the gain, today's figure the level (a point at 1x lifted
    # by selection does not steepen the curve)
    lifted = pow3(x, *truth) + np.array([0, 0, 0, 0.03])
    gain = forecast(x, lifted, boot, [2.0], "pow3_gain", 0.8)
    assert gain["curve"][gain["grid"].index(1.0)] == pytest.approx(lifted[-1])
    assert gain["curve"][-1] - lifted[-1] == pytest.approx(pow3(2.0, *truth) - pow3(1.0, *truth), abs=1e-3)
    flat = forecast(x, pow3(x, *truth), boot, [2.0], "last_value", 0.8)
    assert set(flat["curve"]) == {pow3(1.0, *truth)} and flat["params"] is None
    with pytest.raises(ValueError, match="learning_curve.forecast"):
        forecast(x, pow3(x, *truth), boot, [2.0], "spline", 0.8)


def test_the_gains_interval_leaves_out_todays_level_which_the_forecasts_interval_carries():
    x = np.array([0.25, 0.5, 0.75, 1.0])
    truth = pow3(x, 0.9, 0.1, 0.5)
    shifts = np.random.default_rng(2).normal(0, 0.02, (200, 1))  # replicates move the whole curve alike
    fc = forecast(x, truth, truth + shifts, [2.0], "pow3", 0.8)
    at2 = fc["grid"].index(2.0)
    assert fc["high"][at2] - fc["low"][at2] > 0.04  # the level's uncertainty: about 2 x 1.28 x 0.02
    assert fc["gain_high"][at2] - fc["gain_low"][at2] < 0.002  # the gain: none of it
    assert fc["gain_low"][at2] < fc["curve"][at2] - fc["now"] < fc["gain_high"][at2] + 1e-9


def test_the_test_level_forecast_adds_the_gains_interval_widened_by_the_test_noise_it_does_not_share():
    f = {"average_precision": 0.82, "low": 0.8, "high": 0.85, "no_gain": 0.78, "gain": [0.03, 0.04, 0.06]}
    f["test_noise"] = {"paired_ratio": 0.5, "model_sd": 0.0}
    moved = to_test_level(f, -0.08, 0.0, 0.8)  # today's test AP 0.70 against 0.78 out of fold
    assert moved == pytest.approx({"average_precision": 0.74, "low": 0.73, "high": 0.76})
    f["test_noise"] = {"paired_ratio": 0.5, "model_sd": 0.01}
    noisy = to_test_level(f, -0.08, 0.02, 0.8)
    sd = 1.2816 * np.hypot(0.5 * 0.02, 0.01)
    assert noisy["low"] == pytest.approx(0.74 - np.hypot(0.01, sd), abs=1e-4)
    assert noisy["high"] == pytest.approx(0.74 + np.hypot(0.02, sd), abs=1e-4)
    assert to_test_level(f, 0.15, 0.05, 0.8)["high"] == 1.0  # an AP above 1 is no forecast
    lines = "\n".join(
        labels_pay_section(
            {**REPORT, "themes": {"food": curve(RISING, forecast={"2.0": f})}}, {"food": 0.7}, {"food": 0.02}
        )
    ).splitlines()
    assert "0.740 [0.719, 0.767]" in next(line for line in lines if line.startswith("| food"))


def test_the_test_noise_measures_what_todays_and_a_later_figure_share_and_one_models_spread():
    rng = np.random.default_rng(3)
    xs = np.array([0.25, 0.5, 0.75, 1.0])
    level = rng.normal(0, 0.02, (400, 1))
    together = 0.8 + level + np.zeros((1, 4))  # every point moves with today's: nothing unshared
    apart = 0.8 + rng.normal(0, 0.02, (400, 4))  # each point on its own: sqrt(2) of one sd
    pairs = [(f, None) for f in xs for _ in range(2 if f < 1 else 1)]
    ap = np.array([0.70, 0.72, 0.75, 0.77, 0.79, 0.81, 0.85])  # two seeds per share, sd 0.0141 each
    assert unshared_test_noise(xs, together, pairs, ap, 2.0)["paired_ratio"] < 0.01
    assert unshared_test_noise(xs, apart, pairs, ap, 2.0)["paired_ratio"] == pytest.approx(np.sqrt(2), rel=0.15)
    assert unshared_test_noise(xs, apart, pairs, ap, 2.0)["model_sd"] == pytest.approx(np.sqrt(0.0002), rel=1e-6)


def test_the_target_sits_on_the_points_line_through_today_and_the_verdicts_follow_it():
    ap = np.array([0.6, 0.7, 0.8])
    target, slope = target_ap(ap, ap + 0.05, 0.8, 0.85, 0.9)
    assert slope == pytest.approx(1.0) and target == pytest.approx(0.85)
    target, slope = target_ap(np.array([0.8, 0.805]), np.array([0.1, 0.9]), 0.8, 0.85, 0.9)
    assert slope == 1.0  # points too close together to tell a slope
    assert verdict(0.92, True, 0.9, 0.95, 0.85, 0.0, 0.01) == AT_TARGET
    assert verdict(0.92, False, 0.9, 0.95, 0.85, 0.0, 0.01) == RISING  # the recall was not reached
    assert verdict(0.7, True, 0.9, 0.84, 0.85, 0.005, 0.01) == FLAT
    assert verdict(0.7, True, 0.9, 0.84, 0.85, 0.03, 0.01) == RISING  # towards a ceiling below the rule
    assert first_reaching([0.5, 1.0, 2.0], [0.7, 0.8, 0.9], 0.85, 2.0) == pytest.approx(1.5)
    assert first_reaching([0.5, 1.0, 2.0], [0.7, 0.8, 0.9], 0.95, 2.0) is None


def curve(verdict_: str, **extra) -> dict:
    f = {"average_precision": 0.82, "low": 0.8, "high": 0.85, "no_gain": 0.78, "positives": 120}
    return {
        "positives": 60,
        "verdict": verdict_,
        "now": {"average_precision": 0.78},
        "forecast": {"2.0": f},
        "fit": {"ceiling": [0.78, 0.8, 0.83]},
        "target_average_precision": 0.86,
        "positives_needed": None,
        **extra,
    }


REPORT = {
    "settings": {"fractions": [0.25, 0.5], "seeds": 2, "forecast": "pow3", "horizons": [2.0], "interval": 0.8},
    "early_stop": {"min_precision": 0.9, "min_recall": 0.5},
    "themes": {
        "food": curve(RISING, positives_needed=95),
        "price": curve(FLAT),
        "rare": {"positives": 12, "verdict": TOO_FEW},
    },
}


def test_the_report_section_gives_forecasts_verdicts_and_sends_a_flat_theme_to_its_labels():
    text = "\n".join(labels_pay_section(REPORT))
    assert "## Where the next labels pay" in text and "no-gain" in text and "Optimistic side" in text
    food = next(line for line in text.splitlines() if line.startswith("| food"))
    assert "0.820 [0.800, 0.850]" in food and "rising" in food and "about 95" in food
    rare = next(line for line in text.splitlines() if line.startswith("| rare"))
    assert TOO_FEW in rare and "0." not in rare  # never a number
    assert "**price** is flat" in text and "label_review.md" in text
    assert labels_pay_section(None) == []
    # with a test set: today's test AP, plus the same forecast gain
    lines = "\n".join(labels_pay_section(REPORT, {"food": 0.7})).splitlines()
    food = next(line for line in lines if line.startswith("| food"))
    assert "| 0.700 " in food and "0.740 [0.720, 0.770]" in food


def test_the_quota_follows_the_forecast_a_flat_theme_gets_none_of_its_own():
    needs = [ThemeNeed(t, ["misses the early-stop rule"], 0.0, 1.0) for t in ("food", "price")]
    needs.append(ThemeNeed("rare", ["few positives"], 0.0, 1.0))
    follow_forecast(needs, REPORT)
    by = {n.theme: n for n in needs}
    assert any(r.startswith("rising") for r in by["food"].reasons) and by["price"].reasons == []
    assert by["price"].held.startswith("flat") and by["rare"].reasons == ["few positives"]
    allot(needs, 30)
    assert by["price"].quota == 0 and by["food"].quota == 20 and by["rare"].quota == 10


def _measured_curve(rows: int = 600):
    """A curve measured on made-up rows (scores sharpen with the share of rows), as the stage keeps it."""
    import yaml

    from themetag.curves.carry import measured_key
    from themetag.curves.theme_curve import summarise

    settings = yaml.safe_load((Path(__file__).parents[1] / "conf/config.yaml").read_text())["learning_curve"]
    rule = {"min_precision": 0.9, "min_recall": 0.5}
    rng = np.random.default_rng(0)
    y = (rng.random(rows) < 0.25).astype(int)
    points = {f: [y + rng.normal(0, 1.4 - 0.4 * f, rows) for _ in range(2)] for f in (0.25, 0.5, 0.75)}
    oof = y + rng.normal(0, 1.0, rows)
    points[1.0] = [oof]
    entry = {"candidate": "logreg-tfidf", "family": "logreg", "space": "tfidf", "params": {"C": 1.0}, "seed": 1}
    res = summarise(y, points, [0.8 * rows, 0.2 * y.sum()], settings, rule)
    curve = {"key": "k", "positives": int(y.sum()), "rows": rows, **res}
    curve["measured"] = {"rows": rows, "key": measured_key(entry, y, settings, rule, "code")}
    return curve, entry, y, oof, settings, rule, rng


def test_a_round_that_appended_rows_carries_the_curve_until_it_grew_or_its_forecast_missed():
    from themetag.curves.carry import carry

    curve, entry, y, oof, settings, rule, rng = _measured_curve()
    more = (rng.random(60) < 0.25).astype(int)  # a round: 10% more rows, scored as well as before
    y2, oof2 = np.r_[y, more], np.r_[oof, more + rng.normal(0, 1.0, 60)]
    kept = carry(curve, entry, y2, oof2, settings, rule, "code")
    assert kept is not None and kept["points"] == curve["points"] and kept["rows"] == 600
    today = kept["today"]
    assert today["rows"] == 660 and today["positives"] == y2.sum()
    assert today["average_precision"] == pytest.approx(average_precision_score(y2, oof2))
    assert today["forecast"]["low"] <= today["average_precision"] <= today["forecast"]["high"]
    assert kept["verdict"] in (AT_TARGET, RISING, FLAT)
    # measured again: rows grown past the share, or not at all, or the setting changed, or an
    # earlier label changed, or the curve's code, or today's figure outside the interval
    many = (rng.random(200) < 0.25).astype(int)
    assert carry(curve, entry, np.r_[y, many], np.r_[oof, many + rng.normal(0, 1, 200)], settings, rule, "code") is None
    assert carry(curve, entry, y2, oof2, {**settings, "remeasure_growth": 0}, rule, "code") is None
    assert carry(curve, entry, y, oof, settings, rule, "code") is None
    assert carry(curve, {**entry, "params": {"C": 10.0}}, y2, oof2, settings, rule, "code") is None
    fixed = y2.copy()
    fixed[3] = 1 - fixed[3]
    assert carry(curve, entry, fixed, oof2, settings, rule, "code") is None
    assert carry(curve, entry, y2, oof2, settings, rule, "other code") is None
    assert carry(curve, entry, y2, rng.normal(0, 1, 660), settings, rule, "code") is None  # AP fell to chance
    # the report says which curve is carried, from how many rows, and how today's figure sat in it
    text = "\n".join(labels_pay_section({"settings": settings, "early_stop": rule, "themes": {"food": kept}}))
    assert "| food (curve of 600 rows)" in text and "**food**: curve measured at 600 rows" in text
    assert "today 660 rows" in text and "past +25% rows" in text


def test_the_stage_measures_each_theme_once_and_keeps_an_unchanged_theme(trained_copy, capsys, monkeypatch):
    from stages import learning_curve
    from themetag.pipeline import paths

    report = json.loads(paths.LEARNING_CURVE.read_text())  # written by the trained slice's run
    selection = json.loads(paths.SELECTION.read_text())
    assert set(report["themes"]) == set(selection)
    counts = {t: c["positives"] for t, c in report["themes"].items()}
    for t, c in report["themes"].items():
        if counts[t] < report["settings"]["min_positives"]:
            assert c["verdict"] == TOO_FEW and "forecast" not in c
            continue
        assert c["verdict"] in (AT_TARGET, RISING, FLAT)
        assert [p["fraction"] for p in c["points"]] == [0.25, 0.5, 0.75, 1.0]
        for f in c["forecast"].values():
            assert f["low"] <= f["average_precision"] <= f["high"] and f["no_gain"] == c["now"]["average_precision"]
        plot = pd.read_csv(paths.LEARNING_CURVES_DIR / f"{t}.csv")
        assert list(plot.columns) == ["positives", "measured_then_no_gain", "forecast", "low", "high"]
    assert any(c["verdict"] != TOO_FEW for c in report["themes"].values())
    capsys.readouterr()
    learning_curve.main()
    assert f"0 theme(s) measured, {len(selection)} unchanged" in capsys.readouterr().out
    assert json.loads(paths.LEARNING_CURVE.read_text()) == report
    # one theme's labels change: only it is measured again
    labels = pd.read_csv(paths.LABELS, keep_default_na=False)
    theme = max(counts, key=counts.get)
    labels.loc[labels.index[:3], theme] = 1 - labels.loc[labels.index[:3], theme]
    labels.to_csv(paths.LABELS, index=False)
    learning_curve.main()
    assert f"1 theme(s) measured, {len(selection) - 1} unchanged" in capsys.readouterr().out
    # the curve code changes: every theme is measured again, none keeps a figure the old code gave
    import themetag.curves.theme_curve as theme_curve

    monkeypatch.setattr(theme_curve, "code_digest", lambda: "other code")
    learning_curve.main()
    assert f"{len(selection)} theme(s) measured, 0 unchanged" in capsys.readouterr().out
