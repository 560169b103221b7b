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


def test_every_setting_with_a_range_is_checked_and_the_message_names_key_value_and_range():
    import pytest

    from themetag.errors import InputError
    from themetag.pipeline.ranges import RANGES, check_ranges

    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    check_ranges(params)  # the defaults are in range
    bad = {"a probability or share": 1.5, "a count": 0, "a margin or bound": -0.1, "a positive number": 0}
    # the early stop's precision above 1 is allowed (the early stop off), below 0 is not
    for key, ((what, *_), nullable) in RANGES.items():
        tree = yaml.safe_load((ROOT / "params.yaml").read_text())
        node = tree
        *parents, leaf = key.split(".")
        for part in parents:
            node = node[part]
        assert leaf in node, f"{key}: not a setting in params.yaml"
        node[leaf] = bad.get(what, -1)
        with pytest.raises(InputError) as err:
            check_ranges(tree)
        msg = str(err.value)
        assert msg.startswith(f"params.yaml: {key} = ") and "out of range" in msg and "\n" not in msg
        node[leaf] = None
        if nullable:
            check_ranges(tree)
        else:
            with pytest.raises(InputError):
                check_ranges(tree)


def test_an_override_out_of_range_stops_at_compose_in_one_line(tmp_path):
    """Real dvc: `dvc exp run -S thresholds.min_recall=1.5` runs compose and nothing after it."""
    from harness.dvc_repo import DvcRepo, stages_run

    repo = DvcRepo(tmp_path / "p", train_rows=200, test_rows=20)
    proc = repo.run("dvc", "exp", "run", "-S", "thresholds.min_recall=1.5", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert stages_run(out) == ["compose"], out
    line = "error: params.yaml: thresholds.min_recall = 1.5 is out of range; it is a probability or share, so set it"
    assert line in out and "[0, 1]" in out
    assert not (repo.path / "artifacts/labels.csv").exists()  # no stage after compose ran
