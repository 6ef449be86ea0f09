"""Order placement and the staff actions on an order (after django-oscar's OrderCreator).

Views and the API stay thin: they call these functions and map the exceptions below to
their own messages and status codes.
"""

import logging
import uuid
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.resolver import NO_ORDER, SUPPLIER_REQUIRED, resolve
from branches.services import definitions_for_branch
from suppliers.models import OrderMethod, Supplier

from . import cancellation, choices
from .choices import EventSource, OrderStatus
from .dispatch import enqueue
from .lifecycle import InvalidTransition, OrderError, set_status
from .models import Dispatch, EarmouldOrder, OrderEvent, OrderItem
from .validation import validate_items

logger = logging.getLogger(__name__)

class NoCompany(OrderError):
    """R1: without a company no order is created."""

    code = "no_company"


class SupplierRequired(OrderError):
    """R4: the interface names no supplier; one must be chosen."""

    code = "supplier_required"


def resolve_for(transaction_obj, company, supplier=None):
    """Run the resolver for a transaction's branch (the preview and the submission)."""
    return resolve(
        branch_id=transaction_obj.branch_id,
        company=company,
        supplier=supplier,
        definitions=definitions_for_branch(transaction_obj.branch),
        suppliers=Supplier.objects.filter(is_active=True).select_related("company"),
        today=timezone.localdate(),
    )


def next_order_number():
    """OT-<year>-<6 digits>, unique; the database constraint settles a race."""
    year = timezone.localdate().year
    prefix = f"OT-{year}-"
    last = (
        EarmouldOrder.objects.filter(number__startswith=prefix).order_by("-number").values_list("number", flat=True).first()
    )
    return f"{prefix}{(int(last.rsplit('-', 1)[1]) + 1) if last else 1:06d}"


#: Key of the PostgreSQL advisory lock that serialises order numbering (an arbitrary constant).
ORDER_NUMBER_LOCK = 7_360_001


def _serialise_order_numbers():
    """Hold a transaction-scoped lock while the next number is taken and inserted.

    PostgreSQL: an advisory lock, released at commit. SQLite takes the write lock at the
    start of every transaction already (``transaction_mode=IMMEDIATE`` in settings).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ORDER_NUMBER_LOCK])


#: Statuses in which an order has reached the lab: only those can be remade or modified.
SENT_STATUSES = {
    OrderStatus.ORDERED,
    OrderStatus.CONFIRMED,
    OrderStatus.IN_PRODUCTION,
    OrderStatus.SHIPPED,
    OrderStatus.RECEIVED,
    OrderStatus.FITTED,
    OrderStatus.CLOSED,
}
#: Order types that replace an earlier order and must say which one and why.
FOLLOW_UP_TYPES = {choices.OrderType.REMAKE, choices.OrderType.MODIFICATION}
HEADER_FIELDS = (
    "notes",
    "priority",
    "date_required",
    "order_type",
    "original_order",
    "reason",
    "prescriber",
    "reason_code",
    "reason_category",
    "cost_bearer",
    "cost_amount",
)
AMOUNT_MAX = Decimal("999999.99")


def clean_amount(amount, *, field="amount"):
    """An amount in EUR (``45,00`` or ``45.00``) as a Decimal with two places, or None when empty."""
    if amount in (None, ""):
        return None
    try:
        value = Decimal(str(amount).strip().replace(",", "."))
    except InvalidOperation:
        raise ValidationError({field: _("Bitte den Betrag als Zahl angeben, z. B. 45,00.")}) from None
    if not value.is_finite() or value < 0 or value > AMOUNT_MAX:
        raise ValidationError({field: _("Der Betrag muss zwischen 0 und 999.999,99 EUR liegen.")})
    return value.quantize(Decimal("0.01"))


def add_working_days(start, days):
    """``start`` plus ``days`` working days (Monday to Friday; holidays are not known here)."""
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def default_date_required(supplier, today=None):
    return add_working_days(today or timezone.localdate(), supplier.delivery_days or 0)


def clean_header(header, *, customer_id, supplier):
    """Check the order header (DOMAIN.md §5); return it with defaults or raise ValidationError.

    Remakes and modifications name the original order (of the same customer, already at the
    lab) and a reason; other types name none. The date required is not in the past and
    defaults to today plus the supplier's delivery days (working days).
    """
    header = {name: value for name, value in dict(header or {}).items() if name in HEADER_FIELDS}
    errors = {}
    order_type = header.get("order_type") or choices.OrderType.NEW
    if order_type not in choices.OrderType.values:
        errors["order_type"] = _("„%(value)s“ ist keine gültige Bestellart.") % {"value": order_type}
    header["order_type"] = order_type
    priority = header.get("priority") or choices.Priority.STANDARD
    if priority not in choices.Priority.values:
        errors["priority"] = _("„%(value)s“ ist keine gültige Priorität (Standard oder Express).") % {"value": priority}
    header["priority"] = priority
    header["reason"] = (header.get("reason") or "").strip()
    header["reason_code"] = str(header.get("reason_code") or "").strip()[:40]
    header["reason_category"] = header.get("reason_category") or ""
    if header["reason_category"] not in ("", *choices.ReasonCategory.values):
        errors["reason_category"] = _("„%(value)s“ ist keine gültige Kategorie (Passform oder Material).") % {
            "value": header["reason_category"]
        }
    header["cost_bearer"] = header.get("cost_bearer") or ""
    if header["cost_bearer"] not in ("", *choices.CostBearer.values):
        errors["cost_bearer"] = _("Bitte wählen, wer die Kosten trägt (Labor, Kette oder Kunde).")
    try:
        header["cost_amount"] = clean_amount(header.get("cost_amount"), field="cost_amount")
    except ValidationError as exc:
        errors.update(exc.message_dict)
    original = header.get("original_order")
    if original not in (None, "") and not isinstance(original, EarmouldOrder):
        original = EarmouldOrder.objects.filter(pk=original).first() if _is_uuid(original) else None
        if original is None:
            errors["original_order"] = _("Die ursprüngliche Bestellung wurde nicht gefunden: bitte neu wählen.")
    header["original_order"] = original or None
    if order_type in FOLLOW_UP_TYPES:
        _check_follow_up(header, errors, customer_id)
    elif header["original_order"] is not None:
        errors["original_order"] = _(
            "Nur eine Reklamation/Nachfertigung oder Änderung verweist auf eine ursprüngliche Bestellung: "
            "bitte die Bestellart ändern oder die Verknüpfung entfernen."
        )
    today = timezone.localdate()
    if header.get("date_required") in (None, ""):
        header["date_required"] = default_date_required(supplier, today) if supplier is not None else None
    elif header["date_required"] < today:
        errors["date_required"] = _("Das Datum „benötigt bis“ liegt in der Vergangenheit: bitte ein künftiges Datum wählen.")
    if errors:
        raise ValidationError(errors)
    return header


def _check_follow_up(header, errors, customer_id):
    original = header["original_order"]
    if original is None and "original_order" not in errors:
        errors["original_order"] = _(
            "Eine Reklamation/Nachfertigung oder Änderung braucht die ursprüngliche Bestellung: bitte sie wählen."
        )
    elif original is not None and original.customer_id != customer_id:
        errors["original_order"] = _(
            "Die ursprüngliche Bestellung gehört zu einem anderen Kunden: bitte eine Bestellung dieses Kunden wählen."
        )
    elif original is not None and original.status not in SENT_STATUSES:
        errors["original_order"] = _(
            "Die ursprüngliche Bestellung %(number)s wurde noch nicht an das Labor übermittelt: "
            "bitte eine bestellte Bestellung wählen."
        ) % {"number": original.number}
    if not header["reason"]:
        errors["reason"] = _("Bitte den Grund der Reklamation/Änderung angeben (z. B. „drückt im Gehörgang“).")


def _is_uuid(value):
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def place_order(*, transaction_obj, company, supplier=None, items, user=None, step=None, header=None):
    """Resolve, validate and store an order as ``queued`` with its outbox row.

    One database transaction; the dispatch task is enqueued after commit. Raises
    ``NoCompany``, ``SupplierRequired`` or ``ValidationError`` and then creates nothing.
    """
    header = dict(header or {})
    resolution = resolve_for(transaction_obj, company, supplier)
    if resolution.outcome == NO_ORDER:
        raise NoCompany(_("Es wurde keine Firma gewählt: ohne Firma wird keine Bestellung erstellt."))
    if resolution.outcome == SUPPLIER_REQUIRED:
        raise SupplierRequired(
            _("Für diese Firma muss ein Lieferant gewählt werden."), candidates=resolution.candidates
        )
    supplier = resolution.supplier
    if resolution.definition is None and supplier.order_method == OrderMethod.INTERFACE:
        raise ValidationError(
            {
                "supplier": _(
                    "Der Lieferant „%(supplier)s“ bestellt per Schnittstelle, aber für die Firma "
                    "„%(company)s“ ist keine Schnittstellendefinition eingerichtet. Bitte die "
                    "Filialverwaltung fragen."
                )
                % {"supplier": supplier, "company": company}
            }
        )
    header = clean_header(header, customer_id=transaction_obj.customer_id, supplier=supplier)
    cleaned_items = validate_items(items, supplier, customer=transaction_obj.customer)
    for attempt in range(3):
        try:
            with transaction.atomic():
                _serialise_order_numbers()
                order = EarmouldOrder.objects.create(
                    number=next_order_number(),
                    transaction=transaction_obj,
                    step=step,
                    customer_id=transaction_obj.customer_id,
                    branch_id=transaction_obj.branch_id,
                    company=company,
                    supplier=supplier,
                    interface_definition=resolution.definition,
                    backend=resolution.backend_key,
                    status=OrderStatus.DRAFT,
                    created_by=user if user and user.is_authenticated else None,
                    prescriber=header.pop("prescriber", None) or (user if user and user.is_authenticated else None),
                    **header,
                )
                OrderItem.objects.bulk_create(OrderItem(order=order, **item) for item in cleaned_items)
                Dispatch.objects.create(order=order, due_at=timezone.now())
                set_status(
                    order,
                    OrderStatus.QUEUED,
                    source=EventSource.STAFF,
                    actor=user,
                    code="order_placed",
                    params={"backend": order.backend, "supplier": str(supplier)},
                )
                transaction.on_commit(lambda: enqueue(order.dispatch.pk))
            break
        except IntegrityError:
            # Two submissions took the same order number at once; the loser takes the next.
            if attempt == 2:
                raise
    logger.info("order %s queued (backend %s)", order.pk, order.backend)
    return order


def resend(order, *, user):
    """'Erneut senden': a failed or rejected order goes back to the outbox."""
    if order.status not in (OrderStatus.FAILED, OrderStatus.REJECTED_BY_LAB):
        raise InvalidTransition(_("Nur fehlgeschlagene oder abgelehnte Bestellungen können erneut gesendet werden."))
    with transaction.atomic():
        order = EarmouldOrder.objects.select_for_update().get(pk=order.pk)
        if order.interface_definition_id:
            order.backend = order.interface_definition.backend
        order.failure_reason = ""
        order.failure_params = {}
        order.save(update_fields=["backend", "failure_reason", "failure_params", "updated_at"])
        Dispatch.objects.update_or_create(
            order=order,
            defaults={
                "state": choices.DispatchState.QUEUED,
                "attempt_count": 0,
                "retry_until": None,
                "due_at": timezone.now(),
                "claimed_at": None,
                "claim_token": None,
                "last_error": "",
            },
        )
        set_status(order, OrderStatus.QUEUED, source=EventSource.STAFF, actor=user, code="resend_requested")
        transaction.on_commit(lambda: enqueue(order.dispatch.pk))
    return order


LAB_REFERENCE_MAX = EarmouldOrder._meta.get_field("external_reference").max_length


def confirm_manual_order(order, *, user, lab_reference=""):
    """Print, fax or phone: staff confirm that they ordered with the PDF form, with the lab's
    order number when the lab gave one (on the phone, on the fax's answer)."""
    lab_reference = (lab_reference or "").strip()
    if len(lab_reference) > LAB_REFERENCE_MAX:
        raise ValidationError(
            {"lab_reference": _("Die Auftragsnummer des Labors darf höchstens %(max)d Zeichen lang sein.") % {"max": LAB_REFERENCE_MAX}}
        )
    with transaction.atomic():
        order = EarmouldOrder.objects.select_for_update().get(pk=order.pk)
        if order.status != OrderStatus.AWAITING_MANUAL:
            raise InvalidTransition(_("Diese Bestellung wartet nicht auf eine manuelle Bestätigung."))
        order.ordered_at = timezone.now()
        fields = ["ordered_at"]
        params = {"method": order.supplier.order_method}
        if lab_reference:
            order.external_reference = lab_reference
            fields.append("external_reference")
            params["reference"] = lab_reference
        set_status(
            order,
            OrderStatus.ORDERED,
            source=EventSource.STAFF,
            actor=user,
            code="manual_order_confirmed",
            params=params,
            data={"lab_reference": lab_reference} if lab_reference else None,
            save_fields=fields,
        )
    return order


def cancel(order, *, user, reason=""):
    """„Stornieren“: at once before the lab has the order, else a request to the lab
    (``cancellation.request``). Raises ``cancellation.NotCancellable`` (409 in the API)."""
    return cancellation.request(order, user=user, reason=reason)
