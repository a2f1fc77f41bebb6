"""An allocation's undated 已拨付 total becomes one dated payment: dated the day the record last changed, which is
the latest day the record is known to have said it (措施十九 is now judged on what was paid by a date)."""

from django.db import migrations


def forwards(apps, schema_editor):
    Allocation = apps.get_model("funding", "Allocation")
    HistoricalAllocation = apps.get_model("funding", "HistoricalAllocation")
    Disbursement = apps.get_model("funding", "Disbursement")
    from django.utils import timezone

    today = timezone.localdate()
    payments = []
    for allocation in Allocation.objects.filter(disbursed__gt=0).iterator():
        latest = (HistoricalAllocation.objects.filter(id=allocation.pk).order_by("-history_date")
                  .values_list("history_date", flat=True).first())
        paid_on = timezone.localtime(latest).date() if latest else today
        payments.append(Disbursement(allocation_id=allocation.pk, paid_on=paid_on, amount=allocation.disbursed,
                                     note="由原“已拨付”合计转入"))
    Disbursement.objects.bulk_create(payments, batch_size=2000)


def backwards(apps, schema_editor):
    apps.get_model("funding", "Disbursement").objects.filter(note="由原“已拨付”合计转入").delete()


class Migration(migrations.Migration):
    dependencies = [("funding", "0002_disbursements_dated")]
    operations = [migrations.RunPython(forwards, backwards)]
