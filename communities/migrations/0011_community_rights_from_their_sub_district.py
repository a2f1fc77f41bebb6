"""Data: a community's rights now come from its 街办 (communities.selectors.STREET_PERM_FOR). Each 街办's clerk
group is given view and change on its 街办 where it lacks them (a database seeded before those rights were
granted would otherwise lose its clerks' communities), then the per-community guardian rows, read by nothing
now, are dropped so they cannot mislead an administrator looking at guardian's tables."""

from django.db import migrations

STREET_PERMS = ["view_subdistrict", "change_subdistrict"]
COMMUNITY_PERMS = ["view_community", "change_community"]


def rights_from_the_sub_district(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    GroupObjectPermission = apps.get_model("guardian", "GroupObjectPermission")
    UserObjectPermission = apps.get_model("guardian", "UserObjectPermission")
    SubDistrict = apps.get_model("communities", "SubDistrict")
    street_type = ContentType.objects.filter(app_label="communities", model="subdistrict").first()
    # A new database has no permissions yet (post_migrate creates them) and no 街办: sub_district_upsert grants.
    if street_type is not None:
        perms = list(Permission.objects.filter(content_type=street_type, codename__in=STREET_PERMS))
        held = set(GroupObjectPermission.objects.filter(content_type=street_type, permission__in=perms)
                   .values_list("group_id", "permission_id", "object_pk"))
        GroupObjectPermission.objects.bulk_create([
            GroupObjectPermission(group_id=street.clerk_group_id, permission=perm, content_type=street_type,
                                  object_pk=str(street.pk))
            for street in SubDistrict.objects.exclude(clerk_group=None) for perm in perms
            if (street.clerk_group_id, perm.pk, str(street.pk)) not in held])
    community_type = ContentType.objects.filter(app_label="communities", model="community").first()
    if community_type is not None:
        for model in (GroupObjectPermission, UserObjectPermission):
            model.objects.filter(content_type=community_type, permission__codename__in=COMMUNITY_PERMS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("communities", "0010_history_user_without_database_constraint"),
        ("guardian", "0002_generic_permissions_index"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(rights_from_the_sub_district, migrations.RunPython.noop)]
