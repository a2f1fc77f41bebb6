"""idcrypto.decrypt_many (the 人员台账's reader) gives what decrypt gives, token by token, and refuses alike."""

from __future__ import annotations

import random

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from staffing import idcrypto


def _numbers(n: int) -> list[str]:
    rng = random.Random(17)
    return [f"{rng.randrange(10**17):017d}{rng.choice('0123456789X')}" for _ in range(n)]


def test_many_tokens_read_back_as_decrypt_reads_them():
    numbers = _numbers(300)
    tokens = [idcrypto.encrypt(n) for n in numbers]
    assert idcrypto.decrypt_many(tokens) == [idcrypto.decrypt(t) for t in tokens] == numbers


def test_blanks_pass_and_any_length_reads_back():
    key = idcrypto.fernet()
    texts = ["x" * n for n in range(0, 49)] + ["中文 15位 123456789012345"]
    tokens = [key.encrypt(t.encode()).decode() for t in texts]
    assert idcrypto.decrypt_many([None, "", *tokens, None]) == [None, "", *texts, None]
    assert idcrypto.decrypt_many([]) == []


def test_an_older_key_still_reads_while_rotating(settings):
    old_tokens = [idcrypto.encrypt(n) for n in _numbers(20)]
    new = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new, *settings.FIELD_ENCRYPTION_KEYS]
    mixed = [t for pair in zip(old_tokens, [idcrypto.encrypt(n) for n in _numbers(20)], strict=True) for t in pair]
    assert idcrypto.decrypt_many(mixed) == [idcrypto.decrypt(t) for t in mixed]


@pytest.mark.parametrize("spoil", [
    # The HMAC. Not t[-2]: before the "=" its low two bits are padding the decoder ignores, so "A" → "B" left
    # the token valid one time in sixteen (a random IV makes a random HMAC); t[-3] is all data.
    lambda t: t[:-3] + ("A" if t[-3] != "A" else "B") + t[-2:],
    lambda t: t[:40] + ("A" if t[40] != "A" else "B") + t[41:],  # the ciphertext
    lambda t: "hAAAAA" + t[6:],  # the version byte
    lambda t: t[:-4],  # cut short
    lambda t: "不是密文",
    lambda t: Fernet(Fernet.generate_key()).encrypt(b"610104199001011234").decode(),  # another key
])
def test_a_spoiled_token_is_refused_as_decrypt_refuses_it(spoil):
    good = idcrypto.encrypt("610104199001011234")
    with pytest.raises(Exception) as by_decrypt:
        idcrypto.decrypt(spoil(good))
    with pytest.raises(by_decrypt.type):
        idcrypto.decrypt_many([good, spoil(good), good])
    assert by_decrypt.type in (ImproperlyConfigured, UnicodeEncodeError)  # not ASCII: as decrypt() does
