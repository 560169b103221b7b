"""Where the next labels pay: each theme's learning curve, measured out of fold, and its forecast."""
