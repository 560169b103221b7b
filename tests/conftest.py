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

# The modules that run real `dvc repro` copies, longest first (seconds on 2 cores, summed over each
# module's tests and fixtures, measured at 3c517d8). With `--no-loadscope-reorder` (pytest.ini) the
# workers take whole modules in collection order, so the longest start first and the short ones fill
# in around them; xdist's own order, by number of tests, started the longest module last, and the
# other worker sat idle while it ran. Order only: a module missing here runs after these.
LONGEST_FIRST = (
    "test_dvc_pipeline.py",  # 290 s
    "test_reuse.py",  # 220 s
    "test_distributed_tuning.py",  # 180 s
    "test_interrupt_and_determinism.py",  # 165 s
    "test_label_fixes.py",  # 130 s
    "test_encoder_probe.py",  # 65 s
    "test_dvc_remote.py",  # 50 s
    "test_race.py",  # 40 s
    "test_storage_secret.py",  # 40 s
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: a module's own order kept


@pytest.fixture(scope="session")
def trained(tmp_path_factory, worker_id):
    """A real bundle trained on a slice, smoke budget, with candidates in all three spaces: built
    once for all the test workers (the first to need it builds it, under a lock), and read only."""
    import shutil

    from filelock import FileLock

    from harness.trained import train_slice

    base = tmp_path_factory.getbasetemp()
    shared = base if worker_id == "master" else base.parent  # xdist: the workers' common folder
    path, done = shared / "trained", shared / "trained.done"
    with FileLock(str(shared / "trained.lock")):
        if not done.exists():
            shutil.rmtree(path, ignore_errors=True)  # a build an interrupted worker left half made
            path.mkdir()
            train_slice(path, spaces="[tfidf,embeddings,tfidf_embeddings]")
            done.touch()
    return path


@pytest.fixture
def trained_copy(trained, tmp_path, monkeypatch):
    """A copy of the trained slice (without its Optuna storage), as the working folder."""
    import shutil

    path = tmp_path / "p"
    shutil.copytree(trained, path, ignore=shutil.ignore_patterns(".optuna"))
    monkeypatch.chdir(path)
    return path
