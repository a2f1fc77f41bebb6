"""身份证号 at rest, step 1 of 3: the number column becomes ciphertext-sized text without its shape check or
unique index, and a nullable digest column appears (filled by 0004, made unique by 0005)."""

from django.db import migrations

import staffing.fields


class Migration(migrations.Migration):

    dependencies = [
        ("communities", "0002_add_monitoring_points_and_cases"),
        ("staffing", "0002_person_community"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="person", name="person_id_number_shape"),
        migrations.AddField(
            model_name="person",
            name="id_number_hash",
            field=staffing.fields.IdNumberDigestField(null=True, verbose_name="身份证号摘要"),
        ),
        migrations.AlterField(
            model_name="person",
            name="id_number",
            field=staffing.fields.EncryptedIdNumberField(verbose_name="居民身份证号"),
        ),
    ]
