"""Qdrant as the passage store: versioned collections published by an alias swap (docs/scale.md)."""
