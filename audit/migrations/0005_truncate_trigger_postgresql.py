"""On PostgreSQL TRUNCATE of the security log is refused too (a statement-level trigger: row triggers do not see
TRUNCATE). ``security_events_purge`` deletes row by row and passes the row trigger as before.

The test suite flushes its own database with TRUNCATE between transactional tests: tests/conftest.py sets
``audit.truncate = on`` on the test database only. Production never sets it.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION audit_securityevent_no_truncate() RETURNS trigger AS $$
BEGIN
    IF current_setting('audit.truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION '安全审计记录只能追加，不能清空（TRUNCATE）';
END
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_securityevent_no_truncate ON audit_securityevent;
CREATE TRIGGER audit_securityevent_no_truncate
    BEFORE TRUNCATE ON audit_securityevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_securityevent_no_truncate();
"""

DROP = """
DROP TRIGGER IF EXISTS audit_securityevent_no_truncate ON audit_securityevent;
DROP FUNCTION IF EXISTS audit_securityevent_no_truncate();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_security_event_kinds_access_upload_sweep")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
