"""Raise, report, decide and close a complaint; every step is an event of the complained
order (codes ``complaint_*`` in ``otoorder.orders.event_texts``).

A complaint is raised for an order whose earmoulds were delivered: status received, fitted or
closed with a goods receipt (``received_at``). An order closed without receipt never reached
the ear, so there is nothing to complain about (close it, or order anew).
"""

import logging
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from otoorder.orders import lifecycle, services
from otoorder.orders.choices import EventSource, OrderStatus, OrderType
from otoorder.orders.lifecycle import InvalidTransition
from otoorder.orders.models import EarmouldOrder
from otoorder.orders.validation import ITEM_FIELDS
from otoorder.transactions.models import Transaction
from otoorder.vocabulary import Side

from . import photos, window
from .choices import ComplaintStatus, CostBearer, Outcome
from .models import DESCRIPTION_MAX, Complaint, ComplaintReason

logger = logging.getLogger(__name__)

DELIVERED = {OrderStatus.RECEIVED, OrderStatus.FITTED, OrderStatus.CLOSED}


def can_complain(order):
    return order.status in DELIVERED and order.received_at is not None


def reasons_for(order):
    """The active reasons of the order's chain."""
    return ComplaintReason.objects.filter(chain_id=order.branch.chain_id, active=True)


def _clean(order, *, sides, reason, description):
    errors = {}
    if not can_complain(order):
        raise InvalidTransition(
            _("Reklamieren lässt sich nur eine gelieferte Bestellung (Wareneingang erfasst).")
        )
    ordered_sides = set(order.items.values_list("side", flat=True))
    sides = [side for side in (Side.RIGHT, Side.LEFT) if side in set(sides or ())]
    unknown = set(sides or ()) - set(Side.values)
    if not sides or unknown:
        errors["sides"] = _("Bitte mindestens ein Ohr (rechts oder links) wählen.")
    elif not set(sides) <= ordered_sides:
        errors["sides"] = _("Diese Bestellung enthält keine Otoplastik für das gewählte Ohr.")
    if isinstance(reason, ComplaintReason):
        reason_obj = reason if reason.active and reason.chain_id == order.branch.chain_id else None
    else:
        reason_obj = reasons_for(order).filter(code=str(reason or "")[:40]).first()
    if reason_obj is None:
        errors["reason"] = _("Bitte einen Reklamationsgrund aus der Liste wählen.")
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = _("Die Beschreibung darf höchstens %(max)d Zeichen lang sein.") % {"max": DESCRIPTION_MAX}
    if errors:
        raise ValidationError(errors)
    return sides, reason_obj, description


def _remake(order, complaint, user):
    """The remake order: same lab and specification for the complained ears, linked to the
    original (``original_order``) and carrying the reason."""
    template = lifecycle.order_template(order.transaction.template)
    if template is None:
        raise ValidationError(
            {"create_remake": _("Es gibt keine aktive Vorgangsvorlage mit Bestellservice: bitte die Filialverwaltung fragen.")}
        )
    txn = Transaction.objects.start(customer=order.customer, template=template, user=user)
    items = [
        {name: getattr(item, name) for name in ITEM_FIELDS if name != "impression"} | {"impression": item.impression_id}
        for item in order.items.filter(side__in=complaint.sides)
    ]
    reason = complaint.reason.label + (f": {complaint.description}" if complaint.description else "")
    return services.place_order(
        transaction_obj=txn,
        company=order.company,
        supplier=order.supplier,
        items=items,
        user=user,
        step=txn.order_service_step,
        header={
            "order_type": OrderType.REMAKE,
            "original_order": order,
            "reason": reason,
            "reason_code": complaint.reason.code,
            "reason_category": complaint.reason.category,
        },
    )


def raise_complaint(order, *, user, sides, reason, description="", return_old_mould=False, create_remake=False, uploads=()):
    """Record a complaint (and, when asked, place its remake); returns the complaint.

    Raises ValidationError (field errors) or InvalidTransition (order not delivered).
    """
    sides, reason, description = _clean(order, sides=sides, reason=reason, description=description)
    checked = photos.check_photos(list(uploads))
    offer = window.proposal(order, reason.category)
    with transaction.atomic():
        complaint = Complaint.objects.create(
            order=order,
            sides=sides,
            reason=reason,
            description=description,
            return_old_mould=bool(return_old_mould),
            free_remake=offer.free,
            free_remake_until=offer.until,
            created_by=user if user and user.is_authenticated else None,
        )
        photos.store_photos(complaint, checked)
        lifecycle.record_event(
            order,
            code="complaint_raised",
            params={"reason": reason.label, "sides": ",".join(sides), "photos": len(checked)},
            source=EventSource.STAFF,
            actor=user,
            data={"complaint": str(complaint.pk)},
        )
        if create_remake:
            remake = _remake(order, complaint, user)
            complaint.remake_order = remake
            complaint.status = ComplaintStatus.REPORTED
            complaint.save(update_fields=["remake_order", "status"])
            lifecycle.record_event(
                order,
                code="complaint_remake_ordered",
                params={"number": remake.number},
                source=EventSource.STAFF,
                actor=user,
                data={"complaint": str(complaint.pk), "remake": str(remake.pk)},
            )
    logger.info("complaint %s raised on order %s", complaint.pk, order.pk)
    return complaint


def _locked(complaint):
    return Complaint.objects.select_for_update().select_related("order").get(pk=complaint.pk)


def _advance(complaint, *, user, expected, to, code, refusal, **changes):
    """Move ``complaint`` from ``expected`` to ``to`` under a row lock and record ``code``."""
    with transaction.atomic():
        complaint = _locked(complaint)
        if complaint.status != expected:
            raise InvalidTransition(refusal)
        complaint.status = to
        for name, value in changes.items():
            setattr(complaint, name, value)
        complaint.save(update_fields=["status", *changes])
        lifecycle.record_event(
            complaint.order, code=code, source=EventSource.STAFF, actor=user, data={"complaint": str(complaint.pk)}
        )
    return complaint


def report(complaint, *, user):
    """"An Labor gemeldet": staff told the lab (without a remake order through otoorder)."""
    return _advance(
        complaint, user=user, expected=ComplaintStatus.OPEN, to=ComplaintStatus.REPORTED, code="complaint_reported",
        refusal=_("Nur eine offene Reklamation kann an das Labor gemeldet werden."),
    )


clean_amount = services.clean_amount


def decide(complaint, *, user, outcome, cost_bearer, amount=None):
    """The lab's decision with who pays (written to the remake order too); a complaint that
    is already done cannot change."""
    errors = {}
    if outcome not in Outcome.values:
        errors["outcome"] = _("Bitte das Ergebnis wählen (kostenlose oder kostenpflichtige Nachfertigung, Gutschrift, Reparatur, abgelehnt).")
    if cost_bearer not in CostBearer.values:
        errors["cost_bearer"] = _("Bitte wählen, wer die Kosten trägt (Labor, Kette oder Kunde).")
    try:
        amount = clean_amount(amount)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        complaint = _locked(complaint)
        if complaint.status == ComplaintStatus.DONE:
            raise InvalidTransition(_("Diese Reklamation ist bereits erledigt."))
        complaint.outcome, complaint.cost_bearer, complaint.amount = outcome, cost_bearer, amount
        complaint.status = ComplaintStatus.DECIDED
        complaint.decided_at = timezone.now()
        complaint.save(update_fields=["outcome", "cost_bearer", "amount", "status", "decided_at"])
        if complaint.remake_order_id is not None:
            # Who pays the remake is the lab's decision on the complaint.
            EarmouldOrder.objects.filter(pk=complaint.remake_order_id).update(cost_bearer=cost_bearer, cost_amount=amount)
        params = {"outcome": outcome, "cost_bearer": cost_bearer}
        if amount is not None:
            params |= {"amount": str(amount), "variant": "amount"}
        lifecycle.record_event(
            complaint.order, code="complaint_decided", params=params, source=EventSource.STAFF, actor=user,
            data={"complaint": str(complaint.pk)},
        )
    return complaint


def close(complaint, *, user):
    return _advance(
        complaint, user=user, expected=ComplaintStatus.DECIDED, to=ComplaintStatus.DONE, code="complaint_closed",
        refusal=_("Erst nach der Entscheidung des Labors kann die Reklamation erledigt werden."), closed_at=timezone.now(),
    )


#: Who pays by default when the lab decides (staff's own choice is kept): the lab remakes
#: free under its warranty; anything it charges the chain pays (Reparaturpauschale/Kulanz).
LAB_COST_BEARERS = {Outcome.FREE_REMAKE: CostBearer.LAB, Outcome.CHARGED_REMAKE: CostBearer.CHAIN}


def apply_lab_decision(remake, decision, *, source=EventSource.LAB):
    """The lab's decision (``ComplaintDecision``) on the remake order ``remake`` decides its
    complaint: status "Entscheidung des Labors", the outcome, the amount, and the cost bearer
    (lab for a free remake, the chain for a charged one, unless staff already chose one); the
    remake order carries the same cost bearer and amount. A complaint already done stays as it
    is. Returns the complaint, or None when the order is no complaint's remake.
    """
    with transaction.atomic():
        complaint = (
            Complaint.objects.select_for_update().select_related("order").filter(remake_order=remake).order_by("created_at").first()
        )
        if complaint is None or complaint.status == ComplaintStatus.DONE:
            return None
        amount = Decimal(decision.amount) if decision.amount else None
        cost_bearer = complaint.cost_bearer or LAB_COST_BEARERS.get(decision.outcome, "")
        complaint.outcome, complaint.amount, complaint.cost_bearer = decision.outcome, amount, cost_bearer
        complaint.status = ComplaintStatus.DECIDED
        complaint.decided_at = timezone.now()
        complaint.save(update_fields=["outcome", "amount", "cost_bearer", "status", "decided_at"])
        order_fields = {
            "cost_bearer": remake.cost_bearer or cost_bearer,
            "cost_amount": amount if amount is not None else remake.cost_amount,
        }
        type(remake).objects.filter(pk=remake.pk).update(**order_fields)
        for name, value in order_fields.items():
            setattr(remake, name, value)
        params = {"outcome": decision.outcome, "cost_bearer": cost_bearer or "–"}
        if amount is not None:
            params |= {"amount": str(amount), "variant": "amount"}
        lifecycle.record_event(
            complaint.order, code="complaint_decided", params=params, source=source,
            data={"complaint": str(complaint.pk), "remake": str(remake.pk)},
        )
    logger.info("complaint %s decided by the lab of order %s", complaint.pk, remake.pk)
    return complaint


def on_lab_decision(sender, order, decision, source=EventSource.LAB, **kwargs):
    """Receiver of ``otoorder.orders.signals.lab_complaint_decision`` (connected in ``apps``)."""
    apply_lab_decision(order, decision, source=source)
