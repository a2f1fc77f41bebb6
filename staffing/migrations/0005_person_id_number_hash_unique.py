"""身份证号 at rest, step 3 of 3: the digest is required and unique (one person per number), and is a digest."""

from django.db import migrations, models

import staffing.fields


class Migration(migrations.Migration):

    dependencies = [("staffing", "0004_person_id_number_encrypt_data")]

    operations = [
        migrations.AlterField(
            model_name="person",
            name="id_number_hash",
            field=staffing.fields.IdNumberDigestField(unique=True, verbose_name="身份证号摘要"),
        ),
        migrations.AddConstraint(
            model_name="person",
            constraint=models.CheckConstraint(condition=models.Q(("id_number_hash__regex", "^[0-9a-f]{64}$")),
                                              name="person_id_hash_shape"),
        ),
    ]
