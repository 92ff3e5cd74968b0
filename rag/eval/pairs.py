"""The pairs of made-up articles the disagreement measurements give the check."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Article:
    """A made-up article for a pair: what a source needs."""

    article_id: str
    text: str
    source: str
    published_at: str
    title: str = ""

    @property
    def id(self) -> str:
        return self.article_id


@dataclass
class Case:
    """One pair, the kind of item it tests, and the planted values (None for a control)."""

    kind: str
    a: Article
    b: Article
    planted: tuple[str, str] | None
