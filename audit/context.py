"""The request being served, so signals and services deep below a view can say where an action came from."""

from __future__ import annotations

from contextvars import ContextVar

from django.http import HttpRequest

current_request: ContextVar[HttpRequest | None] = ContextVar("audit_current_request", default=None)


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    try:
        from axes.helpers import get_client_ip_address

        # The same address django-axes locks out, so the two logs agree.
        return get_client_ip_address(request) or request.META.get("REMOTE_ADDR") or None
    except Exception:  # an unreadable address is recorded as unknown
        return request.META.get("REMOTE_ADDR") or None


# The management command being run, when there is no request: the log then says "命令行" and the host.
current_command: ContextVar[str | None] = ContextVar("audit_current_command", default=None)

COMMAND_LINE = "(命令行)"


def command_line_origin() -> dict[str, str]:
    """Where a command-line action came from: the command, the operating-system account and the host."""
    import getpass
    import socket

    try:
        os_user = getpass.getuser()
    except Exception:  # no login name (e.g. a container without a passwd entry)
        os_user = ""
    return {"via": "command", "command": current_command.get() or "", "os_user": os_user,
            "host": socket.gethostname()}


def audited_command(handle):
    """Decorates a management command's ``handle``: events recorded while it runs (its own, and signals' such as
    group changes) name the command line as their origin instead of leaving who and where blank."""
    import functools

    @functools.wraps(handle)
    def wrapper(self, *args, **options):
        token = current_command.set(type(self).__module__.rsplit(".", 1)[-1])
        try:
            return handle(self, *args, **options)
        finally:
            current_command.reset(token)

    return wrapper
