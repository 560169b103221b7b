"""The arithmetic behind two benchmark figures, on rows made up here."""

import numpy as np
import pytest

from bench.gap_skip import replay
from bench.label_review import best_mix


def test_best_mix_takes_the_best_split_between_the_two_labels():
    # positives scored low and negatives scored high are the candidates for a wrong label
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    s = np.array([0.1, 0.2, 0.8, 0.9, 0.95, 0.7, 0.1, 0.05])
    flipped = np.array([0, 1, 0, 0, 1, 1, 0, 0], dtype=bool)
    # the lowest positive is not flipped, the second is; the two highest negatives are flipped
    assert best_mix(y, s, flipped, 2) == 1.0  # both places to the negatives
    assert best_mix(y, s, flipped, 3) == 2 / 3  # no split of 3 places reaches the flipped positive alone
    assert best_mix(y, s, flipped, 4) == 3 / 4  # two positives (one flipped) and two negatives


def study(theme: str, values: list[float], fit_seconds: list[float], selected: bool = False) -> dict:
    """One costly study of rf on ``theme``, with the cheap candidates' best at 0.8."""
    return {
        "theme": theme,
        "candidate": "rf",
        "cheap_best": 0.8,
        "values": values,
        "fit_seconds": fit_seconds,
        "selected": selected,
    }


def test_gap_replay_counts_cuts_wrong_cuts_and_saved_time():
    studies = [
        study("a", [0.4, 0.5, 0.6], [1, 2, 3]),  # far behind and stays behind: a right cut, saves 2 + 3
        study("b", [0.5, 0.9], [1, 1], selected=True),  # far behind, then overtakes: a wrong cut
        study("c", [0.75, 0.7], [1, 1]),  # close after one trial: never cut
    ]
    r = replay(studies, after=1, allowance=0.1)
    assert (r["studies"], r["cut"], r["wrong"]) == (3, 2, 1)
    assert r["saved_share"] == (5 + 1) / 10
    assert "rf on b" in r["wrong_cuts"][0] and "(selected)" in r["wrong_cuts"][0]
    assert replay(studies, after=1, allowance=0.5)["cut"] == 0


def test_race_regret_counts_what_a_narrower_margin_would_have_lost():
    from bench.race_regret import regret

    screen = {
        "themes": {
            "a": {"candidates": {"x": {"best_value": 0.80}, "y": {"best_value": 0.78}}, "widening": 0.0},
            "b": {"candidates": {"x": {"best_value": 0.50}, "y": {"best_value": 0.49}}, "widening": 0.02},
        }
    }
    tuned = {"a": {"x": 0.81, "y": 0.83}, "b": {"x": 0.50, "y": 0.55}}
    # margin 0: on a only x goes on (0.02 behind loses y's 0.83); on b the widening keeps y
    assert regret(screen, tuned, 0.0) == {"a": 0.83 - 0.81, "b": 0.0}
    assert regret(screen, tuned, 0.03) == {"a": 0.0, "b": 0.0}


def test_labels_to_match_interpolates_on_the_curve_and_says_never():
    from bench.label_curves import labels_to_match

    added = np.array([0, 200, 400, 600, 800], dtype=float)
    assert labels_to_match(added, np.array([0.5, 0.6, 0.7, 0.8, 0.9]), 0.65) == pytest.approx(300)
    assert labels_to_match(added, np.array([0.5, 0.6, 0.7, 0.8, 0.9]), 0.4) == 0
    assert labels_to_match(added, np.array([0.5, 0.6, 0.6, 0.6, 0.6]), 0.61) is None


def test_curves_pair_seeds_and_give_the_headline_per_figure():
    from bench.label_curves import curves

    def rounds(figures: list[float], shift: float = 0.0) -> list[dict]:
        return [
            {
                "labelled": 500 + 200 * r,
                "test_macro_precision_at_recall_0.5": f,
                "test_macro_precision": f - 0.1,
                "test_macro_recall": 0.6,
                "theme_precision_at_recall_0.5": {"a": f, "b": f + shift},
                "theme_test": {"a": {"precision": f, "recall": 0.6}, "b": {"precision": f + shift, "recall": 0.6}},
            }
            for r, f in enumerate(figures)
        ]

    random = {"0": rounds([0.5, 0.55, 0.6, 0.65, 0.7]), "1": rounds([0.6, 0.65, 0.7, 0.75, 0.8])}
    # twice as fast as random on both seeds, and theme b always 0.05 behind
    fast = {"0": rounds([0.5, 0.6, 0.7, 0.8, 0.9], -0.05), "1": rounds([0.6, 0.7, 0.8, 0.9, 1.0], -0.05)}
    c = curves({"suggest": fast, "random": random}, start=500, prevalence={"a": 0.1, "b": 0.1})
    assert c["added"] == [0, 200, 400, 600, 800]
    headline = c["labels_to_match_random"]["suggest"]["precision_at_recall_0.5"]
    # theme b costs the macro 0.025: 0.725 at 400 added, 0.825 at 600, so random's 0.75 at 450
    assert headline["labels"] == pytest.approx(450) and headline["random_figure"] == pytest.approx(0.75)
    diff = c["figures"]["precision_at_recall_0.5"]["suggest"]["diff"]
    assert diff == pytest.approx([-0.025, 0.025, 0.075, 0.125, 0.175])
    worst = c["worst_theme"]["suggest"]["precision_at_recall_0.5"][0]
    assert worst["theme"] == "b" and worst["diff"] == pytest.approx(-0.05)


def test_a_theme_an_arm_has_not_trained_counts_at_its_prevalence_and_rule_figures_share_themes():
    from bench.label_curves import macro

    def record(themes: dict[str, float]) -> dict:
        return {
            "theme_precision_at_recall_0.5": themes,
            "theme_test": {t: {"precision": f, "recall": 0.5} for t, f in themes.items()},
        }

    rows = {"suggest": record({"a": 0.8, "rare": 0.4}), "random": record({"a": 0.9})}
    ranked = macro(rows, "precision_at_recall_0.5", ["a", "rare"], {"a": 0.3, "rare": 0.01})
    assert ranked == pytest.approx({"suggest": 0.6, "random": 0.455})  # random: rare at its prevalence
    assert macro(rows, "rule_precision", ["a", "rare"], {}) == pytest.approx({"suggest": 0.8, "random": 0.9})


def test_results_are_grouped_by_benchmark_and_each_names_its_command_and_commit():
    """bench/results/<benchmark>/: no loose files, a folder per script, and every result's .md
    says the command and the commit that made it, so a reader can tell which figure is current."""
    import re

    from bench.results_path import RESULTS, with_provenance

    assert not [p.name for p in RESULTS.iterdir() if p.is_file()]
    scripts = {p.stem for p in (RESULTS.parent).glob("*.py")}
    for folder in (p for p in RESULTS.iterdir() if p.is_dir() and p.name != "logs"):
        assert folder.name in scripts, folder
        for md in folder.glob("*.md"):
            line = next(x for x in md.read_text().splitlines()[1:] if x.strip())
            assert re.match(rf"Command: `python -m bench\.{folder.name}\b.*commit \w+", line), (md, line)
    made = with_provenance("label_round", "### a heading\n\nbody\n")
    assert re.match(r"### a heading\n\nCommand: `python -m bench\.label_round[^`]*`; commit [0-9a-f]+\+?\.\n", made)


def test_costly_trials_measures_the_gain_past_the_portfolio_and_whether_it_changed_a_winner(tmp_path):
    import json

    import pandas as pd

    from bench.costly_trials import studies

    trials = tmp_path / "run/artifacts/tune/costly/rf-tfidf/trials"
    trials.mkdir(parents=True)
    selection = {
        "a": {
            "candidate": "rf-tfidf",
            "candidates": {"rf-tfidf": {"objective": 0.86}, "logreg-tfidf": {"objective": 0.84}},
        },
        "b": {
            "candidate": "rf-tfidf",
            "candidates": {"rf-tfidf": {"objective": 0.70}, "logreg-tfidf": {"objective": 0.60}},
        },
        "c": {
            "candidate": "logreg-tfidf",
            "candidates": {"rf-tfidf": {"objective": 0.5}, "logreg-tfidf": {"objective": 0.9}},
        },
    }
    (tmp_path / "run/artifacts/selection.json").write_text(json.dumps(selection))

    def write(theme: str, values: list[float], states: list[str]) -> None:
        n = len(values)
        frame = {"number": range(n), "value": values, "state": states, "duration": ["0 days 00:00:02"] * n}
        pd.DataFrame(frame).to_csv(trials / f"{theme}.csv", index=False)

    write("a", [0.80, 0.86, 0.70], ["COMPLETE", "COMPLETE", "PRUNED"])  # the search won the theme: 0.80 < 0.84
    write("b", [0.70, 0.65], ["COMPLETE", "COMPLETE"])  # the portfolio (rf: one point) was the best
    write("c", [0.5], ["COMPLETE"])  # stopped at the portfolio: nothing past it to measure
    rows, stopped = studies(tmp_path / "run")
    assert stopped == 1
    by = {r["theme"]: r for r in rows}
    assert by["a"]["gain"] == pytest.approx(0.06) and by["a"]["winner at the portfolio"] == "logreg-tfidf"
    assert by["a"]["portfolio s"] == 2.0 and by["a"]["beyond s"] == 4.0
    assert by["b"]["gain"] == 0 and by["b"]["winner at the portfolio"] == "rf-tfidf"


def test_label_round_pairs_the_arms_on_the_same_test_rows(tmp_path):
    import pandas as pd

    from bench.label_round import paired

    y = np.array([1, 1, 1, 1, 0, 0, 0, 0, 1, 0] * 10)
    reuse = np.linspace(1, 0, len(y))  # ranks the first rows highest
    pd.DataFrame({"t": y}).to_csv(tmp_path / "labels.csv", index=False)
    pd.DataFrame({"t": reuse}).to_csv(tmp_path / "a.csv", index=False)
    pd.DataFrame({"t": reuse}).to_csv(tmp_path / "b.csv", index=False)
    fig = {"themes": {"t": {"threshold": 0.5, "precision": float(y[reuse >= 0.5].mean())}}}
    same = paired(tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "labels.csv", (fig, fig), n=200)["t"]
    assert same == {"paired_sd": 0.0, "matched": 0.0}  # one model against itself: no noise, no gap
    # the retune ranks the rows the other way round: at its test recall the reuse is ahead
    pd.DataFrame({"t": reuse[::-1]}).to_csv(tmp_path / "b.csv", index=False)
    got = paired(tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "labels.csv", (fig, fig), n=200)["t"]
    assert got["matched"] > 0 and got["paired_sd"] > 0
