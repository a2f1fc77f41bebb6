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
