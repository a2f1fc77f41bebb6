"""A Redis cache that degrades to a miss when Redis is down.

The cache holds nothing the application cannot rebuild (import progress, the
session copy in front of the database): a Redis outage must cost speed, not
logins and saves. Every read answers as a miss and every write is dropped,
with one warning a minute in the log instead of a 500 on every page.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

logger = logging.getLogger("lianhu.cache")

_WARN_EVERY = 60.0
_last_warning = 0.0


def _unavailable_errors() -> tuple[type[BaseException], ...]:
    import redis

    return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


def _warn(operation: str, error: BaseException) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning >= _WARN_EVERY:
        _last_warning = now
        logger.warning("缓存（Redis）不可用，%s 按未命中处理：%s", operation, error)


class _ReusedClient(RedisCacheClient):
    """Django's client builds a new redis.Redis on every operation, and each builds its table of some 170 reply
    parsers anew (a page's two or three cache reads: about 0.5 ms of CPU). One per connection pool, kept: a
    redis.Redis holds no connection of its own, only the pool's."""

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]  # Django's, not in the stubs
        clients = self.__dict__.setdefault("_clients", {})
        client = clients.get(id(pool))
        if client is None:
            client = clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class ForgivingRedisCache(RedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _ReusedClient

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except _unavailable_errors() as error:
            _warn("get", error)
            return default

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        try:
            return super().get_many(keys, version)
        except _unavailable_errors() as error:
            _warn("get_many", error)
            return {}

    def has_key(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().has_key(key, version)
        except _unavailable_errors() as error:
            _warn("has_key", error)
            return False

    def set(self, key: Any, value: Any, timeout: Any = 300, version: int | None = None) -> None:  # type: ignore[override]
        try:
            super().set(key, value, timeout, version)
        except _unavailable_errors() as error:
            _warn("set", error)

    def add(self, key: Any, value: Any, timeout: Any = 300, version: int | None = None) -> bool:  # type: ignore[override]
        try:
            return super().add(key, value, timeout, version)
        except _unavailable_errors() as error:
            _warn("add", error)
            return False

    def set_many(self, data: dict[Any, Any], timeout: Any = 300, version: int | None = None) -> list[Any]:  # type: ignore[override]
        try:
            return super().set_many(data, timeout, version)
        except _unavailable_errors() as error:
            _warn("set_many", error)
            return list(data)

    def touch(self, key: Any, timeout: Any = 300, version: int | None = None) -> bool:  # type: ignore[override]
        try:
            return super().touch(key, timeout, version)
        except _unavailable_errors() as error:
            _warn("touch", error)
            return False

    def delete(self, key: Any, version: int | None = None) -> bool:
        # A stale copy that cannot be deleted now expires with its timeout; the database stays the truth.
        try:
            return super().delete(key, version)
        except _unavailable_errors() as error:
            _warn("delete", error)
            return False

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        try:
            super().delete_many(keys, version)
        except _unavailable_errors() as error:
            _warn("delete_many", error)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        try:
            return super().incr(key, delta, version)
        except _unavailable_errors() as error:
            _warn("incr", error)
            raise ValueError(f"Key '{key}' not found") from error  # what a miss raises

    def clear(self) -> None:
        try:
            super().clear()
        except _unavailable_errors() as error:
            _warn("clear", error)
