"""Errors whose messages say what went wrong and how to fix it."""

from __future__ import annotations


class RagError(Exception):
    """Base class: every message names the thing at fault and what to do."""


class ConfigError(RagError):
    """A setting is missing or invalid."""


class ArticleError(RagError):
    """One article file could not be read; the build skips it and goes on."""

    def __init__(self, path: str, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class IndexMissingError(RagError):
    """No index has been built in the configured folder."""


class IndexMismatchError(RagError):
    """The index was built with another embedder or format."""


class IndexCorruptError(RagError):
    """A file of the index is damaged or unreadable."""


class IndexLockedError(RagError):
    """Another build holds the index lock."""


class EmbedderError(RagError):
    """The embedding model could not be loaded or returned bad vectors."""


class BackendError(RagError):
    """A chat model backend failed (connection, HTTP error, timeout...)."""


def tries(count: int) -> str:
    """``count`` attempts in words for a message: "1 try", "3 tries"."""
    return f"{count} try" if count == 1 else f"{count} tries"
