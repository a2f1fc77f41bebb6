"""Every index costs each write of its table: the project's tables carry only the indexes something reads."""

import pytest
from django.apps import apps
from django.db import connection
from simple_history.models import registered_models

OWN_APPS = {"accounts", "communities", "facilities", "funding", "staffing", "approvals", "compliance", "supervision",
            "imports", "exports", "audit", "ops"}


def test_history_tables_are_indexed_by_record_and_date_only():
    # A history table is read by record (its id copy) and by date; the user's key keeps its index for SET_NULL.
    tracked = [model for model in registered_models.values() if model._meta.app_label in OWN_APPS]
    assert tracked
    for model in tracked:
        history = model.history.model
        indexed = {f.name for f in history._meta.concrete_fields if f.db_index and not f.primary_key}
        assert indexed == {model._meta.pk.name, "history_date", "history_user"}, history.__name__


@pytest.mark.django_db
def test_no_index_repeats_the_leading_columns_of_another():
    if connection.vendor != "postgresql":
        pytest.skip("reads PostgreSQL's catalogue")
    tables = [m._meta.db_table for m in apps.get_models() if m._meta.app_label in OWN_APPS]
    with connection.cursor() as cursor:
        cursor.execute("""
            WITH idx AS (
                SELECT i.indrelid::regclass::text AS tab, c.relname AS name, i.indisunique AS uniq,
                       i.indpred IS NOT NULL AS partial, string_to_array(i.indkey::text, ' ')::int[] AS cols
                FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                WHERE i.indrelid::regclass::text = ANY(%s))
            SELECT a.tab, a.name, b.name FROM idx a JOIN idx b ON a.tab = b.tab AND a.name <> b.name
            WHERE NOT a.uniq AND NOT a.partial AND NOT b.partial AND cardinality(a.cols) < cardinality(b.cols)
              AND b.cols[1:cardinality(a.cols)] = a.cols""", [tables])
        assert cursor.fetchall() == []


@pytest.mark.django_db
def test_history_names_its_user_without_a_database_check(streets, clerk_qingnian):
    # PostgreSQL checked each history row's user at commit (an import writes one per record); history is written
    # once, and a deleted user's rows still lose the name through Django's SET_NULL, shown as 系统.
    from communities import services
    from core.history import history_rows

    if connection.vendor == "postgresql":
        tracked = [m.history.model._meta.db_table for m in registered_models.values()
                   if m._meta.app_label in OWN_APPS]
        with connection.cursor() as cursor:
            cursor.execute("SELECT conrelid::regclass::text FROM pg_constraint WHERE contype = 'f' "
                           "AND conrelid::regclass::text = ANY(%s)", [tracked])
            assert cursor.fetchall() == []
    community = services.community_create(code=f"{streets['qingnian'].code}201", name="留痕社区",
                                          sub_district=streets["qingnian"], households=3000, population=9000,
                                          user=clerk_qingnian)
    services.community_update(community=community, households=3100, user=clerk_qingnian)
    assert [row["who"] for row in history_rows(community)] == ["clerk_qn", "clerk_qn"]
    clerk_qingnian.delete()
    assert list(community.history.values_list("history_user_id", flat=True)) == [None, None]
    assert [row["who"] for row in history_rows(community)] == ["系统", "系统"]
