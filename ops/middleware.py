"""Answers /healthz ahead of every other middleware.

A monitor or nginx calls it on 127.0.0.1 with whatever Host header it has, over
plain HTTP: placed first, it needs neither ALLOWED_HOSTS, nor the HTTPS
redirect, nor a session (which would live in the Redis it is checking).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

HEALTHZ_PATH = "/healthz"


class HealthzMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info in (HEALTHZ_PATH, HEALTHZ_PATH + "/"):
            from .views import healthz

            return healthz(request)
        return self.get_response(request)
