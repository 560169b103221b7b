"""Multi-label theme classification pipeline: one module per job, one entry point per DVC stage."""

from themetag.blas_kernel import pin_blas_kernel

pin_blas_kernel()  # before any stage imports numpy: the same bits on every x86-64 machine
