"""The ETA for orders sent before it existed, and ``shipped_at`` from the history of shipped ones.

The working days are counted by ``schedule.add_working_days`` (a pure function of dates and the
Bundesland), the same as for new orders.
"""

from django.db import migrations, models
from django.utils import timezone

from otoorder.orders.schedule import add_working_days

BATCH = 500


def fill(apps, schema_editor):
    EarmouldOrder = apps.get_model("orders", "EarmouldOrder")
    OrderEvent = apps.get_model("orders", "OrderEvent")
    sent = (
        EarmouldOrder.objects.filter(eta__isnull=True, ordered_at__isnull=False)
        .select_related("supplier", "branch")
        .only("ordered_at", "branch__state", "supplier__turnaround_days", "supplier__delivery_days", "supplier__shipping_days")
    )
    changed = []
    for order in sent.iterator(chunk_size=BATCH):
        supplier = order.supplier
        days = (supplier.turnaround_days if supplier.turnaround_days is not None else supplier.delivery_days) + (
            supplier.shipping_days or 0
        )
        order.eta = add_working_days(timezone.localtime(order.ordered_at).date(), days, order.branch.state)
        changed.append(order)
        if len(changed) >= BATCH:
            EarmouldOrder.objects.bulk_update(changed, ["eta"])
            changed = []
    EarmouldOrder.objects.bulk_update(changed, ["eta"])
    shipped = (
        OrderEvent.objects.filter(to_status="shipped", order__shipped_at__isnull=True)
        .values("order_id")
        .annotate(at=models.Min("created_at"))
    )
    for row in shipped.iterator(chunk_size=BATCH):
        EarmouldOrder.objects.filter(pk=row["order_id"]).update(shipped_at=row["at"])


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0007_after_the_order_leaves"),
    ]

    operations = [
        migrations.AlterField(
            model_name="earmouldorder",
            name="eta",
            field=models.DateField(blank=True, null=True, verbose_name="voraussichtlicher Liefertermin"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
