from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("compliance", "0006_finding_responsible_as_unit_codes"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='finding',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('responsible_kind', 'street'), ('responsible_unit', '')), models.Q(('responsible_kind', 'department'), ('responsible_unit__in', ['planning', 'housing', 'daxing', 'civil_affairs', 'finance'])), _connector='OR'), name='finding_responsible_unit_valid'),
        ),
    ]
