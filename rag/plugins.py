"""Backends by name: registries that map a configured name to ``"module:Class"``.

A backend's module (and its heavy imports: torch, llama.cpp, openai) is
imported only when that backend is asked for, and no module registers itself
by side effect. The embedder and chat-model registries both use this.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

from rag.errors import ConfigError


def load_backend(registry: Mapping[str, str], name: str, what: str, setting: str) -> type:
    """The class registered under ``name``; a ``ConfigError`` naming the choices otherwise.

    ``what`` ("chat backend") and ``setting`` ("RAG_LLM__BACKEND") phrase the error.
    """
    target = registry.get(name)
    if target is None:
        raise ConfigError(f"Unknown {what} {name!r}: set {setting} to one of {', '.join(sorted(registry))}.")
    module_name, _, class_name = target.partition(":")
    return getattr(importlib.import_module(module_name), class_name)
