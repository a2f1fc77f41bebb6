"""staffing.models.new_public_id: the opaque number that pages, findings and exports show instead of the ID number."""

from collections import Counter

from staffing.models import PUBLIC_ID_ALPHABET, new_public_id


def test_shape_and_alphabet():
    ids = [new_public_id() for _ in range(2000)]
    assert all(len(i) == 12 and i[0] == "P" and set(i[1:]) <= set(PUBLIC_ID_ALPHABET) for i in ids)
    assert len(set(ids)) == len(ids)


def test_every_letter_equally_likely():
    # 32,000 ids, 352,000 letters: 11,000 expected of each; a letter mapped twice (or never) would be off by
    # thousands, chance alone by a few hundred at most.
    counts = Counter(ch for _ in range(32_000) for ch in new_public_id()[1:])
    assert set(counts) == set(PUBLIC_ID_ALPHABET)
    assert all(10_400 < n < 11_600 for n in counts.values()), counts
