"""The Redis cache's client: one redis.Redis per connection pool, kept, and still a miss when Redis is down."""

from __future__ import annotations

import socket

from lianhu.cache import ForgivingRedisCache


def _closed_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


def test_every_operation_uses_the_same_client_and_a_down_redis_is_still_a_miss():
    cache = ForgivingRedisCache(_closed_url(), {"OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}})
    first = cache._cache.get_client(write=False)
    assert cache._cache.get_client("any key", write=True) is first  # one server: reads and writes share a pool
    assert first.connection_pool is cache._cache._get_connection_pool(False)

    assert cache.get("k", "miss") == "miss"
    cache.set("k", 1)  # dropped, no error
    assert cache.get_many(["k"]) == {}
    assert cache._cache.get_client() is first  # a failed operation leaves the client usable for the next
