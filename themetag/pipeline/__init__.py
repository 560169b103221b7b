"""The DVC pipeline's layout and config: where each stage writes, params.yaml, and the artifacts
one stage leaves for the next. Nothing here imports DVC."""
