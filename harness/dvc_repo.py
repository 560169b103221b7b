"""A throw-away copy of the project in a temporary git repository, for tests that run real dvc."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml

from themetag.pipeline.compose import _set

ROOT = Path(__file__).resolve().parents[1]
# Tests never download all-mpnet-base-v2: `model: auto` chooses among the built-in encoder alone.
ONE_ENCODER = "encoder_probe.candidates=[{model: all-MiniLM-L6-v2, max_tokens: 256}]"
# With the smoke budget (the tests' copies), the learning curve's interval from 50 bootstrap replicates,
# not 200: what those copies test is which stages run and what they write, and the replicates' fits
# were a sixth of a copy's cold run (tests/test_learning_curve.py tests the figures themselves). A
# benchmark's copy on the default budget keeps the default.
LIGHT_CURVES = "learning_curve.bootstrap=50"


def slice_csv(src: Path, dst: Path, rows: int | None) -> None:
    """Copy the first ``rows`` data rows of a CSV (all of them when ``rows`` is None)."""
    pd.read_csv(src, dtype=str, keep_default_na=False).head(rows).to_csv(dst, index=False)


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "DVC_NO_ANALYTICS": "1",
        "DVC_NO_UPDATER": "1",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }


class DvcRepo:
    def __init__(
        self,
        path: Path,
        train_rows: int | None = 700,
        test_rows: int | None = 120,
        families: str = "fast",
        tuning: str = "smoke",
        data_dir: Path = ROOT / "data",
        files: dict[str, str] | None = None,
        overrides: list[str] | None = None,
        one_encoder: bool = True,
    ):
        """``one_encoder``: ``ONE_ENCODER`` before ``overrides`` (False: the project's candidates)."""
        self.path = path
        for name in ("stages", "themetag", "conf"):
            # no dvc.lock (stages/tuning/ has one): the copy's runs write their own
            shutil.copytree(ROOT / name, path / name, ignore=shutil.ignore_patterns("__pycache__", "dvc.lock"))
        shutil.copy(ROOT / "dvc.yaml", path)
        shutil.copy(ROOT / ".gitignore", path)
        (path / "data").mkdir()
        slice_csv(data_dir / "train.csv", path / "data/train.csv", train_rows)
        slice_csv(data_dir / "test.csv", path / "data/test.csv", test_rows)
        for rel, content in (files or {}).items():
            (path / rel).write_text(content)
        light = [LIGHT_CURVES] if tuning == "smoke" else []
        first = [f"tuning={tuning}", f"models={families}", *light, *([ONE_ENCODER] if one_encoder else [])]
        write_overrides(path / "conf", [*first, *(overrides or [])])
        self.env = _env()
        self.run("git", "init", "-q")
        self.run("git", "config", "user.email", "test@example.com")
        self.run("git", "config", "user.name", "test")
        self.run("dvc", "init", "-q")
        shutil.copytree(ROOT / ".dvc/plots", path / ".dvc/plots")  # the custom plot templates dvc.yaml names
        self.run("dvc", "config", "hydra.enabled", "True")
        self.run("dvc", "config", "plots.html_template", "plots/page.html")  # the offline page (.dvc/plots/)
        self.run(sys.executable, "-m", "stages.compose")
        self.commit("initial")

    @classmethod
    def open(cls, path: Path) -> DvcRepo:
        """An existing copy (e.g. one a benchmark kept with ``--keep``), without creating anything."""
        repo = cls.__new__(cls)
        repo.path, repo.env = path, _env()
        return repo

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(args, cwd=self.path, env=self.env, capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc

    def repro(self, *args: str) -> list[str]:
        return stages_run(self.run("dvc", "repro", *args).stdout)

    def commit(self, message: str) -> None:
        self.run("git", "add", "-A")
        self.run("git", "commit", "-qm", message, "--allow-empty")

    def edit(self, rel: str, old: str, new: str) -> None:
        path = self.path / rel
        text = path.read_text()
        assert old in text, f"{old!r} not in {rel}"
        path.write_text(text.replace(old, new))


def write_overrides(conf: Path, overrides: list[str]) -> None:
    """Write Hydra overrides into the copy's conf/config.yaml, not only into its params.yaml:
    `dvc exp run -S` recomposes params.yaml from conf/ and would drop them otherwise.

    ``group=option`` (or ``group@package=option``) picks a config group's option; ``a.b=value`` (a YAML value) sets a key in
    the primary config, which Hydra merges last (``_self_`` ends the defaults list)."""
    config = conf / "config.yaml"
    tree = yaml.safe_load(config.read_text())
    for override in overrides:
        key, sep, value = override.partition("=")
        if not sep or key[:1] in "+~":
            raise ValueError(f"override {override!r}: use group=option or a.b=value")
        if (conf / key.split("@")[0]).is_dir():  # group=option, or group@package=option
            entries = [e for e in tree["defaults"] if isinstance(e, dict) and key in e]
            if not entries:
                raise ValueError(f"override {override!r}: conf/config.yaml has no `{key}` in its defaults list")
            entries[0][key] = value
            continue
        _set(tree, key, yaml.safe_load(value))
    config.write_text(yaml.safe_dump(tree, sort_keys=False))


# DVC's "Running stage 'X'" line; a stage of another dvc.yaml (stages/tuning/dvc.yaml) is printed
# as 'stages/tuning/dvc.yaml:tune@...', and is named here without its file, as dvc.lock names it.
STAGE_LINE = re.compile(r"Running stage '(?:[^':]*dvc\.yaml:)?([^']+)'")


def stages_run(output: str) -> list[str]:
    return STAGE_LINE.findall(output)
