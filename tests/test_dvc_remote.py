"""Share a trained model through a DVC remote: push, clone, pull the bundle, predict. No training
in the clone. The training CSV itself is DVC-tracked here, as for data too big for git."""

import subprocess
import sys

import pandas as pd

from harness.dvc_repo import DvcRepo


def predict(cwd, bundle: str, src, out) -> pd.DataFrame:
    cmd = [sys.executable, "-m", "themetag", "predict", "--input", str(src), "--output", str(out), "--bundle", bundle]
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return pd.read_csv(out, dtype=str, keep_default_na=False)


def test_push_clone_pull_predict_gives_the_same_tags_without_training(tmp_path):
    repo = DvcRepo(tmp_path / "team", train_rows=300, test_rows=40, overrides=["models.spaces=[tfidf]"])
    # training data too big for git: DVC tracks it, git tracks its .dvc file
    repo.run("git", "rm", "-q", "--cached", "data/train.csv")
    repo.run("dvc", "add", "-q", "data/train.csv")
    repo.commit("track the training CSV with DVC")
    repo.run("dvc", "repro", "package")  # the bundle and its manifest: all the clone pulls
    repo.run("dvc", "remote", "add", "-d", "shared", str(tmp_path / "remote"))
    repo.commit("trained, with a shared remote")
    repo.run("dvc", "push", "-q")
    repo.run("git", "tag", "v1")

    clone = tmp_path / "service"
    subprocess.run(["git", "clone", "-q", str(repo.path), str(clone)], check=True)
    assert not (clone / "models/bundle.joblib").exists()
    pull = subprocess.run(
        ["dvc", "pull", "models/bundle.joblib"], cwd=clone, env=repo.env, capture_output=True, text=True
    )
    assert pull.returncode == 0, pull.stderr
    trained = [p for p in (clone / "artifacts").rglob("*") if p.is_file() and p.name != ".gitignore"]
    assert not trained and not (clone / ".optuna").exists()  # nothing was trained here
    texts = repo.path / "data/test.csv"
    ours = predict(repo.path, "models/bundle.joblib", texts, tmp_path / "ours.csv")
    theirs = predict(clone, "models/bundle.joblib", texts, tmp_path / "theirs.csv")  # the hash check runs here
    pd.testing.assert_frame_equal(ours, theirs)

    # a service with no clone: `dvc get` of the tagged bundle, with its manifest beside it
    got = tmp_path / "get"
    got.mkdir()
    for rel in ("models/bundle.joblib", "models/bundle.json"):
        repo.run("dvc", "get", str(repo.path), rel, "--rev", "v1", "-o", str(got / rel.split("/")[-1]))
    assert (got / "bundle.json").exists()
    pd.testing.assert_frame_equal(predict(repo.path, str(got / "bundle.joblib"), texts, tmp_path / "got.csv"), ours)
