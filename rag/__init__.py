"""article-rag: cited answers over a collection of news articles."""

__version__ = "0.1.0"
