"""Tune rarely, refit often: the tuning record, its checks, the refit and when a theme is tuned again."""

import json
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from harness.dvc_repo import ROOT, DvcRepo
from stages import expand_labels, report, reuse, select
from themetag.errors import InputError
from themetag.labelling.keep_tuning import keep
from themetag.pipeline.params import load_params
from themetag.tuning.record import applies, read_record
from themetag.tuning.reuse import after_refit, before_refit, paired_sd, switch

SETTINGS = {"max_growth": 0.5, "drop_sd": 2.0, "retune": []}


@pytest.fixture
def project(trained_copy):
    return trained_copy


def one_line(err) -> str:
    msg = str(err.value)
    assert "\n" not in msg
    return msg


def test_keep_tuning_writes_a_record_that_a_hand_edit_or_damage_stops_in_one_line(project):
    selection = json.loads((project / "artifacts/selection.json").read_text())
    said = keep(load_params(resolve=False))
    assert (
        said
        == f"keep-tuning: {len(selection)} themes' tuning kept in data/tuning_record.json (commit it with the data)"
    )
    record = read_record("data/tuning_record.json")
    assert {t: e["params"] for t, e in record["themes"].items()} == {t: s["params"] for t, s in selection.items()}
    assert record["encoder"] == {"model": "all-MiniLM-L6-v2", "max_tokens": 256}
    assert keep(load_params(resolve=False), quiet_if_same=True) is None  # the same run: nothing to write
    text = (project / "data/tuning_record.json").read_text()
    theme = next(iter(record["themes"]))
    edited = json.loads(text)
    edited["themes"][theme]["value"] = 0.99
    (project / "data/tuning_record.json").write_text(json.dumps(edited))
    with pytest.raises(InputError) as err:
        expand_labels.main()
    msg = one_line(err)
    assert "data/tuning_record.json" in msg and "checksum" in msg and "git checkout" in msg and "keep-tuning" in msg
    (project / "data/tuning_record.json").write_text(text[: len(text) // 2])
    with pytest.raises(InputError) as err:
        expand_labels.main()
    assert "data/tuning_record.json: not a readable tuning record" in one_line(err)


def test_refitting_the_record_on_the_same_folds_gives_the_tuned_scores_bit_for_bit(project):
    before_oof = (project / "artifacts/selected_oof.csv").read_bytes()
    before = json.loads((project / "artifacts/selection.json").read_text())
    keep(load_params(resolve=False))
    expand_labels.main()
    reuse.main()
    summary = json.loads((project / "artifacts/reuse/summary.json").read_text())
    assert summary["applied"] and {r["action"] for r in summary["themes"].values()} == {"refit"}
    plans = [json.loads(p.read_text()) for p in (project / "artifacts/reuse/plan").glob("*.json")]
    assert plans and all(p.get("themes", {}) == {} for p in plans)  # no study left to run
    select.main()
    after = json.loads((project / "artifacts/selection.json").read_text())
    assert {t: (s["candidate"], s["params"]) for t, s in after.items()} == {
        t: (s["candidate"], s["params"]) for t, s in before.items()
    }
    assert (project / "artifacts/selected_oof.csv").read_bytes() == before_oof
    for r in summary["themes"].values():
        assert r["value"] == pytest.approx(r["record_value"], abs=1e-9)
    report.main()
    page = (project / "metrics/report.md").read_text()
    assert "## Tuning: refitted or tuned again" in page and "8 of 8 themes refitted" in page


def test_train_final_takes_the_refits_fold_models_whose_scores_chose_the_thresholds(project, capsys):
    """A refitted theme's bag members are the reuse stage's fold models, the very models whose
    out-of-fold scores chose its threshold (to oof.csv's 9 digits); fitting them again in train_final gave
    the same models up to float32 round-off (1e-6 in a coefficient)."""
    from stages import package, train_final
    from themetag.features.spaces import load_fold_matrices
    from themetag.modelling.families import score
    from themetag.tagging.bundle import load_bundle

    keep(load_params(resolve=False))
    expand_labels.main()
    reuse.main()
    select.main()
    selection = json.loads((project / "artifacts/selection.json").read_text())
    capsys.readouterr()
    train_final.main()
    assert f"{len(selection)} theme(s) taken from the reuse stage's refits" in capsys.readouterr().out
    package.main()
    taken = load_bundle(project / "models/bundle.joblib")
    oof = pd.read_csv(project / "artifacts/reuse/oof.csv")
    params = load_params()
    for theme, sel in selection.items():
        mats = load_fold_matrices(params, sel["space"])
        for k, model in enumerate(taken.models[theme]):
            # oof.csv keeps 9 significant digits
            np.testing.assert_allclose(
                score(model, mats.X_valid[k]), oof[theme].to_numpy()[mats.valid_idx[k]], rtol=1e-8, err_msg=theme
            )
    (project / "artifacts/reuse/models.joblib").unlink()
    train_final.main()
    assert "taken from" not in capsys.readouterr().out
    package.main()
    fitted = load_bundle(project / "models/bundle.joblib")
    texts = pd.read_csv(project / "artifacts/labels.csv", keep_default_na=False)["text"].tolist()[:200]
    np.testing.assert_allclose(fitted.scores(texts), taken.scores(texts), rtol=0, atol=1e-4)


def test_a_record_for_other_settings_or_themes_is_never_applied_silently(project, capsys):
    keep(load_params(resolve=False))
    params = yaml.safe_load((project / "params.yaml").read_text())
    record = read_record("data/tuning_record.json")
    ok, why = applies(record, {**params, "tuning": {**params["tuning"], "n_trials": 99}})
    assert not ok and "tuning" in why
    assert applies(record, {**params, "tuning": {**params["tuning"], "n_jobs": 1, "storage": "journal:x"}})[0]
    params["tuning"]["early_stop"]["min_precision"] = 0.8
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    expand_labels.main()
    reuse.main()
    assert "tuned under other tuning settings; every theme is tuned" in capsys.readouterr().out
    summary = json.loads((project / "artifacts/reuse/summary.json").read_text())
    assert not summary["applied"] and {r["action"] for r in summary["themes"].values()} == {"tune"}
    plan = json.loads((project / "artifacts/reuse/plan/logreg-tfidf.json").read_text())
    assert set(plan["themes"]) == set(summary["themes"]) and plan["features_sha256"]


def test_when_a_theme_is_tuned_again():
    entry = {"rows": 1000, "positives": 100, "value": 0.9}
    assert before_refit(None, "new", 1000, 100, SETTINGS).startswith("new theme")
    assert before_refit(entry, "t", 1500, 100, SETTINGS) is None  # exactly the share: kept
    assert "rows grew 51%" in before_refit(entry, "t", 1510, 100, SETTINGS)
    assert "positives grew 60%" in before_refit(entry, "t", 1100, 160, SETTINGS)
    assert "reuse.retune" in before_refit(entry, "t", 1000, 100, {**SETTINGS, "retune": "all"})
    assert "reuse.retune" in before_refit(entry, "t", 1000, 100, {**SETTINGS, "retune": ["t"]})
    assert before_refit(entry, "u", 1000, 100, {**SETTINGS, "retune": ["t"]}) is None
    # the bound follows the theme's size: the same fall is noise on 20 positives, drift on 2,000
    small, large = {**entry, "positives": 20}, {**entry, "positives": 2000}
    assert after_refit(small, 0.85, 20, 0.5, SETTINGS) is None
    assert "fell 0.050 below the record's 0.900" in after_refit(large, 0.85, 2000, 0.5, SETTINGS)
    # a record at precision 1.0 carries a recall bonus (1.0 + recall): a refit at 0.96 has not fallen by it
    medium = {**entry, "positives": 200}
    assert after_refit({**medium, "value": 1.55}, 0.96, 200, 0.5, SETTINGS) is None
    assert "fell 0.100 below the record's 1.000" in after_refit({**medium, "value": 1.55}, 0.9, 200, 0.5, SETTINGS)


def test_labelling_rounds_refit_rerun_no_tuning_and_a_fresh_clone_reproduces_them(tmp_path):
    """Real dvc: a cold run, a round (append-batch keeps the tuning), a second round that runs no
    tune stage, a third whose new theme alone is tuned; then a clone of that commit with no
    cache reproduces its metrics and bundle byte for byte. Each run stops at evaluate, which writes
    the metrics: the stages after it (suggest, report) and beside it (review, learning_curve) read
    the same refits and test nothing more here."""
    # one family: the rounds' refits and what reruns do not depend on how many candidates compete
    repo = DvcRepo(tmp_path / "p", train_rows=400, test_rows=60, overrides=["models.families=[logreg]"])
    src = pd.read_csv(repo.path / "data/train.csv", dtype=str, keep_default_na=False)
    extra = pd.read_csv(ROOT / "data/train.csv", dtype=str, keep_default_na=False)
    extra = extra.iloc[len(src) :]
    repo.repro("evaluate")
    repo.commit("cold")

    def round_(batch: pd.DataFrame, name: str) -> tuple[list[str], dict]:
        batch.to_csv(tmp_path / f"{name}.csv", index=False)
        out = repo.run(sys.executable, "-m", "themetag", "append-batch", str(tmp_path / f"{name}.csv")).stdout
        assert f"{len(batch)} rows appended" in out
        ran = repo.repro("evaluate")
        repo.commit(name)
        return ran, json.loads((repo.path / "artifacts/reuse/summary.json").read_text())

    ran, summary = round_(extra.iloc[:40], "round-1")
    assert (repo.path / "data/tuning_record.json").is_file() and summary["applied"]
    assert {r["action"] for r in summary["themes"].values()} == {"refit"}, summary
    ran, summary = round_(extra.iloc[40:80], "round-2")
    assert "reuse" in ran and "thresholds" in ran and "train_final" in ran
    # the encoder stage reads the record for its encoder, so it reruns (building nothing) when a
    # runner-up took a theme in the round before and the record changed
    assert not [s for s in ran if s.startswith(("tune", "screen"))], ran
    new = pd.DataFrame(
        {
            "Processed Text": [
                f"We circled the block {i + 2} times before a parking space came free" for i in range(16)
            ],
            "Themes": "parking",
        }
    )
    ran, summary = round_(new, "round-3")
    assert summary["themes"]["parking"] == {"action": "tune", "why": "new theme (not in the record)", "positives": 16}
    assert {r["action"] for t, r in summary["themes"].items() if t != "parking"} == {"refit"}
    plan = json.loads((repo.path / "artifacts/reuse/plan/logreg-tfidf.json").read_text())
    assert list(plan["themes"]) == ["parking"]
    assert "tune@logreg-tfidf" in ran
    tuned = json.loads((repo.path / "artifacts/tune/first/logreg-tfidf/summary.json").read_text())
    assert [r["theme"] for r in tuned["themes"]] == ["parking"]

    clone = tmp_path / "clone"
    repo.run("git", "clone", "-q", str(repo.path), str(clone))
    fresh = DvcRepo.open(clone)
    fresh.run("dvc", "repro", "evaluate")
    for rel in ("metrics/metrics.json", "metrics/encoding.json", "models/bundle.json", "data/tuning_record.json"):
        assert (clone / rel).read_bytes() == (repo.path / rel).read_bytes(), rel
    scores = [pd.read_csv(p / "artifacts/selected_oof.csv").to_numpy() for p in (repo.path, clone)]
    assert np.array_equal(*scores)


def test_a_runner_up_that_refits_better_takes_the_theme_and_the_next_record_keeps_it(project):
    """As rows grow another candidate can overtake the one tuned on fewer: with reuse.challengers,
    a round refits each theme's runner-up on another space beside its setting and keeps whichever
    ranks first."""
    from themetag.tuning.record import promote, sealed

    params = yaml.safe_load((project / "params.yaml").read_text())
    assert params["reuse"]["challengers"] == 1 and params["reuse"]["switch_sd"] > 0  # the defaults
    params["reuse"]["challengers"] = 0
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    select.main()
    assert not any(
        e["challengers"] for e in json.loads((project / "artifacts/tuning_record.json").read_text())["themes"].values()
    )
    # the winner led its runner-up by a tuned margin, perhaps within the noise: with no switch
    # margin, whichever refits better takes the theme (test_switch covers the margin)
    params["reuse"].update(challengers=1, switch_sd=0.0)
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    before = json.loads((project / "artifacts/selection.json").read_text())
    before_oof = pd.read_csv(project / "artifacts/selected_oof.csv")
    select.main()  # the tuned run's record, now with each theme's runner-up
    keep(load_params(resolve=False))
    path = project / "data/tuning_record.json"
    record = json.loads(path.read_text())
    theme, entry = next(
        (t, e)
        for t, e in record["themes"].items()
        if e["challengers"]
        and (e["value"], e["average_precision"])
        > (e["challengers"][0]["value"], e["challengers"][0]["average_precision"])
    )
    winner, runner_up = entry["candidate"], entry["challengers"][0]["candidate"]
    # a record whose setting is the runner-up: the winner is now its challenger
    record["themes"][theme] = promote(entry, runner_up)
    path.write_text(json.dumps(sealed(record)))
    expand_labels.main()
    reuse.main()
    got = json.loads((project / "artifacts/reuse/summary.json").read_text())["themes"][theme]
    assert got["action"] == "refit" and got["candidate"] == runner_up and got["setting"]["candidate"] == winner
    assert set(got["refits"]) == {winner, runner_up}
    select.main()
    after = json.loads((project / "artifacts/selection.json").read_text())
    assert (after[theme]["candidate"], after[theme]["params"]) == (winner, before[theme]["params"])
    assert pd.read_csv(project / "artifacts/selected_oof.csv")[theme].equals(before_oof[theme])
    kept = json.loads((project / "artifacts/tuning_record.json").read_text())["themes"][theme]
    assert kept["candidate"] == winner and kept["challengers"][0]["candidate"] == runner_up
    assert (kept["rows"], kept["positives"]) == (entry["rows"], entry["positives"])  # the growth rule still runs

    record["themes"][theme]["challengers"] = [{"candidate": winner}]
    path.write_text(json.dumps(sealed(record)))
    with pytest.raises(InputError) as err:
        expand_labels.main()
    assert "malformed challengers" in one_line(err) and "keep-tuning" in one_line(err)


def test_a_runner_up_takes_the_theme_only_by_a_margin_beyond_the_noise_of_the_difference():
    """A near-tie keeps the recorded setting (nothing downstream reruns for noise); a clear lead,
    in sds of the paired bootstrap difference, switches; the record wins an exact tie."""
    rng = np.random.default_rng(0)
    y = (rng.random(2000) < 0.2).astype(int)
    base = y + rng.normal(0, 0.7, len(y))
    near = base + rng.normal(0, 0.02, len(y))  # the same ranking but for a little noise
    clear = y + rng.normal(0, 0.35, len(y))  # separates the classes far better
    fig = {"objective": 0.0, "average_precision": 0.0}

    def refits(other, lead):
        return {
            "rec": {"figures": fig, "oof": base},
            "run": {"figures": {**fig, "objective": lead}, "oof": other},
        }

    sd = paired_sd(y, base, near, "objective", 0.5)
    assert 0 < sd < 0.05
    kept, why = switch("rec", refits(near, 0.5 * sd), y, "objective", 0.5, 2.0)
    assert kept == "rec" and why["runner_up"] == "run" and not why["switched"] and why["sd"] == round(sd, 6)
    near_tie = why
    assert switch("rec", refits(near, 0.5 * sd), y, "objective", 0.5, 0.0)[0] == "run"
    assert switch("rec", refits(near, 0.0), y, "objective", 0.5, 0.0) == ("rec", None)  # a tie: the record
    lead = paired_sd(y, base, clear, "objective", 0.5) * 3
    kept, why = switch("rec", refits(clear, lead), y, "objective", 0.5, 2.0)
    assert kept == "run" and why["switched"]
    # the average-precision criterion measures its own figure's noise
    ap = {
        "rec": {"figures": {"average_precision": 0.5}, "oof": base},
        "run": {"figures": {"average_precision": 0.9}, "oof": clear},
    }
    assert switch("rec", ap, y, "average_precision", 0.5, 2.0)[1]["figure"] == "average_precision"
    from themetag.reporting.reuse_note import reuse_section

    theme = {"action": "refit", "why": None, "candidate": "rec", "setting": {"candidate": "rec"}, "switch": near_tie}
    page = "\n".join(reuse_section({"applied": True, "record": "r.json", "themes": {"t": theme}}))
    assert "runner-up's lead" in page and "run +0.00" in page and "(0.5 sd): kept the record" in page
