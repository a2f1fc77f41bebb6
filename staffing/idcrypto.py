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

import base64
import hashlib
import hmac
import os
import time
from collections.abc import Callable, Sequence
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
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


def encrypt_many(numbers: Sequence[str]) -> list[str]:
    """``encrypt`` of many numbers: for a writer of many rows (the workbook import's new people).

    Fernet tokens as ``Fernet.encrypt`` makes them under the first key — version byte, one timestamp for the
    batch, a fresh random IV per token, AES-128-CBC of the PKCS7-padded number, HMAC-SHA256 — which any
    ``decrypt`` reads. Without cryptography's cipher, padder and HMAC objects per token (about 15 µs each): the
    HMAC reuses the SHA-256 states keyed once (as ``decrypt_many``), and CBC goes block by block for the whole
    batch, each round one AES call over every token's next block XORed with its block before."""
    keys, _ = _keys()
    fernet()  # the keys' checks and messages, as encrypt() gives them
    inner, outer, aes = _key_parts(tuple(keys))[0]
    if not numbers:
        return []
    padded = []
    for number in numbers:
        data = number.encode()
        pad = 16 - len(data) % 16
        padded.append(data + bytes((pad,)) * pad)
    ivs = os.urandom(16 * len(numbers))
    chain = [ivs[16 * n:16 * n + 16] for n in range(len(numbers))]  # per token: the block before (IV first)
    ciphertext: list[list[bytes]] = [[] for _ in numbers]
    encrypt_blocks = Cipher(algorithms.AES(aes), modes.ECB()).encryptor().update
    for at in range(0, max(len(p) for p in padded), 16):
        going = [n for n, p in enumerate(padded) if len(p) > at]
        mixed = b"".join([(int.from_bytes(padded[n][at:at + 16], "big") ^ int.from_bytes(chain[n], "big")
                           ).to_bytes(16, "big") for n in going])
        out = encrypt_blocks(mixed)
        for k, n in enumerate(going):
            block = out[16 * k:16 * k + 16]
            ciphertext[n].append(block)
            chain[n] = block
    stamp = b"\x80" + int(time.time()).to_bytes(8, "big")
    tokens = []
    for n in range(len(numbers)):
        basic = stamp + ivs[16 * n:16 * n + 16] + b"".join(ciphertext[n])
        i = inner.copy()  # type: ignore[attr-defined]
        i.update(basic)
        o = outer.copy()  # type: ignore[attr-defined]
        o.update(i.digest())
        tokens.append(base64.urlsafe_b64encode(basic + o.digest()).decode("ascii"))
    return tokens


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode("ascii")).decode()
    except InvalidToken:
        # Never the token itself in the message: it ends up in logs.
        raise ImproperlyConfigured("身份证号密文无法用当前密钥解密：请检查 DJANGO_FIELD_ENCRYPTION_KEY。") from None


@lru_cache(maxsize=4)
def _key_parts(keys: tuple[str, ...]) -> tuple[tuple[object, object, bytes], ...]:
    """Per key: SHA-256 states with the HMAC pads of its signing half absorbed, and its AES-128 half."""
    parts = []
    for key in keys:
        raw = base64.urlsafe_b64decode(key)
        signing = raw[:16].ljust(64, b"\0")
        parts.append((hashlib.sha256(bytes(b ^ 0x36 for b in signing)),
                      hashlib.sha256(bytes(b ^ 0x5C for b in signing)), raw[16:]))
    return tuple(parts)


def decrypt_many(tokens: Sequence[str | None]) -> list[str | None]:
    """``decrypt`` of many tokens (None and "" pass through): for a reader of many rows (the 人员台账).

    The same Fernet checks, in the same order as ``MultiFernet.decrypt``: version byte, HMAC-SHA256 of the
    token under each key's signing half in turn (constant-time compare), then AES-128-CBC and PKCS7 padding,
    but without building cryptography's HMAC and cipher objects per token (about 11 µs each): the HMAC reuses
    SHA-256 states keyed once, and a whole batch's blocks are decrypted in one AES call per key, each block
    then XORed with the one before it (that is CBC). A token this path does not take (malformed, tampered,
    another key) goes through ``decrypt`` itself, which decides and raises as always."""
    keys, _ = _keys()
    parts = _key_parts(tuple(keys))
    blocks: list[list[bytes]] = [[] for _ in parts]  # per key: the tokens' decoded bytes
    where: list[tuple[int, int] | None] = []  # per token: (key, position) or None for decrypt()
    for token in tokens:
        if not token:
            where.append(None)
            continue
        try:
            data = base64.urlsafe_b64decode(token)
        except ValueError:
            data = b""
        if len(data) < 73 or data[0] != 0x80 or (len(data) - 57) % 16:
            where.append(None)
            continue
        body, mac = data[:-32], data[-32:]
        for n, (inner, outer, _aes) in enumerate(parts):
            i = inner.copy()  # type: ignore[attr-defined]
            i.update(body)
            o = outer.copy()  # type: ignore[attr-defined]
            o.update(i.digest())
            if hmac.compare_digest(o.digest(), mac):
                blocks[n].append(data)
                where.append((n, len(blocks[n]) - 1))
                break
        else:
            where.append(None)
    plain: list[list[str | None]] = []
    for (_inner, _outer, aes), datas in zip(parts, blocks, strict=True):
        out: list[str | None] = []
        if datas:
            decrypted = Cipher(algorithms.AES(aes), modes.ECB()).decryptor().update(
                b"".join([d[25:-32] for d in datas]))
            at = 0
            for d in datas:
                size = len(d) - 57
                padded = (int.from_bytes(decrypted[at:at + size], "big") ^ int.from_bytes(d[9:9 + size], "big")
                          ).to_bytes(size, "big")
                at += size
                pad = padded[-1]
                try:
                    if not 1 <= pad <= 16 or padded[-pad:] != bytes((pad,)) * pad:
                        raise ValueError
                    out.append(padded[:-pad].decode())
                except ValueError:  # bad padding or not UTF-8: decrypt() raises its own error
                    out.append(None)
        plain.append(out)
    result: list[str | None] = []
    for token, place in zip(tokens, where, strict=True):
        value = None if place is None else plain[place[0]][place[1]]
        result.append(token if not token else value if value is not None else decrypt(token))  # type: ignore[arg-type]
    return result


def rotate(token: str) -> str:
    """The same number under the first (newest) key."""
    return fernet().rotate(token.encode("ascii")).decode("ascii")


def digest(number: str) -> str:
    """The keyed hash of a normalized number: 64 hex characters."""
    _, hash_key = _keys()
    return hmac.digest(hash_key.encode(), number.encode(), "sha256").hex()


def digester() -> Callable[[str], str]:
    """``digest`` with the key read once: for a writer of many numbers (the workbook import)."""
    _, hash_key = _keys()
    key = hash_key.encode()
    # hmac.digest: the one-shot C path (hmac.new builds a Python HMAC object per number).
    return lambda number: hmac.digest(key, number.encode(), "sha256").hex()


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")
