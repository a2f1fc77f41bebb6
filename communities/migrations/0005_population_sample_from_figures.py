"""Data: a community whose figures were marked as samples keeps 人口 marked too (the old mark covered both)."""

from django.db import migrations


def forwards(apps, schema_editor):
    Community = apps.get_model("communities", "Community")
    Community.objects.filter(figures_are_sample=True).update(population_is_sample=True)


class Migration(migrations.Migration):
    dependencies = [("communities", "0004_population_sample_flag")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
