"""The ``themetag`` command: one console script, one subcommand per job a user runs by hand.

    themetag predict --input new.csv --output tagged.csv     # tag new texts (slim install)
    themetag fold-review                                     # review decisions -> the ledger
    themetag append-batch batch.csv                          # a labelled batch -> the training CSV
    themetag keep-tuning                                     # the last run's tuning -> data/tuning_record.json
    themetag check                                           # does params.yaml match conf/?

Exit codes: 0 done, 1 ``check`` found params.yaml stale, 2 bad input or usage (one line on
stderr, never a traceback), 130 interrupted. The DVC stages are ``python -m stages.<name>``.
"""

from __future__ import annotations

import argparse
import sys
from importlib import import_module

from themetag import __version__
from themetag.errors import InputError, missing_modules, run_cli

# name -> (module with add_arguments/run, one line of help). Modules load only when their
# subcommand runs, so `themetag predict` on the slim install never imports a training library.
COMMANDS = {
    "predict": ("themetag.tagging.predict", "tag new texts with a trained bundle"),
    "fold-review": ("themetag.labelling.fold_review", "fold label-review decisions into the review ledger"),
    "append-batch": ("themetag.labelling.append_batch", "append a labelled batch to the training CSV"),
    "keep-tuning": ("themetag.labelling.keep_tuning", "keep the last run's tuning for the next round (reuse.record)"),
    "check": (None, "exit 0 if params.yaml is the composition of conf/, 1 if not (needs the [train] extra)"),
}
TRAIN_EXTRA = "pip install 'themetag[train]' (or the project's requirements.txt)"


def _check(args: argparse.Namespace) -> int:
    missing = missing_modules("yaml", "hydra")  # hydra is imported late
    if missing:
        raise InputError(f"themetag check needs {' and '.join(missing)}, from the training extra: {TRAIN_EXTRA}")
    from themetag.pipeline.compose import stale_params

    problem = stale_params()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    print("params.yaml matches conf/")
    return 0


def top_parser() -> argparse.ArgumentParser:
    """The top-level parser. Subcommands are listed without importing their modules."""
    top = argparse.ArgumentParser(
        prog="themetag",
        description="Tag short texts with themes, and look after their labels. Training is the DVC pipeline (dvc repro).",
        epilog="`themetag <command> --help` shows a command's options.",
    )
    top.add_argument("--version", action="version", version=f"themetag {__version__}")
    sub = top.add_subparsers(dest="command", required=True, metavar="command")
    for name, (_, summary) in COMMANDS.items():
        sub.add_parser(name, help=summary, add_help=False)
    return top


def command_parser(name: str) -> tuple[argparse.ArgumentParser, object | None]:
    """The parser of one subcommand, and the module that runs it (imported here, and only here)."""
    module_name, summary = COMMANDS[name]
    module = None
    if module_name:
        try:
            module = import_module(module_name)
        except ModuleNotFoundError as exc:
            raise InputError(f"themetag {name} needs {exc.name}, from the training extra: {TRAIN_EXTRA}") from None
    description = (module.__doc__ or summary).strip().splitlines()[0] if module else summary
    cmd = argparse.ArgumentParser(prog=f"themetag {name}", description=description)
    if module:
        module.add_arguments(cmd)
    return cmd, module


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        top_parser().parse_args(argv)  # --help, --version, or a usage error (exit 2)
    name, rest = argv[0], argv[1:]
    cmd, module = command_parser(name)
    args = cmd.parse_args(rest)
    if module is None:
        return _check(args)
    module.run(args)
    return 0


def entry() -> None:
    """The console script: exit codes as the module docstring says."""
    run_cli(lambda: sys.exit(main(sys.argv[1:])))
