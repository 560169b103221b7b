"""The ``themetag`` console script: --help on every subcommand, exit codes a shell can use, and
one-line errors."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.dvc_repo import ROOT
from themetag.cli import COMMANDS

SCRIPT = Path(sys.executable).parent / "themetag"  # installed by requirements.txt's `-e .`


def themetag(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPT), *args], cwd=cwd, capture_output=True, text=True)


def test_top_level_help_lists_every_command():
    done = themetag("--help")
    assert done.returncode == 0
    assert all(name in done.stdout for name in COMMANDS)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help(command):
    done = themetag(command, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: themetag {command}")


def test_unknown_command_and_bad_option_are_usage_errors():
    assert themetag("tag").returncode == 2
    assert themetag("predict", "--no-such-option").returncode == 2


def test_check_exit_codes(tmp_path):
    for name in ("conf", "params.yaml"):
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
        copy(ROOT / name, tmp_path / name)
    done = themetag("check", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, "params.yaml matches conf/\n")
    params = tmp_path / "params.yaml"
    params.write_text(params.read_text().replace("min_recall: 0.5", "min_recall: 0.6"))
    done = themetag("check", cwd=tmp_path)
    assert done.returncode == 1
    assert "thresholds.min_recall" in done.stderr and done.stderr.count("\n") == 1


def test_bad_input_is_one_line_with_exit_code_2(tmp_path):
    done = themetag("predict", "--input", "missing.csv", "--output", "out.csv", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1
    assert not (tmp_path / "out.csv").exists()


def test_stages_predict_is_an_alias(trained, tmp_path):
    bundle = str(trained / "models/bundle.joblib")
    src = trained / "data/test.csv"
    outs = []
    for cmd in ([str(SCRIPT)], [sys.executable, "-m", "stages.predict"]):
        out = tmp_path / f"{len(outs)}.csv"
        args = ["predict"] if cmd == [str(SCRIPT)] else []
        subprocess.run(
            [*cmd, *args, "--input", str(src), "--output", str(out), "--bundle", bundle], cwd=ROOT, check=True
        )
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
