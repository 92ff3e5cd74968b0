"""Which stored articles a build may touch: the ones under the paths it was given.

A build syncs only its paths (docs/indexing.md): new, changed and deleted
files under them; articles indexed from other paths stay, unless the build is
``exact``. The paths a store holds articles from are its *roots*, recorded in
the manifest (``roots``) and listed by ``rag index info``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path


def absolute(path: str | os.PathLike) -> str:
    """``path`` made absolute and normalised, symlinks resolved (how roots and article paths compare)."""
    return str(Path(path).expanduser().resolve())


def stored(path: str) -> str:
    """A stored article path in the same form: builds store resolved absolute paths, so
    those are only normalised (no file system call per article); a relative one, stored
    by an older version, is read from the working directory."""
    return os.path.normpath(path) if os.path.isabs(path) else absolute(path)


def is_under(path: str | None, root: str) -> bool:
    """True when ``path`` is ``root`` itself or lies inside the folder ``root`` (both absolute)."""
    if not path:
        return False
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


@dataclass(frozen=True)
class PathScope:
    """The paths a build was given (absolute), and whether the index must hold only them."""

    roots: tuple[str, ...]
    exact: bool = False

    @classmethod
    def of(cls, paths: Iterable[str | os.PathLike], exact: bool = False) -> "PathScope":
        return cls(tuple(dict.fromkeys(absolute(p) for p in paths)), exact)

    def covers(self, stored_path: str | None) -> bool:
        """Whether a build with this scope syncs the stored article found at ``stored_path``
        (paths stored relative, by older versions, are read from the working directory)."""
        if self.exact:
            return True
        if not stored_path:
            return False
        path = stored(stored_path)
        return any(is_under(path, root) for root in self.roots)


def indexed_roots(candidates: Sequence[str], paths: Iterable[str | None]) -> list[str]:
    """The roots that still hold an article among ``paths``, then the folder of each
    article that none covers (an index built before roots were recorded)."""
    held: dict[str, None] = {}
    extra: dict[str, None] = {}
    for raw in paths:
        if not raw:
            continue
        path = stored(raw)
        covering = [r for r in candidates if is_under(path, r)]
        for root in covering:
            held[root] = None
        if not covering:
            extra[str(Path(path).parent)] = None
    return [r for r in candidates if r in held] + sorted(extra)
