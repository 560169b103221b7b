"""Run one job per theme in worker processes that share the fold matrices.

On Linux the workers are forked: a forked worker starts in milliseconds with every module
already imported and the fold matrices already in memory (shared copy-on-write, never
pickled). A spawned worker, joblib's default, re-imports scikit-learn, SciPy and Optuna (about
2.5 s each on 2 cores) and was sent its own pickled copy of the matrices with every task; on
the bundled sample that start-up took as long as the tuning it parallelised. Elsewhere
(macOS, Windows, where fork is unsafe or missing) workers are spawned, and the matrices travel
once per worker rather than once per task.

Fork is safe here because the parent has run no model and holds no open storage when the
workers start: it has only read the inputs.

A theme that runs while cores sit idle (the last of a stage's themes, or a stage with one)
fits its folds in threads on them (``fold_threads``): a stage's wall time was often one
theme's on one core while the other waited.

Each worker's BLAS and OpenMP pools are limited to its share of the cores. Without that, two
workers each ran their native thread pools at full width on 2 cores, and on 160,000 rows every
fit was 5x slower than in one process (joblib's workers get the same limit from joblib).
"""

from __future__ import annotations

import multiprocessing as mp
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

import joblib

from themetag.features.spaces import FoldMatrices

_MATS: FoldMatrices | None = None
_LIMITS: Any = None
_CORES = 1  # cores the running stage may use (tuning.n_jobs)
_ACTIVE: Any = None  # shared count of the tasks running now, in every worker


def _share(mats: FoldMatrices, threads: int, cores: int, active: Any) -> None:
    from threadpoolctl import threadpool_limits

    global _MATS, _LIMITS, _CORES, _ACTIVE
    _MATS, _CORES, _ACTIVE = mats, cores, active
    _LIMITS = threadpool_limits(limits=threads)  # kept for the worker's lifetime


def _call(fn: Callable[..., Any], args: tuple) -> Any:
    with _ACTIVE.get_lock():
        _ACTIVE.value += 1
    try:
        return fn(*args, mats=_MATS)
    finally:
        with _ACTIVE.get_lock():
            _ACTIVE.value -= 1


def fold_threads() -> int:
    """Threads a task may fit its folds in now: its share of the stage's cores among the tasks
    running. Asked per trial, so the last theme of a stage takes the cores the others left.
    The count changes only the wall time: thread-safe fits give the same bits either way
    (``families.thread_safe``)."""
    if _ACTIVE is None:  # the task runs in the stage's own process, alone
        return _CORES
    return max(1, _CORES // max(1, _ACTIVE.value))


def workers(n_jobs: int, n_tasks: int) -> int:
    """joblib's convention (-1 is every core, -2 all but one), never more workers than tasks."""
    return max(1, min(joblib.effective_n_jobs(n_jobs), n_tasks))


def run_unordered(fn: Callable[..., Any], tasks: list[tuple], mats: FoldMatrices, n_jobs: int) -> Iterator[Any]:
    """Yield ``fn(*task, mats=mats)`` for every task, in the order they finish.

    With one worker everything runs in this process. A failing task stops the others from
    starting and its error is raised here; tasks already running finish first, so no study is
    left with a trial cut off half way.
    """
    global _CORES
    n = workers(n_jobs, len(tasks))
    cores = max(1, joblib.effective_n_jobs(n_jobs))
    if n == 1:
        _CORES = cores
        for task in tasks:
            yield fn(*task, mats=mats)
        return
    context = mp.get_context("fork" if sys.platform == "linux" else "spawn")
    threads = max(1, joblib.cpu_count() // n)
    active = context.Value("i", 0)
    init = (mats, threads, cores, active)
    with ProcessPoolExecutor(n, mp_context=context, initializer=_share, initargs=init) as pool:
        pending = {pool.submit(_call, fn, task) for task in tasks}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        finally:
            for future in pending:
                future.cancel()
