"""Embed: the ``Embedder`` interface and its implementations, chosen by name."""
