"""What labs report after the order went out: callbacks, status polls and inbox files.

Every channel ends here, in ``apply_status_update``: one place that moves the order along its
lifecycle, keeps the lab's number, status word, tracking number and confirmed properties, and
writes the event. A lab's answer to a cancellation (``cancellation.apply_answer``) and a
lab's question (``lab_messages.record_question``) are applied here too, and so is a lab's
decision on the complaint behind a remake (event ``lab_complaint_decision``, then the signal
``signals.lab_complaint_decision`` for the complaints app); while a cancellation
is under way, other reports do not end it. A report applied once is recognised by its key and changes nothing when it
comes again (labs retry; the sweeper and pollers may see the same report twice).
"""

import hashlib
import json

from django.db import transaction
from django.utils import timezone
from . import cancellation, event_texts, lab_messages, parcels, signals
from .choices import CANCELLING, EventSource, OrderStatus
from .lifecycle import TRANSITIONS, set_status
from .models import EarmouldOrder, OrderEvent
from .tracking import normalise_carrier

EXTERNAL_FIELDS = ("external_reference", "external_status", "tracking_number")


def update_key(update, *extra):
    """A fingerprint of a report; ``extra`` (e.g. the callback body) narrows it further."""
    parts = [update.status or "", update.external_status, update.external_reference, update.tracking_number]
    # A question or a cancellation answer is told apart by its words (kept out of the key of
    # plain reports, so that their keys stay as they were).
    parts += [value for value in (update.cancellation, update.lab_text, update.lab_message_id) if value]
    # So is the lab's receipt of the impressions (a poll may report it with an unchanged status).
    if update.impressions_received:
        parts.append("impressions:" + ",".join(sorted(update.impressions_received)))
    # And so is a decision on a complaint (a poll may report it with an unchanged status).
    if update.complaint_decision:
        parts.append("decision:" + update.complaint_decision.fingerprint())
    parts += list(extra)
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
        if fields:
            order.save(update_fields=[*fields, "updated_at"])
            fields = []
        if update.impressions_received:
            parcels.record_lab_receipt(order, update.impressions_received, source=source)
        if update.complaint_decision:
            record_complaint_decision(order, update.complaint_decision, source=source)
        if (update.cancellation or update.status == OrderStatus.CANCELLED) and cancellation.apply_answer(
            order, update, source=source, data=data
        ):
            return True
        if update.status == OrderStatus.ON_HOLD:
            return lab_messages.record_question(
                order,
                text=update.lab_text or update.message,
                lab_message_id=update.lab_message_id,
                key=key,
                source=source,
                data=data,
            ) is not None
        target = update.status
        # The event renders from its code; the backend's German summary stays in the data.
        code, params = "lab_status", {"external_status": update.external_status or "–"}
        if update.external_reference:
            params["reference"] = update.external_reference
        if update.tracking_number:
            params["tracking"] = update.tracking_number
        if update.lab_text:
            params["lab_text"] = update.lab_text
        if update.data.get("delivery_date"):
            params["delivery_date"] = str(update.data["delivery_date"])
        if update.message:
            data = {**data, "backend_message": update.message}
        if order.status in CANCELLING and target:
            # The cancellation's answer decides; a refusal returns to the lab's latest status.
            cancellation.remember_lab_status(order, target)
            if target != order.status:
                params["kept_status"] = order.status
            target = order.status
        elif order.status == OrderStatus.ON_HOLD and target and target in TRANSITIONS[OrderStatus.ON_HOLD]:
            code, params = "lab_resumed", {"status": target}
        if target and target != order.status and target in TRANSITIONS.get(order.status, ()):
            if target in (OrderStatus.ORDERED, OrderStatus.CONFIRMED) and not order.ordered_at:
                order.ordered_at = timezone.now()
                fields.append("ordered_at")
            set_status(order, target, source=source, code=code, params=params, data=data, save_fields=fields)
        else:
            if fields:
                order.save(update_fields=[*fields, "updated_at"])
            if target and target != order.status:
                params["kept_status"] = order.status
            OrderEvent.objects.create(
                order=order,
                source=source,
                message=event_texts.german(code, params),
                data={**data, "code": code, "params": params},
            )
    return True


def record_complaint_decision(order, decision, *, source=EventSource.LAB):
    """Record the lab's decision on the complaint behind ``order`` (a remake) once.

    The event ``lab_complaint_decision`` on the remake order; then ``signals.
    lab_complaint_decision`` lets the complaints app decide the complaint. A decision reported
    again (every later poll repeats it) changes nothing; returns whether it was new.
    """
    key = hashlib.sha256(decision.fingerprint().encode("utf-8")).hexdigest()
    if OrderEvent.objects.filter(order=order, data__code="lab_complaint_decision", data__decision_key=key).exists():
        return False
    params = {"outcome": decision.outcome}
    if decision.amount:
        params |= {"amount": decision.amount, "variant": "amount"}
    if decision.lab_text:
        params["lab_text"] = decision.lab_text
    event = OrderEvent.objects.create(
        order=order,
        source=source,
        message=event_texts.german("lab_complaint_decision", params),
        data={"code": "lab_complaint_decision", "params": params, "decision_key": key},
    )
    signals.lab_complaint_decision.send(sender=EarmouldOrder, order=order, decision=decision, source=source, event=event)
    return True
