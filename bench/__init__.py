"""papergraph's benchmark suite: `python -m bench run` (see README, "Benchmarks")."""
