"""`fleet demo`: the whole car lifecycle in a throwaway local cloud, and the scenarios it (and
the benchmarks) run."""
