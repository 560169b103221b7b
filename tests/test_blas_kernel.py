"""The stages pin OpenBLAS's kernels, so a commit's outputs hash the same on another x86-64 CPU."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from harness.dvc_repo import ROOT
from themetag.blas_kernel import _NEEDS, KERNEL, _cpu_flags

_ASK = (
    "import stages, numpy, scipy.linalg, json, os; from threadpoolctl import threadpool_info; "
    "kernels = sorted({i.get('architecture') for i in threadpool_info() if i['internal_api'] == 'openblas'}); "
    "print(json.dumps([os.environ.get('OPENBLAS_CORETYPE'), kernels]))"
)


def _kernels(env: dict[str, str]) -> list:
    """[the OPENBLAS_CORETYPE a stage process runs with, the kernels numpy's and SciPy's OpenBLAS chose]"""
    out = subprocess.run([sys.executable, "-c", _ASK], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@pytest.mark.skipif(not _NEEDS <= _cpu_flags(), reason="pinned only on x86-64 CPUs with AVX2 and FMA")
def test_a_stage_process_runs_numpy_and_scipy_on_the_pinned_kernels() -> None:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    assert _kernels(env) == [KERNEL, [KERNEL]]


@pytest.mark.skipif(not _NEEDS <= _cpu_flags(), reason="pinned only on x86-64 CPUs with AVX2 and FMA")
def test_a_kernel_the_user_chose_is_kept() -> None:
    env = {**os.environ, "OPENBLAS_CORETYPE": "Sandybridge"}
    assert _kernels(env) == ["Sandybridge", ["Sandybridge"]]
