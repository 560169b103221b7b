"""params.yaml must be the composition of conf/; the compose stage must keep -S overrides."""

import shutil

import yaml

from tests.conftest import ROOT
from themetag.pipeline import compose


def test_committed_params_equal_composition_of_conf(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert yaml.safe_load((ROOT / "params.yaml").read_text()) == yaml.safe_load(compose.compose())
    assert (ROOT / "conf.lock.yaml").read_text() == compose.compose()


def test_three_way_merge_keeps_overrides_and_takes_conf_edits():
    base = {"thresholds": {"min_recall": 0.5}, "tuning": {"n_trials": 40}, "models": {"families": ["a", "b"]}}
    ours = {"thresholds": {"min_recall": 0.6}, "tuning": {"n_trials": 40}, "models": {"families": ["a", "b"]}}
    theirs = {"thresholds": {"min_recall": 0.5}, "tuning": {"n_trials": 10}, "models": {"families": ["a"]}}
    merged = compose.three_way_merge(base, ours, theirs)
    assert merged == {"thresholds": {"min_recall": 0.6}, "tuning": {"n_trials": 10}, "models": {"families": ["a"]}}


def test_stage_writes_params_after_a_conf_edit(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "conf", tmp_path / "conf")
    monkeypatch.chdir(tmp_path)
    compose.write_params([])
    path = tmp_path / "conf" / "thresholds" / "default.yaml"
    path.write_text(path.read_text().replace("min_recall: 0.5", "min_recall: 0.7"))
    compose.stage()
    params = yaml.safe_load((tmp_path / "params.yaml").read_text())
    assert params["thresholds"]["min_recall"] == 0.7
    assert compose._load(tmp_path / "params.yaml") == yaml.safe_load(compose.compose())


def test_a_broken_config_is_one_line_not_a_traceback(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "conf", tmp_path / "conf")
    monkeypatch.chdir(tmp_path)
    import pytest

    from themetag.errors import InputError

    with pytest.raises(InputError, match="cannot compose the config") as info:
        compose.write_params(["models=nonexistent"])
    assert "\n" not in str(info.value) and "conf/" in str(info.value)
