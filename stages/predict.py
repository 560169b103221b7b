"""Alias of ``themetag predict``, kept so that ``themetag predict`` still works."""

from __future__ import annotations

import sys

from themetag.cli import main
from themetag.errors import run_cli

if __name__ == "__main__":
    run_cli(lambda: sys.exit(main(["predict", *sys.argv[1:]])))
