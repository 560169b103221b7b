"""Fit many models at once in threads, with the bits they have when fitted one at a time.

Used where a stage fits a list of independent models (``train_final``: every theme's fold
models). Thread-safe fits (``families.thread_safe``) share a pool of one thread per core; the
others, whose solver shuffles with liblinear's one process-wide generator, run one after another
in a single lane of that pool, so no two of them ever draw from it at once.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def fit_all(jobs: list[tuple[Hashable, Callable[[], Any], bool]], cores: int) -> dict[Hashable, Any]:
    """Run every ``(key, fit, thread_safe)`` job; their results by key."""
    if cores <= 1 or len(jobs) <= 1:
        return {key: fit() for key, fit, _ in jobs}
    from threadpoolctl import threadpool_limits

    unsafe = [(key, fit) for key, fit, safe in jobs if not safe]

    def one_lane() -> dict:
        return {key: fit() for key, fit in unsafe}

    with threadpool_limits(limits=1), ThreadPoolExecutor(cores) as pool:  # the cores are the threads'
        lane = pool.submit(one_lane)
        safe = {key: pool.submit(fit) for key, fit, ok in jobs if ok}
        out = {key: future.result() for key, future in safe.items()}
        out.update(lane.result())
    return {key: out[key] for key, _, _ in jobs}
