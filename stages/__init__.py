"""Multi-label theme classification pipeline: one module per job, one entry point per DVC stage."""
