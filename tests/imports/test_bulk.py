"""The bulk write path: the same refusals as row-by-row, a constant number of queries, the database as backstop."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from communities.models import Community, Compound
from imports.services import workbook_import

from .test_import_workbook import (  # noqa: F401
    COMMUNITY_HEADERS,
    COMPOUND_HEADERS,
    codes,
    community_row,
    compound_row,
    existing,
    xlsx,
)

pytestmark = pytest.mark.django_db


def community_book(first: int, count: int, **overrides):
    return xlsx({"社区": [COMMUNITY_HEADERS, *(community_row(f"610104001{n:03d}", name=f"社区{n}", **overrides)
                                             for n in range(first, first + count))]})


def import_queries(book) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as queries:
        result = workbook_import(file=book)
    return len(queries), result


def test_creating_or_updating_more_rows_runs_the_same_queries(existing):  # noqa: F811
    # Up to a batch: SQLite caps a statement at 999 parameters (about 45 rows here), PostgreSQL takes 2,000 rows.
    n = 600 if connection.vendor == "postgresql" else 40
    few, result = import_queries(community_book(100, 5))
    assert result.ok and len(result.sheet("社区").created) == 5
    many, result = import_queries(community_book(200, n))
    assert result.ok and len(result.sheet("社区").created) == n
    assert many == few
    few_updates, result = import_queries(community_book(100, 5, households=1500))
    assert result.ok and len(result.sheet("社区").updated) == 5
    many_updates, result = import_queries(community_book(200, n, households=1500))
    assert result.ok and len(result.sheet("社区").updated) == n
    assert many_updates == few_updates
    assert Community.objects.get(code=f"610104001{199 + n:03d}").households == 1500
    assert Community.history.filter(code=f"610104001{199 + n:03d}").count() == 2


def test_compounds_in_more_communities_run_the_same_queries(existing):  # noqa: F811
    # Each 小区 takes its 街办 from its 社区: read with the 社区, never one query per row.
    n = 600 if connection.vendor == "postgresql" else 40
    assert workbook_import(file=community_book(200, n)).ok

    def compound_book(count: int):
        return xlsx({"小区": [COMPOUND_HEADERS, *(compound_row(f"XQ-B{count}-{n:03d}", community=f"610104001{n:03d}")
                                                for n in range(200, 200 + count))]})

    few, result = import_queries(compound_book(5))
    assert result.ok and len(result.sheet("小区").created) == 5
    many, result = import_queries(compound_book(n))
    assert result.ok and len(result.sheet("小区").created) == n
    assert many == few
    last = Compound.objects.select_related("community").get(code=f"XQ-B{n}-{199 + n:03d}")
    assert last.sub_district.code == last.community.sub_district_id == "610104001"


def test_a_value_past_the_columns_range_is_refused_and_nothing_is_written(existing):  # noqa: F811
    book = xlsx({"社区": [COMMUNITY_HEADERS, community_row("610104001101"),
                         community_row("610104001102", households=3_000_000_000, population=3_000_000_001)]})
    result = workbook_import(file=book)
    assert codes(result) == [("社区", 3, "户数", "too_large"), ("社区", 3, "常住人口", "too_large")]
    assert not Community.objects.filter(code__in=["610104001101", "610104001102"]).exists()


def test_what_the_checks_miss_the_database_refuses_and_the_row_is_named(existing, monkeypatch):  # noqa: F811
    # Blind both the import's and clean()'s view of existing codes: the taken code reaches the unique index.
    monkeypatch.setattr("communities.models.KnownCodes.read",
                        classmethod(lambda cls, codes=None, exclude_pk=None: cls(taken={}, retired={})))
    monkeypatch.setattr("communities.sheets.communities_by_code", lambda ctx, codes=(): {})
    book = xlsx({"社区": [COMMUNITY_HEADERS, community_row("610104001103"),
                         community_row("610104009001", street="枣园街道")]})
    result = workbook_import(file=book)
    assert codes(result) == [("社区", 3, "社区代码", "integrity")]
    assert not Community.objects.filter(code="610104001103").exists()
    assert Community.objects.filter(code="610104009001").count() == 1


def test_refused_and_accepted_rows_are_reported_together_and_nothing_is_written(existing):  # noqa: F811
    book = xlsx({"社区": [COMMUNITY_HEADERS, community_row("610104001104"),
                         community_row("610104001105", population=10),
                         community_row("610104009001", name="枣园社区", street="枣园街道", households=10)]})
    result = workbook_import(file=book)
    assert codes(result) == [("社区", 3, "常住人口", "population_below_households")]
    assert result.sheet("社区").created == ["610104001104"]
    assert result.sheet("社区").updated == ["610104009001"]
    assert not Community.objects.filter(code="610104001104").exists()
    assert Community.objects.get(code="610104009001").households == 2000
