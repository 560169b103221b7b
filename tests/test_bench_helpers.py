"""The arithmetic behind two benchmark figures, on rows made up here."""

import numpy as np

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
