"""Backends by name: registries that map a configured name to ``"module:Class"``,
and the entry points through which an installed package adds its own.

A backend's module (and its heavy imports: torch, llama.cpp, openai) is
imported only when that backend is asked for, and no module registers itself
by side effect. The embedder and chat-model registries and the passage-store
factory all use this.

An outside package registers a backend in its own ``pyproject.toml``::

    [project.entry-points."article_rag.chat_models"]
    my-model = "my_package.chat:MyChatModel"

(groups: :data:`EMBEDDERS_GROUP`, :data:`CHAT_MODELS_GROUP`,
:data:`PASSAGE_STORES_GROUP`); once installed, ``RAG_LLM__BACKEND=my-model``
finds it. A built-in name always wins over an entry point of the same name.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from importlib.metadata import entry_points

from rag.errors import ConfigError

EMBEDDERS_GROUP = "article_rag.embedders"
CHAT_MODELS_GROUP = "article_rag.chat_models"
PASSAGE_STORES_GROUP = "article_rag.passage_stores"


def plugin_names(group: str) -> list[str]:
    """The names installed packages register in the entry-point ``group``."""
    return sorted({ep.name for ep in entry_points(group=group)})


def backend_names(registry: Mapping[str, str], group: str) -> list[str]:
    """Built-in names first, then those of installed packages."""
    return [*registry, *(name for name in plugin_names(group) if name not in registry)]


def load_backend(registry: Mapping[str, str], name: str, what: str, setting: str, group: str | None = None):
    """The class (or factory) registered under ``name``: built in, or an entry point of ``group``.

    A ``ConfigError`` naming the choices otherwise; ``what`` ("chat backend")
    and ``setting`` ("RAG_LLM__BACKEND") phrase it.
    """
    target = registry.get(name)
    if target is None and group is not None:
        found = [ep for ep in entry_points(group=group) if ep.name == name]
        if found:
            try:
                return found[0].load()
            except Exception as exc:  # the plugin's own import failed
                raise ConfigError(f"the {what} {name!r} is registered by an installed package "
                                  f"({found[0].value}) that failed to load ({exc}); reinstall or "
                                  f"remove that package, or set {setting} to another backend") from None
    if target is None:
        choices = backend_names(registry, group) if group else list(registry)
        raise ConfigError(f"Unknown {what} {name!r}: set {setting} to one of {', '.join(sorted(choices))}.")
    module_name, _, class_name = target.partition(":")
    return getattr(importlib.import_module(module_name), class_name)
