"""Helpers for the compliance tests: communities and compounds made through the services."""

from __future__ import annotations

import pytest

from communities import services


@pytest.fixture
def make_community(streets):
    counter = {"n": 0}

    def make(street="qingnian", households=3000, population=None, **fields):
        counter["n"] += 1
        sub = streets[street]
        code = fields.pop("code", f"{sub.code}{counter['n']:03d}")
        return services.community_create(
            code=code, name=fields.pop("name", f"测试{counter['n']}社区"), sub_district=sub,
            households=households, population=population if population is not None else max(households * 3, 1),
            **fields,
        )

    return make


@pytest.fixture
def make_compound():
    counter = {"n": 0}

    def make(community=None, street=None, **fields):
        counter["n"] += 1
        code = fields.pop("code", f"XQ{counter['n']:05d}")
        return services.compound_create(code=code, name=fields.pop("name", f"{code}小区"), community=community,
                                        sub_district=street, **fields)

    return make

