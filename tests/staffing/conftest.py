import pytest

from . import builders as b


@pytest.fixture
def make_community(streets):
    counter = iter(range(101, 999))

    def make(households=1500, population=None, street="qingnian", **fields):
        return b.community(streets[street], f"{next(counter):03d}", households=households,
                           population=population if population is not None else households * 3, **fields)

    return make
