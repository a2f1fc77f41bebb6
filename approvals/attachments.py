"""Upload checks for step attachments: the bytes decide the type, not the name."""

from __future__ import annotations

import hashlib
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

DEFAULT_MAX_BYTES = 10 * 1024 * 1024

# type → (magic prefix, extensions a file of that type may carry)
KINDS = {
    "application/pdf": (b"%PDF-", (".pdf",)),
    "image/png": (b"\x89PNG\r\n\x1a\n", (".png",)),
    "image/jpeg": (b"\xff\xd8\xff", (".jpg", ".jpeg")),
}


def max_bytes() -> int:
    return int(getattr(settings, "APPROVALS_MAX_ATTACHMENT_BYTES", DEFAULT_MAX_BYTES))


def sniff(head: bytes) -> str | None:
    return next((kind for kind, (magic, _exts) in KINDS.items() if head.startswith(magic)), None)


def check_upload(upload: UploadedFile) -> tuple[str, str]:
    """Returns (content type, sha256) or raises with a stable code; reads the file once."""
    name = PurePath(upload.name or "").name
    limit = max_bytes()
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            f"附件“{name}”大小 {upload.size / 1048576:.1f} MB，超过上限 {limit / 1048576:.0f} MB。",
            code="attachment_too_large",
        )
    if not upload.size:
        raise ValidationError(f"附件“{name}”是空文件。", code="attachment_empty")
    upload.seek(0)
    head = upload.read(16)
    kind = sniff(head)
    if kind is None:
        raise ValidationError(
            f"附件“{name}”不是 PDF、PNG 或 JPEG 文件（按文件内容判断），只接受这三种格式。",
            code="attachment_type",
        )
    ext = PurePath(name).suffix.lower()
    if ext not in KINDS[kind][1]:
        raise ValidationError(
            f"附件“{name}”的扩展名与内容不符（内容为 {kind}），请使用正确的扩展名。",
            code="attachment_extension",
        )
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return kind, digest.hexdigest()
