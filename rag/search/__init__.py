"""Search: hybrid retrieval over an opened index, with filters and question hints."""
