"""A catalogue of odd or broken training inputs, each run through the real expand_labels stage.

Each one either fails with a one-line error naming the file and the fix, or is handled as the
README documents and shows up in the theme report. Never a traceback, never a silent drop.
"""

import json
import shutil
import subprocess
import sys

import pytest

from harness.dvc_repo import ROOT

HEADER = "Processed Text,Themes\n"


def good_rows(n: int = 30) -> str:
    themes = ["food", "staff", "food, staff", "price, food"]
    return "".join(f'text number {i} about things,"{themes[i % 4]}"\n' for i in range(n))


def run_stage(tmp_path, train: bytes, test: bytes | None = None):
    shutil.copytree(ROOT / "conf", tmp_path / "conf")
    (tmp_path / "data").mkdir()
    (tmp_path / "data/train.csv").write_bytes(train)
    if test is not None:
        (tmp_path / "data/test.csv").write_bytes(test)
    env_root = str(ROOT)
    compose = [
        sys.executable,
        "-c",
        f"import sys; sys.path.insert(0, {env_root!r}); from stages.compose import main; main(sys.argv[1:])",
    ]
    subprocess.run([*compose, "labels.min_positives=3", "folds.k=2"], cwd=tmp_path, check=True, capture_output=True)
    stage = [
        sys.executable,
        "-c",
        f"import sys; sys.path.insert(0, {env_root!r}); from stages.expand_labels import main; from themetag.errors import run_cli; run_cli(main)",
    ]
    proc = subprocess.run(stage, cwd=tmp_path, capture_output=True, text=True)
    report = json.loads((tmp_path / "metrics/themes.json").read_text()) if proc.returncode == 0 else None
    return proc, report


def expect_error(proc, *fragments):
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "data/train.csv" in lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


ERRORS = {
    "missing column": (b"Themes\nfood\n", ["no column 'Processed Text'", "rename"]),
    "renamed column": (b"processed_text,Themes\nhi,food\n", ["no column 'Processed Text'", "'processed_text'"]),
    "empty file": (b"", ["file is empty"]),
    "whitespace-only file": (b"\n\n  \n", ["file is empty"]),
    "header only": (HEADER.encode(), ["header only"]),
    "single row": ((HEADER + "just one,food\n").encode(), ["no theme has enough positives", "labels.min_positives"]),
    "non-UTF-8 bytes": ((HEADER + good_rows(3)).encode() + b"caf\xe9 au lait,food\n", ["line 5 is not UTF-8", "UTF-8"]),
    "every row blank": ((HEADER + ",food\n  ,staff\n").encode(), ["every row was dropped"]),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_broken_input_fails_with_one_line(tmp_path, case):
    content, fragments = ERRORS[case]
    proc, _ = run_stage(tmp_path, content)
    expect_error(proc, *fragments)


def test_blank_text_and_blank_themes_are_dropped_and_reported(tmp_path):
    proc, report = run_stage(
        tmp_path, (HEADER + good_rows() + ',food\n   ,staff\nno themes here,\nnan themes,"  "\n').encode()
    )
    assert proc.returncode == 0, proc.stderr
    reasons = [d["reason"] for d in report["dropped_rows"]]
    assert reasons == ["empty text", "empty text", "no themes", "no themes"]
    assert report["dropped_rows"][0]["row"] == "line 32"
    assert "4 rows dropped" in " ".join(report["notes"])


@pytest.mark.parametrize(
    "cell", ["food,staff", "food , staff", "food, staff,", "food, staff, food", "Food ,  STAFF", " food,staff "]
)
def test_separator_case_and_whitespace_variants_agree(tmp_path, cell):
    proc, report = run_stage(tmp_path, (HEADER + good_rows() + f'odd row,"{cell}"\n').encode())
    assert proc.returncode == 0, proc.stderr
    assert report["counts"]["food"] == 23 and report["counts"]["staff"] == 16
    assert set(report["counts"]) == {"food", "staff", "price"}


def test_utf8_bom_is_accepted(tmp_path):
    proc, report = run_stage(tmp_path, b"\xef\xbb\xbf" + (HEADER + good_rows()).encode())
    assert proc.returncode == 0, proc.stderr
    assert report["rows"] == 30


def test_theme_on_every_row_and_theme_with_one_positive_are_left_out(tmp_path):
    rows = "".join(
        f'row {i},"every, {"lonely, " if i == 0 else ""}{"food" if i % 2 else "staff"}"\n' for i in range(30)
    )
    proc, report = run_stage(tmp_path, (HEADER + rows).encode())
    assert proc.returncode == 0, proc.stderr
    assert "every row" in report["left_out"]["every"]
    assert "1 positives < labels.min_positives=3" == report["left_out"]["lonely"]
    assert report["themes"] == ["food", "staff"] or report["themes"] == ["staff", "food"]
    assert "left out" in (tmp_path / "metrics/themes.md").read_text()


def test_duplicate_texts_with_conflicting_themes_are_kept_and_noted(tmp_path):
    proc, report = run_stage(tmp_path, (HEADER + good_rows() + "same text,food\nsame text,staff\n").encode())
    assert proc.returncode == 0, proc.stderr
    assert report["rows"] == 32 and any("different themes" in n for n in report["notes"])


def test_one_megabyte_text_cell(tmp_path):
    big = "word " * 210_000
    proc, report = run_stage(tmp_path, (HEADER + good_rows() + f"{big},food\n").encode())
    assert proc.returncode == 0, proc.stderr
    assert report["rows"] == 31


def test_test_csv_with_themes_training_never_saw(tmp_path):
    test = (HEADER + 'new text,"food, unicorns"\nother,staff\n').encode()
    proc, report = run_stage(tmp_path, (HEADER + good_rows()).encode(), test)
    assert proc.returncode == 0, proc.stderr
    assert report["test"]["themes_not_trained"] == {"unicorns": 1}
    assert "'unicorns'" in (tmp_path / "metrics/themes.md").read_text()


def test_test_csv_is_checked_like_training(tmp_path):
    proc, _ = run_stage(tmp_path, (HEADER + good_rows()).encode(), b"Text,Themes\nx,food\n")
    assert proc.returncode == 2 and "data/test.csv: no column 'Processed Text'" in proc.stderr
