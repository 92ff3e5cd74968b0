"""Index: the on-disk passage store (vectors, rows, BM25), built and opened atomically."""
