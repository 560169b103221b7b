"""Train a real bundle on a slice of the sample with the smoke budget, by calling the stages."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tests.dvc_repo import ROOT, slice_csv


def train_slice(
    path: Path,
    train_rows: int = 600,
    test_rows: int = 80,
    families: str = "[logreg,nb]",
    spaces: str = "[tfidf]",
    costly: str = "[]",
    data_dir: Path = ROOT / "data",
) -> Path:
    from stages import (
        compose,
        embed,
        evaluate,
        expand_labels,
        features,
        folds,
        package,
        review,
        select,
        thresholds,
        train_final,
        tune,
    )

    shutil.copytree(ROOT / "conf", path / "conf")
    (path / "data").mkdir()
    slice_csv(data_dir / "train.csv", path / "data/train.csv", train_rows)
    slice_csv(data_dir / "test.csv", path / "data/test.csv", test_rows)
    old = Path.cwd()
    os.chdir(path)
    try:
        compose.main(
            ["tuning=smoke", f"models.families={families}", f"models.costly={costly}", f"models.spaces={spaces}"]
        )
        expand_labels.main()
        folds.main()
        embed.main()
        for space in spaces.strip("[]").split(","):
            features.main(["--space", space])
            for fam in families.strip("[]").split(","):
                tune.run(fam, space)
        for space in spaces.strip("[]").split(","):  # as DVC orders them: after every tune@ stage
            for fam in filter(None, costly.strip("[]").split(",")):
                tune.run(fam, space)
        for stage in (select, review, thresholds, train_final, package, evaluate):
            stage.main()
    finally:
        os.chdir(old)
    return path
