"""Optional reporting to a self-hosted Sentry (only when SENTRY_DSN is set; sentry-sdk is imported then).

No personal data is sent: no user details or request bodies (send_default_pii off),
and every string in an event passes the ID-number redaction before it leaves.
"""

from __future__ import annotations

from typing import Any


def _scrub(value: Any) -> Any:
    from staffing.idnumbers import redact

    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_scrub(v) for v in value)
    return value


def before_send(event: Any, hint: Any) -> Any:
    return _scrub(event)


def init_sentry(dsn: str, *, environment: str) -> None:
    import sentry_sdk

    sentry_sdk.init(dsn=dsn, environment=environment, send_default_pii=False, max_request_body_size="never",
                    before_send=before_send, before_send_transaction=before_send, traces_sample_rate=0.0)
