"""On PostgreSQL the database itself refuses UPDATE and DELETE of security events.

The one exception is ``security_events_purge``: it sets ``audit.purge = on``
for its transaction, and even then only rows older than 180 days may go.
TRUNCATE is left alone (test databases are flushed with it; production
grants the application role no TRUNCATE). SQLite, the single-user embedded
default, relies on the model's guards alone: its test flush deletes rows.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION audit_securityevent_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND current_setting('audit.purge', true) = 'on'
       AND OLD."when" < now() - interval '180 days' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '安全审计记录只能追加，不能修改或删除（%）', TG_OP;
END
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_securityevent_append_only ON audit_securityevent;
CREATE TRIGGER audit_securityevent_append_only
    BEFORE UPDATE OR DELETE ON audit_securityevent
    FOR EACH ROW EXECUTE FUNCTION audit_securityevent_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS audit_securityevent_append_only ON audit_securityevent;
DROP FUNCTION IF EXISTS audit_securityevent_append_only();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)  # no placeholders: keep "%" literal

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_security_events")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
