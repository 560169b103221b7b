"""Wall-clock timing for the benchmarks: the median of several runs."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure_table(title: str, rows: list[list[str]]) -> str:
    """A benchmark's results as a markdown section: a heading and a measure / value table."""
    from tabulate import tabulate

    return f"### {title}\n\n" + tabulate(rows, ["measure", "value"], tablefmt="github") + "\n"
