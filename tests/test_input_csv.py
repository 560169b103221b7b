import pytest

from themetag.data.input_csv import read_csv
from themetag.errors import InputError

COLS = ["Processed Text", "Themes"]


def error_for(path):
    with pytest.raises(InputError) as info:
        read_csv(path, COLS)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    return message


def test_missing_file(tmp_path):
    assert "no such file" in error_for(tmp_path / "nope.csv")


def test_empty_file(tmp_path):
    (tmp_path / "e.csv").write_text("")
    assert "file is empty" in error_for(tmp_path / "e.csv")


def test_header_only(tmp_path):
    (tmp_path / "h.csv").write_text("Processed Text,Themes\n")
    assert "header only" in error_for(tmp_path / "h.csv")


def test_missing_and_renamed_column(tmp_path):
    (tmp_path / "m.csv").write_text("Text,Themes\nhello,a\n")
    msg = error_for(tmp_path / "m.csv")
    assert "'Processed Text'" in msg and "'Text'" in msg and "data.*" in msg


def test_non_utf8_names_the_line(tmp_path):
    (tmp_path / "b.csv").write_bytes(b"Processed Text,Themes\nok,a\ncaf\xe9,a\n")
    assert "line 3 is not UTF-8" in error_for(tmp_path / "b.csv")


def test_bom_and_na_strings_are_read(tmp_path):
    (tmp_path / "bom.csv").write_bytes("\ufeffProcessed Text,Themes\nNA,a\nNone,\n".encode())
    frame = read_csv(tmp_path / "bom.csv", COLS)
    assert frame["Processed Text"].tolist() == ["NA", "None"] and frame["Themes"].tolist() == ["a", ""]
