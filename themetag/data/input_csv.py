"""Read a user's CSV, turning every way it can be broken into a one-line InputError."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from themetag.errors import InputError

CONF_HINT = "conf/config.yaml (data.*)"


def _decode(path: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")  # a UTF-8 byte-order mark is accepted and dropped
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(f"{path}: line {line} is not UTF-8 (byte {exc.start}); re-save the file as UTF-8") from None


def read_csv(path: str | Path, required: list[str], what: str = "CSV", allow_no_rows: bool = False) -> pd.DataFrame:
    """Read ``path`` as strings, keeping every column; check that ``required`` columns exist.

    Cells stay strings: an empty cell is "" (never NaN), so "NA" or "None" in a text survive.
    A header-only file is an error unless ``allow_no_rows``.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file; put the {what} there or set its path in {CONF_HINT}")
    raw = path.read_bytes()
    if not raw.strip():
        raise InputError(f"{path}: file is empty; it needs a header row with columns {', '.join(map(repr, required))}")
    text = _decode(path, raw)
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False)
    except (pd.errors.ParserError, csv.Error, ValueError) as exc:
        detail = str(exc).strip().splitlines()[-1]
        raise InputError(f"{path}: cannot parse as CSV ({detail}); check quoting on that line") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        found = ", ".join(map(repr, frame.columns)) or "none"
        raise InputError(
            f"{path}: no column {missing[0]!r} (columns found: {found}); rename that column "
            f"or set its name in {CONF_HINT}"
        )
    if frame.empty and not allow_no_rows:
        raise InputError(f"{path}: header only, no data rows; add labelled rows below the header")
    return frame


def row_label(index: int) -> str:
    """How a data row is named in messages: its line in the file, the header being line 1."""
    return f"line {index + 2}"


def read_csv_chunks(path: Path, chunksize: int, text_column: str, column_fix: str) -> Iterator[pd.DataFrame]:
    """``path`` in chunks of ``chunksize`` rows, as strings; one-line errors as ``read_csv``'s.
    ``column_fix`` says how to fix a missing ``text_column``."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty; it needs a header row with a {text_column!r} column")
    done = 0
    try:
        reader = pd.read_csv(path, dtype=str, keep_default_na=False, chunksize=chunksize, encoding="utf-8-sig")
        for chunk in reader:
            if done == 0 and text_column not in chunk.columns:
                found = ", ".join(map(repr, chunk.columns))
                raise InputError(f"{path}: no column {text_column!r} (columns found: {found}); {column_fix}")
            done += len(chunk)
            yield chunk
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 (after data row {done}); re-save the file as UTF-8") from None
    except (pd.errors.ParserError, csv.Error) as exc:
        raise InputError(
            f"{path}: cannot parse as CSV after data row {done} ({str(exc).strip()}); check quoting"
        ) from None
    except pd.errors.EmptyDataError:
        raise InputError(
            f"{path}: no header row; the first line must name the columns, including {text_column!r}"
        ) from None
