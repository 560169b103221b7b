"""The project copies the benchmarks run in: a fresh one on a whole data set, or one kept from an
earlier run (``--keep``) and reused (``--reuse``) after checking it is the run asked for."""

from __future__ import annotations

from pathlib import Path

import yaml

from harness.dvc_repo import ROOT, DvcRepo
from themetag.pipeline.compose import compose


def default_copy(path: Path, data_dir: Path, overrides: list[str]) -> DvcRepo:
    """A fresh copy at ``path`` (no Optuna storage, no DVC cache): the whole data set in
    ``data_dir``, the default config plus ``overrides``. Nothing has run in it yet."""
    return DvcRepo(
        path,
        train_rows=None,
        test_rows=None,
        families="default",
        tuning="default",
        data_dir=data_dir,
        overrides=overrides,
        one_encoder=False,
    )


def kept_copy(path: Path, overrides: list[str] | None = None, ignore: tuple[str, ...] = ()) -> DvcRepo:
    """A kept copy, once `dvc status` is clean there and, given ``overrides``, its params equal the
    defaults with them outside the ``ignore`` sections. Two clean runs are byte-identical, so its
    quality figures are what a new run would give."""
    repo = DvcRepo.open(path.resolve())
    if overrides is not None:
        want = yaml.safe_load(compose(ROOT / "conf", overrides))
        have = yaml.safe_load((repo.path / "params.yaml").read_text())
        differ = sorted(k for k in want.keys() | have.keys() if k not in ignore and want.get(k) != have.get(k))
        if differ:
            raise SystemExit(
                f"{path}/params.yaml: {', '.join(differ)} differ from the defaults with {overrides}; "
                "reuse only a copy tuned with them"
            )
    if repo.run("dvc", "status", "-q", check=False).returncode != 0:
        raise SystemExit(f"{path}: `dvc status` is not clean; run `dvc repro` there first")
    return repo
