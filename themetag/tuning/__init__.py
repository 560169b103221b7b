"""Per-theme tuning with Optuna: trials, pruning, the cost budget, study storage, worker processes
and progress."""
