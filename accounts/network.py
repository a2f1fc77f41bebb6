"""Which address a request really came from, for the lockout (django-axes) and the security log alike.

Behind ``DJANGO_PROXY_COUNT`` trusted reverse proxies, each proxy writes the address it was reached from into
``X-Forwarded-For`` (the documented nginx overwrites the header with ``$remote_addr``; a proxy that appends
adds one entry at the right). The client is therefore the N-th entry from the right; anything further left
was written by the client itself and is ignored. With no proxy configured the header is ignored entirely,
so nobody can pick the address they are locked out (or logged) under.

django-ipware was tried for this (``django-axes[ipware]``): its proxy count counts the proxies *listed in* the
header, so with nginx's overwrite its strict mode answers the proxy's own address for any appended chain and
its lenient mode picks a client-written entry. Counting from the right is what the deployment needs.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _address(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1:value.index("]")]
    elif value.count(":") == 1:  # "203.0.113.5:51234"
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str | None:
    """The client's address: ``REMOTE_ADDR``, or behind N proxies the N-th ``X-Forwarded-For`` entry from the right.

    A request that did not pass through all the proxies (too few entries, e.g. a health check on the loopback)
    or whose entry is not an address is taken at its ``REMOTE_ADDR``.
    """
    remote = _address(request.META.get("REMOTE_ADDR"))
    hops = int(getattr(settings, "LIANHU_PROXY_COUNT", 0) or 0)
    if hops <= 0:
        return remote
    forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < hops:
        return remote
    return _address(forwarded[-hops]) or remote
