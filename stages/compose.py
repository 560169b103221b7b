"""The ``compose`` stage: merge ``conf/`` into ``params.yaml`` (``dvc repro`` does not compose
Hydra configs itself, DVC issue 10750). How the merge works: themetag/pipeline/compose.py.

    python -m stages.compose --stage          # what dvc.yaml runs
    python -m stages.compose [overrides...]   # write params.yaml from conf/ (plus Hydra overrides)
    themetag check          # the same as `themetag check`
"""

from __future__ import annotations

import argparse
import sys

from themetag.errors import run_cli
from themetag.pipeline.compose import check, stage, write_params


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. tuning=smoke")
    parser.add_argument("--check", action="store_true", help="fail if params.yaml is stale")
    parser.add_argument("--stage", action="store_true", help="run as the DVC compose stage")
    args = parser.parse_args(argv)
    if args.stage:
        stage()
    elif args.check:
        check()
    else:
        write_params(args.overrides)


if __name__ == "__main__":
    run_cli(lambda: main(sys.argv[1:]))
