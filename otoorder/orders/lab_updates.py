"""What labs report after the order went out: callbacks, status polls and inbox files.

Every channel ends here, in ``apply_status_update``: one place that moves the order along its
lifecycle, keeps the lab's number, status word, tracking number and confirmed properties, and
writes the event. A report applied once is recognised by its key and changes nothing when it
comes again (labs retry; the sweeper and pollers may see the same report twice).
"""

import hashlib
import json

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .choices import EventSource, OrderStatus
from .lifecycle import TRANSITIONS, set_status
from .models import EarmouldOrder, OrderEvent
from .tracking import normalise_carrier

EXTERNAL_FIELDS = ("external_reference", "external_status", "tracking_number")


def update_key(update, *extra):
    """A fingerprint of a report; ``extra`` (e.g. the callback body) narrows it further."""
    parts = [update.status or "", update.external_status, update.external_reference, update.tracking_number, *extra]
    return hashlib.sha256("\x1f".join(str(part) for part in parts).encode("utf-8")).hexdigest()


def apply_status_update(order, update, *, source=EventSource.LAB, key=""):
    """Apply one ``StatusUpdate`` to ``order``; returns False when it was applied before."""
    key = key or update_key(update)
    with transaction.atomic():
        order = EarmouldOrder.objects.select_for_update().get(pk=order.pk)
        if OrderEvent.objects.filter(order=order, data__update_key=key).exists():
            return False
        fields = []
        for name in EXTERNAL_FIELDS:
            value = getattr(update, name)
            if value and getattr(order, name) != value:
                setattr(order, name, value)
                fields.append(name)
        properties = update.data.get("properties")
        if properties and order.lab_properties != properties:
            order.lab_properties = properties
            fields.append("lab_properties")
        carrier = normalise_carrier(update.data.get("carrier"))
        if carrier and order.carrier != carrier:
            order.carrier = carrier
            fields.append("carrier")
        data = {**json.loads(json.dumps(update.data, default=str)), "update_key": key}
        target = update.status
        message = update.message or _("Statusmeldung des Labors: %(status)s") % {"status": update.external_status or "-"}
        if target and target != order.status and target in TRANSITIONS.get(order.status, ()):
            if target in (OrderStatus.ORDERED, OrderStatus.CONFIRMED) and not order.ordered_at:
                order.ordered_at = timezone.now()
                fields.append("ordered_at")
            set_status(order, target, source=source, message=message, data=data, save_fields=fields)
        else:
            if fields:
                order.save(update_fields=[*fields, "updated_at"])
            if target and target != order.status:
                message += " " + _("(Der Status bleibt „%(status)s“.)") % {"status": order.get_status_display()}
            OrderEvent.objects.create(order=order, source=source, message=message, data=data)
    return True
