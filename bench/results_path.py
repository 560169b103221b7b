"""Where a benchmark's results go, and the line that says what made them.

Each benchmark writes ``bench/results/<benchmark>/<name>.{json,md}``: the current result of each
benchmark and data set, grouped by benchmark. Earlier runs live in git history. Every ``.md``
starts with the command and the commit that made it (``provenance``), so a reader can tell which
figure is current and how to make it again.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def result_path(benchmark: str, file_name: str) -> Path:
    """``bench/results/<benchmark>/<file_name>``."""
    return RESULTS / benchmark / file_name


def provenance(benchmark: str, argv: list[str] | None = None) -> str:
    """One markdown line: the command (this process's arguments) and the commit it ran on, with
    ``+`` when the working tree had changes."""
    root = RESULTS.parents[1]
    args = " ".join(sys.argv[1:] if argv is None else argv)

    def git(*cmd: str) -> str:
        out = subprocess.run(["git", *cmd], cwd=root, capture_output=True, text=True, check=False)
        return out.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = "+" if git("status", "--porcelain", "--untracked-files=no") else ""
    return f"Command: `python -m bench.{benchmark}{' ' + args if args else ''}`; commit {commit}{dirty}."


def with_provenance(benchmark: str, markdown: str) -> str:
    """``markdown`` with the provenance line after its first heading line."""
    head, _, rest = markdown.partition("\n")
    return f"{head}\n\n{provenance(benchmark)}\n{rest}"
