"""ID numbers at rest: Fernet ciphertext for the number, a keyed hash (HMAC-SHA256) to find and de-duplicate it.

The database never holds a number in clear (a dump, a replica or a backup holds ciphertext and digests), yet
the application still finds a person by number and refuses a second person with the same number: both go by
the digest, which is deterministic for one key, while the ciphertext is not (Fernet draws a fresh IV).

Keys come from the environment (docs/deployment.md, "身份证号加密密钥"):

- ``DJANGO_FIELD_ENCRYPTION_KEY``: one or more Fernet keys, comma-separated. The first encrypts; all decrypt,
  so a new key is put first and ``manage.py id_numbers_rotate`` re-encrypts every row under it before the old
  key is dropped.
- ``DJANGO_FIELD_HASH_KEY``: the HMAC key. Changing it needs ``id_numbers_rotate --rehash`` (the digests are
  recomputed from the decrypted numbers) before the new process serves look-ups.

Under ``DJANGO_DEBUG=1`` both have development defaults; without debug a missing key stops the first use with
ImproperlyConfigured, and ``check --deploy`` reports it (staffing.E001).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# Fernet tokens are base64 of a version byte 0x80 and a timestamp: they always start like this.
TOKEN_PREFIX = "gAAAAA"


def _keys() -> tuple[list[str], str]:
    keys = [k.strip() for k in getattr(settings, "FIELD_ENCRYPTION_KEYS", []) if k and k.strip()]
    hash_key = (getattr(settings, "FIELD_HASH_KEY", "") or "").strip()
    if not keys or not hash_key:
        raise ImproperlyConfigured(
            "身份证号加密需要 DJANGO_FIELD_ENCRYPTION_KEY 和 DJANGO_FIELD_HASH_KEY（见 docs/deployment.md）。")
    return keys, hash_key


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured("DJANGO_FIELD_ENCRYPTION_KEY 不是有效的 Fernet 密钥（32 字节的 URL-safe base64）。") from exc


def fernet() -> MultiFernet:
    keys, _ = _keys()
    return _fernet(tuple(keys))


def encrypt(number: str) -> str:
    return fernet().encrypt(number.encode()).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode("ascii")).decode()
    except InvalidToken:
        # Never the token itself in the message: it ends up in logs.
        raise ImproperlyConfigured("身份证号密文无法用当前密钥解密：请检查 DJANGO_FIELD_ENCRYPTION_KEY。") from None


def rotate(token: str) -> str:
    """The same number under the first (newest) key."""
    return fernet().rotate(token.encode("ascii")).decode("ascii")


def digest(number: str) -> str:
    """The keyed hash of a normalized number: 64 hex characters."""
    _, hash_key = _keys()
    return hmac.new(hash_key.encode(), number.encode(), hashlib.sha256).hexdigest()


def digester() -> Callable[[str], str]:
    """``digest`` with the key read once: for a writer of many numbers (the workbook import)."""
    _, hash_key = _keys()
    key = hash_key.encode()
    return lambda number: hmac.new(key, number.encode(), hashlib.sha256).hexdigest()


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")
