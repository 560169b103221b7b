import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# No analytics or update checks from the dvc commands the tests run.
os.environ.setdefault("DVC_NO_ANALYTICS", "1")
os.environ.setdefault("DVC_NO_UPDATER", "1")
# Files follow the umask (tests/test_file_modes.py checks it): use the common default.
os.umask(0o022)


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """A real bundle trained on a slice, smoke budget, with candidates in all three spaces."""
    from harness.trained import train_slice

    return train_slice(tmp_path_factory.mktemp("trained"), spaces="[tfidf,embeddings,tfidf_embeddings]")


@pytest.fixture
def trained_copy(trained, tmp_path, monkeypatch):
    """A copy of the trained slice (without its Optuna storage), as the working folder."""
    import shutil

    path = tmp_path / "p"
    shutil.copytree(trained, path, ignore=shutil.ignore_patterns(".optuna"))
    monkeypatch.chdir(path)
    return path
