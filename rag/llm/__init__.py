"""LLM: the ``ChatModel`` interface and its backends, chosen by name."""
