"""Stage tune@<family>-<space> (or tune_costly@...): one Optuna study per theme for one candidate
(``themetag/tuning/tune_candidate.py``).

A skipped candidate (see ``themetag/modelling/candidates.py``) writes a summary that says why, and
no scores, having imported nothing that tunes: on the sample a third of the tune stages are skips.
"""

from __future__ import annotations

import argparse
import sys

from themetag.atomic import write_json
from themetag.errors import run_cli
from themetag.modelling.candidates import Candidate, candidate
from themetag.pipeline import paths
from themetag.pipeline.params import load_params


def write_skipped(cand: Candidate) -> None:
    out = paths.tune_dir(cand.name, cand.costly)
    write_json(out / "summary.json", {"family": cand.family, "space": cand.space, "skipped": cand.skip})
    print(f"{cand.stage}: skipped ({cand.skip})")


def run(family: str, space: str) -> None:
    params = load_params()
    cand = candidate(params, family, space)
    if cand.skip:
        write_skipped(cand)
        return
    from themetag.tuning.tune_candidate import run as tune

    tune(params, cand)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", required=True)
    parser.add_argument("--space", default="tfidf")
    args = parser.parse_args(sys.argv[1:])
    run(args.family, args.space)


if __name__ == "__main__":
    run_cli(main)
