"""Tag new texts with the trained themes.

    themetag predict --input new.csv --output tagged.csv [--scores] [--summary tags.md]

Every input row and column is written back unchanged, plus ``Predicted Themes``: the themes
joined by ``, `` in the pipeline's theme order, empty when none applies (or when the text is
empty or missing). The file is read and written in chunks, so memory stays bounded.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from themetag.atomic import atomic_path, write_json
from themetag.data.input_csv import read_csv_chunks
from themetag.errors import InputError, missing_modules
from themetag.tagging.bundle import DEFAULT_BUNDLE, ThemeTagger, load_bundle
from themetag.tagging.frame import score_column, tag_with
from themetag.tagging.tag_summary import TagSummary


def predict_file(
    tagger: ThemeTagger,
    input_path: Path,
    output_path: Path,
    text_column: str,
    with_scores: bool = False,
    chunksize: int = 50_000,
) -> TagSummary:
    summary = TagSummary(tagger.themes)
    with atomic_path(output_path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            header = True
            for chunk in read_csv_chunks(input_path, chunksize, text_column, "rename it or pass --text-column"):
                tagged, hits = tag_with(tagger, chunk, text_column, with_scores)
                tagged.to_csv(fh, index=False, header=header)
                header = False
                summary.add(hits)
            if header:  # header-only input: the header alone, with the new columns
                empty = pd.read_csv(input_path, nrows=0, encoding="utf-8-sig", dtype=str)
                tag_with(tagger, empty, text_column, with_scores)[0].to_csv(fh, index=False)
    if with_scores:
        write_json(
            output_path.with_name(output_path.name + ".thresholds.json"),
            {score_column(t): tagger.thresholds[t] for t in tagger.themes},
        )
    return summary


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", required=True, type=Path, help="CSV with a text column")
    parser.add_argument("--output", required=True, type=Path, help="where to write the tagged CSV")
    parser.add_argument("--bundle", type=Path, default=DEFAULT_BUNDLE, help=f"model bundle (default {DEFAULT_BUNDLE})")
    parser.add_argument("--text-column", default=None, help="text column (default: the one the bundle was trained on)")
    parser.add_argument(
        "--scores",
        action="store_true",
        help="add one 'score <theme>' column per theme; thresholds go to <output>.thresholds.json",
    )
    parser.add_argument(
        "--summary",
        type=Path,
        default=None,
        help="write theme counts and co-occurrence to this .md (and a .png heatmap)",
    )
    parser.add_argument("--chunksize", type=int, default=50_000, help="rows read and tagged at a time")


def run(args: argparse.Namespace) -> None:
    missing = missing_modules("tabulate", "matplotlib") if args.summary else []
    if missing:  # before any tagging, so that nothing is lost
        raise InputError(
            f"--summary needs {' and '.join(missing)}: pip install 'themetag[summary]', or leave out --summary"
        )
    tagger = load_bundle(args.bundle)
    text_column = args.text_column or tagger.text_column
    summary = predict_file(tagger, args.input, args.output, text_column, args.scores, args.chunksize)
    print(f"predict: {summary.rows} rows tagged, {summary.no_theme} with no theme -> {args.output}")
    if args.summary:
        png = summary.write(args.summary)
        print(f"summary: {args.summary} and {png}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="themetag predict", description=__doc__.splitlines()[0])
    add_arguments(parser)
    run(parser.parse_args(argv))
