"""One OpenBLAS kernel set for every x86-64 machine, so a commit's outputs reproduce bit for bit.

numpy's and SciPy's wheels ship OpenBLAS built for every CPU; it picks its kernels at import.
The same refits on the same inputs gave the sample's logreg thresholds differing in the 7th
digit between an Intel AVX-512 machine (SkylakeX kernels) and an AMD one (Haswell kernels), and
so different hashes for `artifacts/reuse`, the bundle and `metrics/metrics.json`: a fresh clone
on another machine did not reproduce the commit's files. Haswell's kernels (AVX2 and FMA) run on
every x86-64 CPU made since 2015. Set ``OPENBLAS_CORETYPE`` yourself to choose another; on ARM,
or an x86 CPU without AVX2, nothing is pinned and the last digits may differ.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

KERNEL = "Haswell"
_NEEDS = {"avx2", "fma"}


def _cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:  # not Linux: no cheap way to ask, so nothing is pinned
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return set()


def pin_blas_kernel() -> str | None:
    """Set ``OPENBLAS_CORETYPE`` before numpy loads OpenBLAS; the kernel pinned, or None."""
    if "OPENBLAS_CORETYPE" in os.environ:
        return os.environ["OPENBLAS_CORETYPE"]
    if "numpy" in sys.modules:  # OpenBLAS has chosen already: too late to pin in this process
        return None
    if platform.machine().lower() not in {"x86_64", "amd64"} or not _NEEDS <= _cpu_flags():
        return None
    os.environ["OPENBLAS_CORETYPE"] = KERNEL  # inherited by the stage's worker processes
    return KERNEL
