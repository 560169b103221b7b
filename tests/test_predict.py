"""Tagging new texts: round trip, thresholds, bad input, and the hash check before unpickling."""

import json
import pickle
import subprocess
import sys
import types

import joblib
import numpy as np
import pandas as pd
import pytest

from harness.dvc_repo import ROOT
from themetag.errors import InputError
from themetag.tagging import bundle as bundle_mod
from themetag.tagging.bundle import load_bundle
from themetag.tagging.frame import PREDICTED
from themetag.tagging.predict import main


@pytest.fixture
def tagger(trained):
    return load_bundle(trained / "models/bundle.joblib")


def test_round_trip_keeps_rows_and_columns(trained, tmp_path):
    src = pd.read_csv(trained / "data/test.csv", dtype=str, keep_default_na=False)
    src["Extra"] = ["NA", "", *map(str, range(len(src) - 2))]  # values pandas would turn into NaN by default
    src.to_csv(tmp_path / "in.csv", index=False)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "themetag",
            "predict",
            "--input",
            str(tmp_path / "in.csv"),
            "--output",
            str(tmp_path / "out.csv"),
            "--bundle",
            str(trained / "models/bundle.joblib"),
            "--summary",
            str(tmp_path / "tags.md"),
            "--chunksize",
            "7",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    out = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    assert out.columns.tolist() == [*src.columns, PREDICTED]
    pd.testing.assert_frame_equal(out[src.columns], src)
    themes = load_bundle(trained / "models/bundle.joblib").themes
    for cell in out[PREDICTED]:
        tags = [t for t in cell.split(", ") if t]
        assert tags == [t for t in themes if t in tags]  # pipeline theme order
    assert (tmp_path / "tags.png").read_bytes()[:4] == b"\x89PNG"
    assert "(no theme)" in (tmp_path / "tags.md").read_text()


def test_api_matches_file_output(trained, tagger, tmp_path):
    texts = pd.read_csv(trained / "data/test.csv")["Processed Text"].tolist()
    main(
        [
            "--input",
            str(trained / "data/test.csv"),
            "--output",
            str(tmp_path / "o.csv"),
            "--bundle",
            str(trained / "models/bundle.joblib"),
        ]
    )
    out = pd.read_csv(tmp_path / "o.csv", keep_default_na=False)[PREDICTED]
    assert [", ".join(t) for t in tagger.predict(texts)] == out.tolist()
    assert tagger.scores(texts).shape == (len(texts), len(tagger.themes))


def test_a_score_at_the_threshold_tags_and_just_below_does_not(tagger):
    text = "The waiter was rude but the pasta was great."
    theme = tagger.themes[0]
    s = tagger.scores([text])[theme].iloc[0]
    tagger.thresholds[theme] = s
    assert theme in tagger.predict([text])[0]
    tagger.thresholds[theme] = np.nextafter(s, np.inf)
    assert theme not in tagger.predict([text])[0]


def test_empty_or_missing_text_gets_no_themes(tagger):
    tagger.thresholds = {t: -np.inf for t in tagger.themes}  # would tag everything that has a score
    assert tagger.predict(["", "   ", None, float("nan")]) == [[], [], [], []]
    assert tagger.predict(["food"])[0] == tagger.themes


def test_scores_flag_adds_columns_and_threshold_sidecar(trained, tmp_path):
    main(
        [
            "--input",
            str(trained / "data/test.csv"),
            "--output",
            str(tmp_path / "s.csv"),
            "--bundle",
            str(trained / "models/bundle.joblib"),
            "--scores",
        ]
    )
    out = pd.read_csv(tmp_path / "s.csv")
    sidecar = json.loads((tmp_path / "s.csv.thresholds.json").read_text())
    assert set(sidecar) <= set(out.columns) and len(sidecar) == len(
        load_bundle(trained / "models/bundle.joblib").themes
    )


def run_error(trained, tmp_path, *args):
    with pytest.raises(InputError) as info:
        main(["--output", str(tmp_path / "x.csv"), "--bundle", str(trained / "models/bundle.joblib"), *args])
    assert "\n" not in str(info.value)
    assert not (tmp_path / "x.csv").exists()
    return str(info.value)


def test_missing_text_column(trained, tmp_path):
    (tmp_path / "in.csv").write_text("Text\nhello\n")
    assert "no column 'Processed Text'" in run_error(trained, tmp_path, "--input", str(tmp_path / "in.csv"))


def test_empty_and_unreadable_files(trained, tmp_path):
    (tmp_path / "empty.csv").write_text("")
    assert "file is empty" in run_error(trained, tmp_path, "--input", str(tmp_path / "empty.csv"))
    (tmp_path / "latin1.csv").write_bytes(b"Processed Text\ncaf\xe9\n")
    assert "not UTF-8" in run_error(trained, tmp_path, "--input", str(tmp_path / "latin1.csv"))
    assert "no such file" in run_error(trained, tmp_path, "--input", str(tmp_path / "nope.csv"))


@pytest.mark.parametrize("scores", [False, True])
def test_a_header_only_input_gives_a_header_only_output(trained, tmp_path, capsys, scores):
    (tmp_path / "in.csv").write_text("id,Processed Text\n")
    bundle = str(trained / "models/bundle.joblib")
    args = ["--input", str(tmp_path / "in.csv"), "--output", str(tmp_path / "out.csv"), "--bundle", bundle]
    main(args + (["--scores"] if scores else []))
    assert "0 rows tagged" in capsys.readouterr().out
    out = pd.read_csv(tmp_path / "out.csv")
    themes = load_bundle(trained / "models/bundle.joblib").themes
    assert len(out) == 0
    assert out.columns.tolist() == [
        "id",
        "Processed Text",
        PREDICTED,
        *([f"score {t}" for t in themes] if scores else []),
    ]


def copy_bundle(trained, tmp_path):
    for name in ("bundle.joblib", "bundle.json"):
        (tmp_path / name).write_bytes((trained / "models" / name).read_bytes())
    return tmp_path / "bundle.joblib"


def test_absent_bundle(tmp_path):
    with pytest.raises(InputError, match="no model bundle"):
        load_bundle(tmp_path / "missing.joblib")


def test_bundle_from_another_sklearn_version(trained, tmp_path):
    path = copy_bundle(trained, tmp_path)
    manifest = json.loads((tmp_path / "bundle.json").read_text())
    manifest["sklearn_version"] = "0.24.2"
    (tmp_path / "bundle.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="scikit-learn 0.24.2"):
        load_bundle(path)


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_tampered_bundle_is_refused_before_unpickling(trained, tmp_path, monkeypatch, damage):
    path = copy_bundle(trained, tmp_path)
    raw = bytearray(path.read_bytes())
    if damage == "flip":
        raw[len(raw) // 2] ^= 0xFF
    else:
        raw = raw[: len(raw) // 2]
    path.write_bytes(bytes(raw))

    def no_unpickling(*a, **k):
        raise AssertionError("unpickled a bundle that failed its hash check")

    monkeypatch.setattr(pickle, "load", no_unpickling)
    monkeypatch.setattr(joblib, "load", no_unpickling)  # the reader of bundles from before pickle-5
    with pytest.raises(InputError, match="SHA-256 does not match"):
        load_bundle(path)
    assert pickle.load is no_unpickling


def test_a_bundle_joblib_pickled_before_pickle_5_still_loads(trained, tmp_path):
    """Bundles written with joblib.dump have no ``format`` in their manifest: read with joblib."""
    path = copy_bundle(trained, tmp_path)
    texts = ["the food was cold", "the staff were lovely", "too loud to talk"]
    now = load_bundle(path)
    assert json.loads(bundle_mod.manifest_path(path).read_text())["format"] == "pickle-5"
    joblib.dump(now, path)
    manifest = bundle_mod.manifest_path(path)
    record = json.loads(manifest.read_text())
    del record["format"]
    record["sha256"] = bundle_mod.sha256_of(path)
    manifest.write_text(json.dumps(record))
    before = load_bundle(path)
    assert before.scores(texts).equals(now.scores(texts))


def test_a_bundle_pickled_before_the_package_is_one_line(trained, tmp_path, monkeypatch):
    """Bundles from before the themetag package name their classes ``stages.bundle.ThemeTagger``
    and so on: refused in one line that says to retrain, not a ModuleNotFoundError traceback."""
    path = copy_bundle(trained, tmp_path)
    tagger = load_bundle(path)
    shim = types.ModuleType("stages.bundle")  # only while pickling: the class must be found there
    shim.ThemeTagger = type(tagger)
    monkeypatch.setitem(sys.modules, "stages.bundle", shim)
    monkeypatch.setattr(type(tagger), "__module__", "stages.bundle")
    with open(path, "wb") as f:
        pickle.dump(tagger, f, protocol=5)
    monkeypatch.undo()
    manifest = bundle_mod.manifest_path(path)
    record = json.loads(manifest.read_text())
    record["sha256"] = bundle_mod.sha256_of(path)
    manifest.write_text(json.dumps(record))
    with pytest.raises(InputError, match="module stages.bundle, which this version does not have") as info:
        load_bundle(path)
    assert "\n" not in str(info.value)


def test_thresholds_come_from_the_manifest_and_a_missing_one_is_one_line(trained, tmp_path):
    """The pickle holds no threshold (a threshold edit rewrites only bundle.json); the manifest's apply,
    and a manifest without one of the bundle's themes is refused before anything is tagged."""
    path = copy_bundle(trained, tmp_path)
    manifest = bundle_mod.manifest_path(path)
    record = json.loads(manifest.read_text())
    theme = record["themes"][0]
    record["thresholds"][theme] = -np.inf  # tag every scored row
    manifest.write_text(json.dumps(record))
    tagger = load_bundle(path)
    assert tagger.thresholds[theme] == -np.inf
    texts = ["the food was cold", "the staff were lovely"]
    assert all(theme in tags for tags in tagger.predict(texts))
    del record["thresholds"][theme]
    manifest.write_text(json.dumps(record))
    with pytest.raises(InputError, match=rf"bundle.json: no threshold for theme\(s\) \['{theme}'\]") as info:
        load_bundle(path)
    assert "\n" not in str(info.value)
