"""Only what changed reruns: real dvc, in a temporary git repository, on a slice, smoke budget."""

import json

import pytest

from harness.dvc_repo import DvcRepo

TUNES = {f"tune@{f}-{s}" for f in ("logreg", "linsvm", "nb") for s in ("tfidf", "embeddings")}
TFIDF_TUNES = {t for t in TUNES if t.endswith("-tfidf")}


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    r = DvcRepo(tmp_path_factory.mktemp("dvcrepo"))
    ran = r.repro()
    assert TUNES <= set(ran) and "evaluate" in ran and ran[-2:] == ["suggest", "report"]
    r.commit("after first repro")
    return r


def test_first_run_writes_metrics_and_results(repo):
    metrics = json.loads((repo.path / "metrics/metrics.json").read_text())
    assert {"cv", "cv_nested", "test"} <= metrics.keys()
    assert set(metrics["test"]["themes"]) == set(metrics["cv"]["themes"])
    assert "| theme" in (repo.path / "metrics/results.md").read_text()


def test_nothing_changed_runs_nothing(repo):
    assert repo.repro() == []
    assert "up to date" in repo.run("dvc", "status").stdout


def test_a_ledger_of_model_picked_rows_reruns_the_thresholds_and_no_tuning(repo):
    import pandas as pd

    from themetag.labelling.picked_rows import record_picked

    train = pd.read_csv(repo.path / "data/train.csv", dtype=str, keep_default_na=False)
    record_picked(repo.path / "data/picked.csv", train["Processed Text"].iloc[:100].tolist(), ["model"] * 100)
    ran = set(repo.repro())
    assert {"expand_labels", "thresholds", "package", "evaluate"} <= ran
    assert not ran & (TUNES | {"embed", "select", "train_final", "features"})
    chosen = json.loads((repo.path / "artifacts/thresholds.json").read_text())["themes"]
    assert {c["estimate_rows"]["model_picked_rows"] for c in chosen.values()} == {100}
    (repo.path / "data/picked.csv").unlink()
    repo.run("git", "checkout", "--", ".")
    repo.run("dvc", "checkout", "--force")
    assert "up to date" in repo.run("dvc", "status").stdout


def test_threshold_edit_reruns_thresholds_and_evaluation_only(repo):
    repo.edit("conf/thresholds/default.yaml", "min_recall: 0.5", "min_recall: 0.55")
    ran = set(repo.repro())
    assert {"compose", "thresholds", "package", "evaluate"} <= ran
    assert not ran & (TUNES | {"train_final", "embed", "features", "select", "learning_curve"})
    params = (repo.path / "params.yaml").read_text()
    assert "min_recall: 0.55" in params
    repo.commit("min_recall 0.55")


def test_plots_show_draws_every_plot_and_the_report_compares_with_the_last_commit(repo):
    import re

    repo.run("dvc", "plots", "show", "-o", "dvc_plots")
    html = (repo.path / "dvc_plots/index.html").read_text()
    ids = set(re.findall(r'<div id = "([^"]+)"', html))
    files = [p.relative_to(repo.path).as_posix() for p in (repo.path / "metrics").glob("p*/**/*.*")]
    themes = json.loads((repo.path / "metrics/metrics.json").read_text())["cv"]["themes"]
    expected = [f"metrics/{d}/{t}.{ext}" for t in themes for d, ext in (("pr_cv", "csv"), ("pr_test", "csv"))]
    expected += [f"metrics/plots/{d}/{t}.json" for t in themes for d in ("scores", "threshold")]
    expected += ["metrics/plots/confusions.json"]
    assert sorted(files) == sorted(expected)
    curves = sorted(p.relative_to(repo.path).as_posix() for p in (repo.path / "metrics/learning_curves").glob("*.csv"))
    assert curves  # a learning curve per measured theme
    assert {re.sub(r"\W", "_", f) for f in expected + curves} <= ids, sorted(ids)
    # each precision-recall plot names its theme, in show as in diff (a facet on the data's theme column)
    shown = json.loads(repo.run("dvc", "plots", "show", "--json").stdout)["data"]
    for t in themes:
        for d in ("pr_cv", "pr_test"):
            (entry,) = [v for k, v in shown.items() if k.endswith(f"metrics/{d}/{t}.csv")]
            content = json.dumps(entry)
            assert '"field": "theme"' in content and f'"theme": "{t}"' in content, (d, t)
    report = (repo.path / "metrics/report.md").read_text()
    assert report.startswith("# Report") and "| theme" in report and "## Files" in report
    # the threshold edit above was committed after its repro: HEAD's metrics.json is there to compare with
    assert "## Since the last commit" in report and "No committed metrics/metrics.json" not in report


def test_the_plots_page_opens_without_the_internet_and_reads_right(repo, tmp_path):
    """`dvc plots show` writes the project's page (.dvc/plots/page.html): Vega inline, UTF-8 declared.
    Rendered in headless Chromium with the network cut, every plot is drawn and a negative axis
    label reads as a minus sign, not as the mojibake a page without a character set gives."""
    import os
    import re

    from harness.browser import find_chromium, rendered_dom

    repo.run("dvc", "plots", "show", "-o", str(tmp_path / "page"))
    html = (tmp_path / "page/index.html").read_text(encoding="utf-8")
    assert '<meta charset="utf-8">' in html and "cdn.jsdelivr" not in html and "<script src=" not in html
    if find_chromium() is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium not found under CI; .ci/run installs Debian's chromium package")
        pytest.skip("Chromium not found; install Debian's chromium package")
    dom = rendered_dom(tmp_path / "page/index.html")
    plots = re.findall(r'<div id="?([^" >]+)"?[^>]*>', dom)
    drawn = dom.count('class="marks"')  # vega-embed's <svg class="marks"> per drawn plot
    assert drawn == html.count("vegaEmbed('#") and drawn >= 20, (drawn, len(plots))
    labels = re.findall(r"<text[^>]*>([^<]*)</text>", dom)
    assert any(t.startswith("\u2212") for t in labels), labels[:40]  # a negative threshold on an axis
    assert not any("\u00e2" in t for t in labels)


def test_family_space_edit_reruns_that_family_only(repo):
    repo.edit("conf/families/nb.yaml", "high: 2.0", "high: 1.5")
    ran = set(repo.repro())
    # the screen reruns (it reads every family) and gives the same race, so no other tune stage reruns
    assert {"screen", "tune@nb-tfidf", "tune@nb-embeddings"} <= ran  # the second one reports its skip again
    assert not ran & (TUNES - {"tune@nb-tfidf", "tune@nb-embeddings"})
    repo.commit("nb space")


def test_an_encoder_code_edit_reruns_the_stages_that_encode_and_no_tuning(repo):
    repo.edit("themetag/features/encoder.py", '"""Sentence embeddings', '"""(edited) Sentence embeddings')
    ran = set(repo.repro())
    assert {"embed", "train_final", "evaluate"} <= ran, ran
    # the same models come out, so the manifest (package reads no encoder code) is not rewritten
    assert not ran & (TUNES | {"screen", "select", "features", "package"}), ran
    repo.commit("encoder docstring")


def test_embeddings_edit_reruns_no_tfidf_candidate(repo):
    repo.edit("conf/features/embeddings.yaml", "max_tokens: 256", "max_tokens: 64")
    ran = set(repo.repro())
    assert {"embed", "features", "tune@logreg-embeddings", "tune@linsvm-embeddings"} <= ran
    assert not ran & TFIDF_TUNES
    repo.commit("embeddings max_tokens 64")


def test_results_show_family_and_space_and_skips_are_reported(repo):
    metrics = json.loads((repo.path / "metrics/metrics.json").read_text())
    for m in metrics["test"]["themes"].values():
        assert m["model"] in {"logreg", "linsvm", "nb"} and m["space"] in {"tfidf", "embeddings"}
    assert "| space" in (repo.path / "metrics/results.md").read_text()
    tuning = json.loads((repo.path / "metrics/tuning.json").read_text())
    assert "nb needs non-negative input" in tuning["skipped"]["nb-embeddings"]
    assert sum(tuning["spaces"].values()) == len(metrics["test"]["themes"])


def test_exp_run_set_param_reruns_no_tuning_and_metrics_diff_shows_it(repo):
    out = repo.run("dvc", "exp", "run", "-S", "thresholds.min_recall=0.8").stdout
    from harness.dvc_repo import stages_run

    ran = set(stages_run(out))
    # compose reruns on any setting (it checks every value's range) and writes nothing new
    assert "thresholds" in ran and not ran & TUNES and "compose" in ran
    assert "min_recall: 0.8" in (repo.path / "params.yaml").read_text()
    diff = repo.run("dvc", "metrics", "diff").stdout
    assert "metrics/metrics.json" in diff and "recall" in diff
    repo.run("git", "checkout", "--", ".")
    repo.run("dvc", "checkout", "--force")


def test_another_threshold_rule_by_name_reruns_only_the_stages_after_the_thresholds(repo):
    """Which stages rerun does not depend on the rule; cost_ratio is the one whose choice can be to
    tag nothing (an infinite threshold) that every later stage must carry. Each rule's choices are
    tested against brute force in tests/test_threshold_rule.py."""
    from harness.dvc_repo import stages_run

    rule = "cost_ratio"
    ran = set(stages_run(repo.run("dvc", "exp", "run", "-S", f"thresholds.rule={rule}").stdout))
    # suggestions sit at the thresholds; the report reads the selected out-of-fold scores, no tuning output
    assert ran == {"compose", "thresholds", "package", "evaluate", "suggest", "report"}, ran
    chosen = json.loads((repo.path / "artifacts/thresholds.json").read_text())["themes"]
    assert {c["rule"] for c in chosen.values()} <= {rule, "fallback_best_f1", "cost_ratio_tag_nothing"}
    assert all("met_target" in c for c in chosen.values())
    repo.run("git", "checkout", "--", ".")
    repo.run("dvc", "checkout", "--force")


def test_queued_sweep_runs(repo):
    repo.run("dvc", "exp", "run", "--queue", "-S", "thresholds.min_recall=0.6,0.7")
    repo.run("dvc", "exp", "run", "--run-all", "-j", "1")
    shown = repo.run("dvc", "exp", "show", "--json").stdout
    experiments = json.loads(shown)
    values = set()
    for rev in experiments:
        for exp in rev.get("experiments") or []:
            for run in exp.get("revs", []):
                params = run["data"]["params"]["params.yaml"]["data"]
                values.add(params["thresholds"]["min_recall"])
    assert {0.6, 0.7} <= values
