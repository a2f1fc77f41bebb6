"""Data: the 责任单位 was a name (the 街办's, or the 措施's 牵头单位 text); it becomes a kind and a Unit code.

A finding with a 街办 is that 街办's (unit blank); one without is 区民政局's. The next sweep as of today
rewrites each live finding's unit, 牵头单位 and 整改期限 from compliance.duties; this only makes the old
rows satisfy the new constraint. Reversing leaves the codes (the names can be read from them).
"""

from django.db import migrations


def forwards(apps, schema_editor):
    Finding = apps.get_model("compliance", "Finding")
    Finding.objects.filter(sub_district__isnull=False).update(responsible_kind="street", responsible_unit="")
    Finding.objects.filter(sub_district__isnull=True).update(responsible_kind="department",
                                                              responsible_unit="civil_affairs")


class Migration(migrations.Migration):

    dependencies = [
        ("compliance", "0005_finding_owner_deadline_snapshots_daily_counts"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
