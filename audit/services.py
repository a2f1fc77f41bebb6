"""Writing security events: the one entry point for signals, services and the middleware."""

from __future__ import annotations

import logging
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from .context import COMMAND_LINE, client_ip, command_line_origin, current_command, current_request
from .models import Kind, SecurityEvent

logger = logging.getLogger("lianhu.security")

_encoder = DjangoJSONEncoder()


def _plain(value: Any) -> Any:
    # Dates, decimals and the like as the JSON column can hold them.
    import json

    return json.loads(_encoder.encode(value))


# What a permission or group change records, the same whether a signal saw one row saved (audit/signals.py) or a
# service wrote many rows at once without signals (accounts.roles.ensure_role_groups, sub_district_upsert).


def group_created_detail(name: str) -> dict[str, Any]:
    return {"action": "create", "on": "group", "group": name}


def m2m_detail(action: str, on: str, detail: dict[str, Any]) -> dict[str, Any]:
    """``on`` names the relation (``group.permissions``); ``detail`` holds both sides by name."""
    return {"action": action, "on": on, **detail}


def object_permission_detail(*, action: str, holder: Any, permission, content_type, object_pk: Any) -> dict[str, Any]:
    from django.contrib.contenttypes.models import ContentType

    # Content types by id from Django's cache: guardian hands over the permission without its content type.
    app_label = ContentType.objects.get_for_id(permission.content_type_id).app_label
    return {"action": action, "on": "object_permission", "holder": str(holder),
            "permission": f"{app_label}.{permission.codename}",
            "object": f"{content_type.app_label}.{content_type.model}:{object_pk}"}


def security_event_record(*, kind: Kind | str, user=None, username: str = "", request=None,
                          ip: str | None = None, detail: dict[str, Any] | None = None) -> SecurityEvent:
    """Append one event. ``request`` (or the request being served) supplies who and where when not given;
    inside a management command run under ``audited_command`` the command line does."""
    return security_events_record(kind=kind, user=user, username=username, request=request, ip=ip,
                                  details=[detail or {}])[0]


def security_events_record(*, kind: Kind | str, details: list[dict[str, Any]], user=None, username: str = "",
                           request=None, ip: str | None = None) -> list[SecurityEvent]:
    """Append several events of one kind by the same who and where in one INSERT (one per 街办 of a bulk
    grant: a thousand for a national import, which one at a time cost a round trip each)."""
    kind = Kind(kind)
    request = request if request is not None else current_request.get()
    if user is None and request is not None:
        candidate = getattr(request, "user", None)
        if candidate is not None and candidate.is_authenticated:
            user = candidate
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    if not username and user is not None:
        username = user.get_username()
    if request is None and current_command.get() is not None:
        # No address to record: the detail says which command, account and host instead.
        origin = command_line_origin()
        details = [{**origin, **detail} for detail in details]
        username = username or COMMAND_LINE
    where = ip or client_ip(request)
    events = SecurityEvent.objects.bulk_create([
        SecurityEvent(kind=kind, user=user, username=(username or "")[:150], ip=where, detail=_plain(detail))
        for detail in details
    ])
    for event in events:
        logger.info("security %s user=%s ip=%s %s", kind.value, event.username or "-", event.ip or "-",
                    event.detail)
    return events
