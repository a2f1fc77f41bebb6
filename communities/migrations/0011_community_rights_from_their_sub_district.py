"""Data: the per-community guardian rights of the 街办 clerk groups are gone. A community's rights now come from
its 街办 (communities.selectors.STREET_PERM_FOR), so these rows were read by nothing and would only mislead an
administrator looking at guardian's tables."""

from django.db import migrations


def drop_community_rows(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    GroupObjectPermission = apps.get_model("guardian", "GroupObjectPermission")
    UserObjectPermission = apps.get_model("guardian", "UserObjectPermission")
    ctype = ContentType.objects.filter(app_label="communities", model="community").first()
    if ctype is None:
        return
    for model in (GroupObjectPermission, UserObjectPermission):
        model.objects.filter(content_type=ctype, permission__codename__in=["view_community", "change_community"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("communities", "0010_history_user_without_database_constraint"),
        ("guardian", "0002_generic_permissions_index"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(drop_community_rows, migrations.RunPython.noop)]
