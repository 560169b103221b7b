"""Keep the last run's tuning for the next labelling round: copy ``artifacts/tuning_record.json``
(what the ``select`` stage chose) to ``reuse.record`` (``data/tuning_record.json``), to commit
beside the data.

    themetag keep-tuning          # after `dvc repro`; `themetag append-batch` runs it first

The next `dvc repro` then refits each theme's recorded setting on the new folds instead of
tuning it again, except where ``themetag/tuning/reuse.py`` says to retune. Delete the file to
tune every theme from scratch.
"""

from __future__ import annotations

import argparse
import json

from themetag.atomic import write_json
from themetag.errors import InputError
from themetag.pipeline import paths
from themetag.pipeline.params import load_params
from themetag.tuning.record import read_record


def keep(params: dict, quiet_if_same: bool = False) -> str | None:
    """Copy the run's record into ``reuse.record``; a line saying what changed, or None when
    the record there is already this run's (and ``quiet_if_same``)."""
    target = (params.get("reuse") or {}).get("record")
    if not target:
        raise InputError("params.yaml: reuse.record is not set; set it to the file the record goes in")
    fresh = read_record(paths.RECORD_OUT)
    if fresh is None:
        raise InputError(f"{paths.RECORD_OUT}: missing; run `dvc repro` first (its select stage writes it)")
    old = read_record(target)
    if old == fresh:
        return None if quiet_if_same else f"keep-tuning: {target} already holds the last run's tuning"
    write_json(target, fresh)
    was = {t: e["candidate"] for t, e in (old or {}).get("themes", {}).items()}
    moved = [t for t, e in fresh["themes"].items() if was.get(t) != e["candidate"]]
    note = f"; winners new or changed: {', '.join(moved)}" if moved and old else ""
    return f"keep-tuning: {len(fresh['themes'])} themes' tuning kept in {target} (commit it with the data){note}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--show", action="store_true", help="print the kept record instead of writing it")


def run(args: argparse.Namespace) -> None:
    params = load_params(resolve=False)
    if args.show:
        print(json.dumps(read_record(params["reuse"]["record"]), indent=2))
        return
    print(keep(params))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="themetag keep-tuning", description=__doc__.splitlines()[0])
    add_arguments(parser)
    run(parser.parse_args(argv))
