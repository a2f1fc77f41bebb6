"""What a save changed, in one sentence for the page after it (issue 3 item 4).

A view wraps its service call in ``compliance.engine.capture_changes()`` and
hands the result here.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest

from .engine import Changes
from .names import rule_name

# A save touching a whole community could open many; the page names the first few.
NAMED = 5
# The save's rules are being re-judged by a Celery worker: what the page shows may predate this save.
PENDING = "合规问题正在重新判定，稍后刷新可见最新结果，当前页面显示的问题可能尚未反映本次保存"


def _names(findings) -> str:
    shown = [f"{rule_name(f.rule_id)}（{f.message}）" if f.message else rule_name(f.rule_id) for f in findings[:NAMED]]
    more = len(findings) - NAMED
    return "；".join(shown) + (f" 等 {len(findings)} 项" if more > 0 else "")


def changes_message(changes: Changes) -> str:
    parts = []
    if changes.opened:
        parts.append(f"本次保存新增 {len(changes.opened)} 项合规问题：{_names(changes.opened)}")
    if changes.resolved:
        parts.append(f"已整改 {len(changes.resolved)} 项：{_names(changes.resolved)}")
    if changes.pending:
        parts.append(PENDING)
    return "；".join(parts) + "。" if parts else ""


def report_changes(request: HttpRequest, changes: Changes) -> None:
    """Add the save's findings to the next page; nothing when the save changed none."""
    text = changes_message(changes)
    if text:
        level = messages.WARNING if changes.opened else messages.INFO if changes.pending else messages.SUCCESS
        messages.add_message(request, level, text)
