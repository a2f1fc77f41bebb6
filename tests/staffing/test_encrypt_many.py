"""idcrypto.encrypt_many (the workbook import's writer of new people) makes the tokens Fernet makes: read back by
Fernet itself under the first key, a fresh IV each, and the same numbers whatever their length."""

from __future__ import annotations

import base64
import random
import time

from cryptography.fernet import Fernet

from staffing import idcrypto


def _numbers(n: int) -> list[str]:
    rng = random.Random(23)
    return [f"{rng.randrange(10**17):017d}{rng.choice('0123456789X')}" for _ in range(n)]


def test_tokens_read_back_by_fernet_and_by_decrypt():
    numbers = _numbers(300)
    tokens = idcrypto.encrypt_many(numbers)
    first = Fernet(idcrypto._keys()[0][0].encode())
    assert [first.decrypt(t.encode()).decode() for t in tokens] == numbers
    assert [idcrypto.decrypt(t) for t in tokens] == idcrypto.decrypt_many(tokens) == numbers
    assert all(t.startswith(idcrypto.TOKEN_PREFIX) for t in tokens)


def test_every_token_has_its_own_iv_and_the_time_of_writing():
    tokens = idcrypto.encrypt_many(["610104198001010018"] * 50)
    raw = [base64.urlsafe_b64decode(t) for t in tokens]
    assert len({r[9:25] for r in raw}) == 50
    assert all(abs(int.from_bytes(r[1:9], "big") - time.time()) < 60 for r in raw)


def test_any_length_and_no_numbers():
    texts = ["x" * n for n in range(0, 49)] + ["中文 15位 123456789012345"]
    assert [idcrypto.decrypt(t) for t in idcrypto.encrypt_many(texts)] == texts
    assert idcrypto.encrypt_many([]) == []


def test_the_first_key_encrypts_while_rotating(settings):
    new = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new, *settings.FIELD_ENCRYPTION_KEYS]
    tokens = idcrypto.encrypt_many(_numbers(10))
    assert [Fernet(new.encode()).decrypt(t.encode()).decode() for t in tokens] == _numbers(10)
