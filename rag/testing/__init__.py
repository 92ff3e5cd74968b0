"""Contract checks (pytest) that a store, embedder or chat backend written outside this repository can run."""
