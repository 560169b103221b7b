"""One-line errors for bad input, and the wrapper every entry point runs under."""

from __future__ import annotations

import sys
from collections.abc import Callable


class InputError(Exception):
    """A problem the user can fix. The message names the file, the row or column, and the fix."""


def run_cli(main: Callable[[], object]) -> None:
    """Run ``main``; turn an InputError into one line on stderr and exit code 2, never a traceback."""
    try:
        main()
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)


def missing_modules(*names: str) -> list[str]:
    """Those of ``names`` that are not installed: a command that needs an extra says so in one
    line, before it does any work (the slim install has no training libraries)."""
    from importlib.util import find_spec

    return [name for name in names if find_spec(name) is None]
