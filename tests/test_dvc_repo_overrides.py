"""The benchmarks' throw-away copies keep their Hydra overrides in conf/, where `dvc exp run -S` finds them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.dvc_repo import ROOT, write_overrides
from themetag.pipeline.compose import compose

OVERRIDES = [
    "models=fast",
    "tuning=smoke",
    "models.spaces=[tfidf]",
    "thresholds.recall_confidence=0",
    "tuning.objective=fold_mean",
    "features@features.embeddings=mpnet",  # a group option at a package of its own
]


def test_overrides_written_to_conf_compose_like_command_line_overrides(tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    shutil.copytree(ROOT / "conf", conf)
    write_overrides(conf, OVERRIDES)
    assert compose(conf) == compose(ROOT / "conf", OVERRIDES)
    assert compose(conf) != compose(ROOT / "conf")


def test_an_override_that_names_no_group_or_key_is_refused(tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    shutil.copytree(ROOT / "conf", conf)
    with pytest.raises(ValueError, match="use group=option"):
        write_overrides(conf, ["+extra=1"])
