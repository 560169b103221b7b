"""What the tests and the benchmarks both run in: throw-away project copies with real DVC, trained
slices, a PostgreSQL server, flipped labels. Neither imports the other; both import this."""
