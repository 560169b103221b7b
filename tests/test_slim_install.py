"""A service that only tags installs the package alone, without the ``[train]`` extra: in a fresh
venv, ``pip install <package>`` tags with a bundle the pipeline trained, gives the same tags as the
training environment, and no training library is installed or imported."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import venv

import pandas as pd
import pytest

from harness.dvc_repo import ROOT

# Top-level modules of the training stack (and of the optional extras).
TRAINING = ("dvc", "hydra", "omegaconf", "optuna", "iterstrat", "matplotlib", "psycopg2", "dask", "distributed")
TAG_AND_LIST = """
import json, sys
import pandas as pd
from themetag import tag_frame
batch = pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False)
tagged = tag_frame(batch, sys.argv[2], scores=True)
training = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(sys.argv[3])))
print(json.dumps({"tags": tagged["Predicted Themes"].fillna("").tolist(), "training": training}))
"""


def pinned_constraints(path) -> None:
    """requirements.txt's pins as a pip constraints file (no extras, no editable line), so the slim
    venv gets the versions the bundle was trained with and pip's cache serves them."""
    pins = []
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        found = re.match(r"^([A-Za-z0-9_.-]+)(\[[^\]]*\])?==([^\s#]+)", line)
        if found:
            pins.append(f"{found.group(1)}=={found.group(3)}")
    path.write_text("\n".join(pins) + "\n")


@pytest.fixture(scope="module")
def slim_python(tmp_path_factory):
    where = tmp_path_factory.mktemp("slim")
    source = where / "src"  # a copy, so that building the wheel leaves nothing in the repo
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "themetag", source / "themetag", ignore=shutil.ignore_patterns("__pycache__"))
    pinned_constraints(where / "constraints.txt")
    venv.create(where / "venv", with_pip=True)
    python = where / "venv" / "bin" / "python"
    install = [python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    proc = subprocess.run([*install, "-c", where / "constraints.txt", source], capture_output=True, text=True)
    if proc.returncode:
        pytest.fail(f"pip install of the slim package failed:\n{proc.stderr[-3000:]}")
    return python


def test_slim_install_has_no_training_library(slim_python):
    probe = "import importlib.util, json, sys; print(json.dumps([m for m in json.loads(sys.argv[1]) if importlib.util.find_spec(m)]))"
    out = subprocess.run([slim_python, "-c", probe, json.dumps(TRAINING)], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_slim_install_tags_as_the_training_environment(slim_python, trained, tmp_path):
    bundle = str((trained / "models/bundle.joblib").resolve())
    rows = pd.read_csv(trained / "data/test.csv", dtype=str, keep_default_na=False).head(150)
    rows.to_csv(tmp_path / "in.csv", index=False)
    here = [sys.executable, "-m", "themetag", "predict", "--input", "in.csv", "--bundle", bundle]
    subprocess.run([*here, "--output", "full.csv"], cwd=tmp_path, check=True, capture_output=True)
    slim_cli = [slim_python, "-m", "themetag", "predict", "--input", "in.csv", "--bundle", bundle]
    done = subprocess.run([*slim_cli, "--output", "slim.csv"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    full = pd.read_csv(tmp_path / "full.csv", dtype=str, keep_default_na=False)
    slim = pd.read_csv(tmp_path / "slim.csv", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(slim, full)
    assert full["Predicted Themes"].str.len().gt(0).sum() > 50  # the bundle tags, so the comparison means something

    # The library API too, and in the training environment (where the training stack *is*
    # installed) tagging still imports none of it.
    for python in (slim_python, sys.executable):
        out = subprocess.run(
            [python, "-c", TAG_AND_LIST, "in.csv", bundle, json.dumps(TRAINING)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )
        assert out.returncode == 0, out.stderr
        result = json.loads(out.stdout)
        assert result["tags"] == full["Predicted Themes"].tolist()
        assert result["training"] == [], f"{python} imported {result['training']} to tag"


def test_slim_install_says_what_a_training_command_needs(slim_python, tmp_path):
    done = subprocess.run([slim_python, "-m", "themetag", "check"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "themetag[train]" in done.stderr, done.stderr
