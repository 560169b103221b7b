"""Train a real bundle on a slice of the sample with the smoke budget, by calling the stages."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from harness.dvc_repo import ONE_ENCODER, ROOT, slice_csv


def run_stages(overrides: list[str], review: bool = True, curve_points: str | None = None) -> None:
    """Compose ``overrides`` in the current folder and run every training stage in DVC's order,
    by calling the stages' own entry points (no dvc)."""
    import yaml

    from stages import (
        compose,
        embed,
        encoder_probe,
        evaluate,
        expand_labels,
        features,
        learning_curve,
        package,
        reuse,
        screen,
        select,
        thresholds,
        train_final,
        tune,
    )
    from stages import review as review_stage

    compose.main(overrides)
    models = yaml.safe_load(Path("params.yaml").read_text())["models"]
    expand_labels.main()
    encoder_probe.main()
    embed.main()
    features.main()
    reuse.main()
    screen.main()
    for space in models["spaces"]:
        for fam in models["families"]:
            tune.run(fam, space)
    for space in models["spaces"]:  # as DVC orders them: after every tune@ stage
        for fam in models["costly"]:
            tune.run(fam, space)
    select.main()
    learning_curve.main(curve_points)  # curve_points: where to keep the curves' subset scores (bench)
    for stage in (*([review_stage] if review else []), thresholds, train_final, package, evaluate):
        stage.main()


def train_slice(
    path: Path,
    train_rows: int = 600,
    test_rows: int = 80,
    families: str = "[logreg,nb]",
    spaces: str = "[tfidf]",
    costly: str = "[]",
    data_dir: Path = ROOT / "data",
) -> Path:
    shutil.copytree(ROOT / "conf", path / "conf")
    (path / "data").mkdir()
    slice_csv(data_dir / "train.csv", path / "data/train.csv", train_rows)
    slice_csv(data_dir / "test.csv", path / "data/test.csv", test_rows)
    old = Path.cwd()
    os.chdir(path)
    try:
        run_stages(
            [
                "tuning=smoke",
                f"models.families={families}",
                f"models.costly={costly}",
                f"models.spaces={spaces}",
                ONE_ENCODER,
            ]
        )
    finally:
        os.chdir(old)
    return path
