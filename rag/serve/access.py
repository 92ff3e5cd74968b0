"""Who may call the servers: loopback by default, Bearer keys otherwise, admin keys for
rebuilding.

The operator names the *variables* that hold the keys (``serve.api_keys_env``,
``serve.admin_keys_env``; each variable holds one or more comma-separated keys). With no
keys at all a server listens on a loopback address only (:func:`check_listen`), and a
request that came through a proxy (``X-Forwarded-For`` or ``Forwarded``) is refused, as the
UI treats it as a visitor: on loopback behind a proxy the world may be the client.
"""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass

from rag.config import ServeSettings
from rag.loopback import is_loopback
from rag.errors import ConfigError

KEYS_HOWTO = ("set RAG_SERVE__API_KEYS_ENV to the name of an environment variable and put one or more "
              "comma-separated keys in that variable (e.g. `export RAG_API_KEYS=$(openssl rand -hex 24)` "
              "and `export RAG_SERVE__API_KEYS_ENV=RAG_API_KEYS`)")


def _read_keys(variable: str | None, setting: str) -> frozenset[str]:
    if not variable:
        return frozenset()
    value = os.environ.get(variable)
    if value is None:
        raise ConfigError(f"{setting} names the variable {variable}, which is not set: put one or more "
                          f"comma-separated keys in it, or unset {setting}.")
    keys = frozenset(k.strip() for k in value.split(",") if k.strip())
    if not keys:
        raise ConfigError(f"The variable {variable} (named by {setting}) holds no key.")
    return keys


@dataclass(frozen=True)
class Keys:
    """The keys a server accepts; never shown or logged."""

    visitor: frozenset[str] = frozenset()
    admin: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, serve: ServeSettings) -> "Keys":
        """The keys from the variables ``serve`` names (a named variable that is unset or
        empty is a ConfigError naming it)."""
        return cls(_read_keys(serve.api_keys_env, "serve.api_keys_env (RAG_SERVE__API_KEYS_ENV)"),
                   _read_keys(serve.admin_keys_env, "serve.admin_keys_env (RAG_SERVE__ADMIN_KEYS_ENV)"))

    @property
    def required(self) -> bool:
        return bool(self.visitor or self.admin)

    def __repr__(self) -> str:
        return f"Keys(visitor={len(self.visitor)}, admin={len(self.admin)})"

    def role(self, token: str | None) -> str | None:
        """"admin", "visitor" or None for ``token`` (compared in constant time)."""
        if not token:
            return None
        given = token.encode()
        if any(hmac.compare_digest(given, k.encode()) for k in self.admin):
            return "admin"
        if any(hmac.compare_digest(given, k.encode()) for k in self.visitor):
            return "visitor"
        return None


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer TOKEN`` header, or None."""
    scheme, _, token = (authorization or "").partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


def check_listen(host: str, keys: Keys, what: str = "rag serve") -> None:
    """Refuse (ConfigError) a non-loopback address when no key is configured."""
    if not is_loopback(host) and not keys.required:
        raise ConfigError(f"{what} will not listen on {host} without API keys, since anyone who can "
                          f"reach it could use it: {KEYS_HOWTO}; or listen on 127.0.0.1.")


class Denied(Exception):
    """A request without the right key: ``status`` 401 (no or wrong key) or 403."""

    def __init__(self, status: int, message: str):
        self.status = status
        super().__init__(message)


def authorize(keys: Keys, headers, admin: bool = False) -> str:
    """The caller's role ("admin", "visitor", or "local" on a keyless loopback server), or
    :class:`Denied`. ``headers``: a case-insensitive mapping of the request's headers."""
    if not keys.required:
        if headers.get("x-forwarded-for") or headers.get("forwarded"):
            raise Denied(401, "This server has no API keys and the request came through a proxy, so it "
                              f"may come from anywhere: {KEYS_HOWTO}.")
        if admin:
            raise Denied(403, "Rebuilding the index over HTTP needs an admin key: set "
                              "RAG_SERVE__ADMIN_KEYS_ENV to the name of a variable holding one.")
        return "local"
    token = bearer_token(headers.get("authorization"))
    if token is None:
        raise Denied(401, "This server needs an API key: send `Authorization: Bearer KEY`.")
    role = keys.role(token)
    if role is None:
        raise Denied(401, "The API key is not valid for this server.")
    if admin and role != "admin":
        raise Denied(403, "Rebuilding the index needs an admin key; this key is a visitor's.")
    return role
