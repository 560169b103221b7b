"""The review ledger (data/label_fixes.csv): decisions applied on top of train.csv, keyed by text,
never asked again; the fold-in command; real dvc for what reruns."""

import json

import pandas as pd
import pytest

from harness.dvc_repo import DvcRepo
from themetag.data.label_fixes import Decision, apply_ledger, read_ledger, text_fingerprint
from themetag.errors import InputError


def ledger(tmp_path, body: str):
    path = tmp_path / "label_fixes.csv"
    path.write_text("fingerprint,line,theme,decision,by,date,note\n" + body)
    return path


def test_fingerprint_ignores_case_spacing_and_unicode_form():
    assert text_fingerprint("The  Waiter\twas RUDE ") == text_fingerprint("the waiter was rude")
    assert text_fingerprint("ﬁne") == text_fingerprint("fine")  # NFKC folds the ligature
    assert text_fingerprint("the waiter was rude") != text_fingerprint("the waiter was kind")


@pytest.mark.parametrize(
    "body, words",
    [
        ("0123456789abcdef,5,food,maybe,,,\n", ["line 2", "decision 'maybe'", "add, remove, keep"]),
        ("12345,5,food,add,,,\n", ["line 2", "not a text fingerprint"]),
        ("0123456789abcdef,5,,add,,,\n", ["line 2", "'theme' is empty"]),
        ("0123456789abcdef,5,food,add,,,\n0123456789abcdef,9,Food,remove,,,\n", ["line 3", "line 2", "'food'"]),
    ],
)
def test_malformed_ledger_is_one_line_naming_the_row(tmp_path, body, words):
    with pytest.raises(InputError) as err:
        read_ledger(ledger(tmp_path, body), str.lower)
    message = str(err.value)
    assert "\n" not in message and "label_fixes.csv" in message
    assert all(w in message for w in words), message


def test_missing_column_and_absent_file(tmp_path):
    path = tmp_path / "label_fixes.csv"
    assert read_ledger(path) == []  # the ledger is optional
    path.write_text("fingerprint,theme\n")
    with pytest.raises(InputError, match="no column 'decision'"):
        read_ledger(path)


def test_apply_adds_removes_keeps_and_reports_stale():
    texts = ["great pasta", "rude waiter", "Great  pasta", "nice view"]
    fps = [text_fingerprint(t) for t in texts]
    lists = [["food"], ["food", "staff"], ["food"], []]
    gone = text_fingerprint("a text no longer there")
    decisions = [
        Decision(fps[1], "food", "remove", "line 2"),
        Decision(fps[3], "ambience", "add", "line 3"),
        Decision(fps[0], "staff", "keep", "line 4"),
        Decision(fps[0], "food", "add", "line 5"),  # no-op: both copies have it
        Decision(gone, "food", "add", "line 6"),
    ]
    out, report = apply_ledger(fps, lists, decisions)
    assert out == [["food"], ["staff"], ["food"], ["ambience"]]
    assert [f["ledger"] for f in report.applied] == ["line 2", "line 3"]
    assert [f["ledger"] for f in report.kept] == ["line 4"] and report.kept[0]["rows"] == ["line 2", "line 4"]
    stale = {f["ledger"]: f["reason"] for f in report.stale}
    assert "no-op" in stale["line 5"] and "no longer" in stale["line 6"]


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    r = DvcRepo(
        tmp_path_factory.mktemp("ledger"),
        train_rows=400,
        test_rows=60,
        overrides=["models.families=[logreg]", "models.spaces=[tfidf]"],
    )
    r.repro()
    r.commit("first run")
    return r


def labels_of(repo, text: str) -> dict:
    table = pd.read_csv(repo.path / "artifacts/labels.csv", keep_default_na=False)
    return table[table["text"] == text].iloc[0].drop("text").to_dict()


def test_review_decisions_fold_into_the_ledger_and_change_the_labels(repo):
    review_path = repo.path / "metrics/label_review.csv"
    review = pd.read_csv(review_path, dtype=str, keep_default_na=False)
    assert {"fingerprint", "decision", "note"} <= set(review.columns) and (review["decision"] == "").all()
    pos = review[review["label"] == "1"].iloc[0]
    neg = review[(review["label"] == "0") & (review["text"] != pos["text"])].iloc[0]
    kept = review[~review["text"].isin([pos["text"], neg["text"]])].iloc[0]
    review.loc[pos.name, "decision"] = "remove"
    review.loc[neg.name, "decision"] = "add"
    review.loc[kept.name, "decision"] = "keep"
    review.to_csv(review_path, index=False)

    # not folded yet: the review stage refuses to overwrite the decisions, in one line
    refused = repo.run("dvc", "repro", "review", check=False)
    assert refused.returncode != 0 and "not in the ledger yet" in refused.stderr + refused.stdout
    assert "Traceback" not in refused.stderr

    folded = repo.run("python", "-m", "themetag", "fold-review", "--by", "tester")
    assert "3 decisions (1 add, 1 remove, 1 keep)" in folded.stdout
    fixes = pd.read_csv(repo.path / "data/label_fixes.csv", dtype=str, keep_default_na=False)
    assert len(fixes) == 3 and set(fixes["by"]) == {"tester"}

    ran = repo.repro()
    assert ran[0] == "expand_labels", ran
    assert labels_of(repo, pos["text"])[pos["theme"]] == 0
    assert labels_of(repo, neg["text"])[neg["theme"]] == 1
    new_review = pd.read_csv(review_path, dtype=str, keep_default_na=False)
    pairs = set(zip(new_review["fingerprint"], new_review["theme"], strict=True))
    for row in (pos, neg, kept):
        assert (row["fingerprint"], row["theme"]) not in pairs
    report = json.loads((repo.path / "metrics/themes.json").read_text())["fixes"]
    assert len(report["applied"]) == 2 and len(report["kept"]) == 1 and not report["stale"]
    assert "## Label fixes" in (repo.path / "metrics/themes.md").read_text()
    assert (repo.path / "data/train.csv").read_text() == repo.run("git", "show", "HEAD:data/train.csv").stdout
    repo.commit("three decisions")


def test_decisions_survive_rows_moving_and_a_stale_one_is_reported(repo):
    train = pd.read_csv(repo.path / "data/train.csv", dtype=str, keep_default_na=False)
    fixes = pd.read_csv(repo.path / "data/label_fixes.csv", dtype=str, keep_default_na=False)
    remove = fixes[fixes["decision"] == "remove"].iloc[0]
    moved = train.iloc[::-1]  # every row on another line
    gone = train["Processed Text"].map(text_fingerprint)
    keep_fp = fixes[fixes["decision"] == "keep"].iloc[0]["fingerprint"]
    moved[gone.iloc[::-1] != keep_fp].to_csv(repo.path / "data/train.csv", index=False)
    repo.repro("expand_labels")  # the stage that applies the ledger and reports on it
    text = train["Processed Text"][gone == remove["fingerprint"]].iloc[0]
    assert labels_of(repo, text)[remove["theme"]] == 0
    report = json.loads((repo.path / "metrics/themes.json").read_text())["fixes"]
    assert [s["decision"] for s in report["stale"]] == ["keep"]
    assert "no longer in the training CSV" in report["stale"][0]["reason"]
    # a review filled in before the CSV changed is refused whole
    review = pd.read_csv(repo.path / "metrics/label_review.csv", dtype=str, keep_default_na=False)
    review.loc[0, "line"] = str(int(review.loc[0, "line"]) + 1)
    review.loc[0, "decision"] = "keep"
    stale_review = repo.path / "old_review.csv"
    review.to_csv(stale_review, index=False)
    refused = repo.run("python", "-m", "themetag", "fold-review", "--review", str(stale_review), check=False)
    assert refused.returncode == 2 and "review is older than the CSV" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    repo.run("git", "checkout", "--", "data/train.csv")  # the tests after this one read the CSV, not the run


def test_malformed_ledger_stops_dvc_repro_in_one_line(repo):
    path = repo.path / "data/label_fixes.csv"
    good = path.read_text()
    path.write_text(good + "0123456789abcdef,7,food,yes,,,\n")
    failed = repo.run("dvc", "repro", check=False)
    assert failed.returncode != 0
    line = [ln for ln in failed.stderr.splitlines() if ln.startswith("error: ")]
    assert line and "label_fixes.csv" in line[0] and "decision 'yes'" in line[0], failed.stderr
    assert "Traceback" not in failed.stderr
    path.write_text(good)


def test_one_decision_by_line(repo):
    train = pd.read_csv(repo.path / "data/train.csv", dtype=str, keep_default_na=False)
    line = 2 + int(train.index[~train["Themes"].str.contains("price")][0])
    out = repo.run(
        "python", "-m", "themetag", "fold-review", "--line", str(line), "--theme", "Price", "--decision", "add"
    )
    assert "1 decisions (1 add" in out.stdout
    fixes = pd.read_csv(repo.path / "data/label_fixes.csv", dtype=str, keep_default_na=False)
    assert fixes.iloc[-1]["theme"] == "price" and fixes.iloc[-1]["line"] == str(line)
    wrong = repo.run(
        "python",
        "-m",
        "themetag",
        "fold-review",
        "--line",
        str(line),
        "--theme",
        "price",
        "--decision",
        "remove",
        check=False,
    )
    assert wrong.returncode == 2 and "does not have theme 'price'" in wrong.stderr
