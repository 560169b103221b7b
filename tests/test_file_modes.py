"""Files the pipeline writes follow the user's umask, as any other tool's do (not 0600)."""

import os
import stat
import subprocess
import sys

import pytest

from harness.dvc_repo import ROOT
from themetag.atomic import write_json


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077])
def test_atomic_writes_follow_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        write_json(tmp_path / "m.json", {"a": 1})
    finally:
        os.umask(old)
    assert mode(tmp_path / "m.json") == 0o666 & ~umask


def test_pipeline_and_predict_outputs_are_readable_by_the_group_and_others(trained, tmp_path):
    for rel in ("metrics/metrics.json", "metrics/results.md", "metrics/themes.json", "metrics/themes.md"):
        assert mode(trained / rel) == 0o666 & ~0o022, rel  # the tests run with umask 022 (.ci/run sets it)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "themetag",
            "predict",
            "--input",
            str(trained / "data/test.csv"),
            "--output",
            str(tmp_path / "out.csv"),
            "--bundle",
            str(trained / "models/bundle.joblib"),
            "--summary",
            str(tmp_path / "tags.md"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        preexec_fn=lambda: os.umask(0o022),
    )
    assert proc.returncode == 0, proc.stderr
    for name in ("out.csv", "tags.md", "tags.png"):
        assert mode(tmp_path / name) == 0o644, name
