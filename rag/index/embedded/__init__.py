"""The embedded passage store: FAISS vectors, SQLite rows and BM25 in versioned folders."""
