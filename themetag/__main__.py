"""``python -m themetag``: the same as the ``themetag`` console script."""

from themetag.cli import entry

entry()
