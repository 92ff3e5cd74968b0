"""Eval: retrieval and answer metrics on MultiHop-RAG-format data."""
