"""The values of an earmould order itself: its status, type, priority and the records of its
sending (DOMAIN.md §6). The earmould vocabulary of an item is in ``otoorder.vocabulary``; the
status machine (which status may follow which, ``TRANSITIONS``) in ``lifecycle``.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrderStatus(models.TextChoices):
    DRAFT = "draft", _("Entwurf")
    QUEUED = "queued", _("Erstellt – wartet auf Versand")
    SENDING = "sending", _("wird gesendet")
    AWAITING_MANUAL = "awaiting_manual", _("wartet auf Bestellung per Druck/Fax/Telefon")
    AWAITING_PORTAL = "awaiting_portal", _("wartet auf Abschluss im Portal")
    ORDERED = "ordered", _("Bestellt")
    CONFIRMED = "confirmed", _("vom Labor bestätigt")
    IN_PRODUCTION = "in_production", _("in Fertigung")
    SHIPPED = "shipped", _("versandt")
    RECEIVED = "received", _("Wareneingang")
    FITTED = "fitted", _("angepasst")
    CLOSED = "closed", _("Abgeschlossen")
    FAILED = "failed", _("fehlgeschlagen")
    REJECTED_BY_LAB = "rejected_by_lab", _("vom Labor abgelehnt")
    CANCELLED = "cancelled", _("storniert")
    #: A cancellation travels to the lab through the outbox; the lab's answer decides.
    CANCEL_REQUESTED = "cancel_requested", _("Stornierung angefragt")
    #: The interface cannot carry a cancellation: staff report it to the lab and confirm.
    CANCEL_TO_REPORT = "cancel_to_report", _("Stornierung beim Labor melden")
    #: The lab put the order on hold with a question (Rückfrage); staff answer on the order page.
    ON_HOLD = "on_hold", _("Rückfrage des Labors")


S = OrderStatus
#: Statuses in which files may still be attached: the lab receives them with the order.
ATTACHABLE = {S.DRAFT, S.QUEUED, S.FAILED, S.REJECTED_BY_LAB}
#: Statuses in which the order page refreshes itself while it is being sent.
IN_FLIGHT = {S.QUEUED, S.SENDING, S.AWAITING_PORTAL}
#: Sent to a lab: cancelling asks the lab (through the interface, or staff report it).
AT_LAB = {S.AWAITING_PORTAL, S.ORDERED, S.CONFIRMED, S.IN_PRODUCTION, S.ON_HOLD}
#: Not yet at a lab: cancelling takes effect at once and the order is never sent afterwards.
CANCEL_AT_ONCE = {S.DRAFT, S.QUEUED, S.AWAITING_MANUAL, S.FAILED, S.REJECTED_BY_LAB}
#: A cancellation is under way (until the lab, or staff for the lab, answers).
CANCELLING = {S.CANCEL_REQUESTED, S.CANCEL_TO_REPORT}
#: Open orders (API ``status=open``, worklists, live status): between queued and shipped,
#: plus failed, rejected, on hold and cancellations under way.
OPEN = {
    S.QUEUED,
    S.SENDING,
    S.AWAITING_MANUAL,
    S.AWAITING_PORTAL,
    S.ORDERED,
    S.CONFIRMED,
    S.IN_PRODUCTION,
    S.SHIPPED,
    S.FAILED,
    S.REJECTED_BY_LAB,
    S.ON_HOLD,
    S.CANCEL_REQUESTED,
    S.CANCEL_TO_REPORT,
}
#: Open orders whose earmould has not left the lab yet: they can be late (ETA, overdue).
AWAITING_SHIPMENT = OPEN - {S.SHIPPED, S.FAILED, S.REJECTED_BY_LAB}
#: Staff must act: failed, rejected, a question of the lab, a cancellation to report
#: (overdue orders need attention too; that is a date, not a status).
NEEDS_ATTENTION = {S.FAILED, S.REJECTED_BY_LAB, S.ON_HOLD, S.CANCEL_TO_REPORT}
#: The staff's worklist (start page): the open orders and those received but not fitted yet
#: (the earmould waits in the branch for the customer's fitting appointment).
WORKLIST = OPEN | {S.RECEIVED}


class StatusCategory(models.TextChoices):
    """What a status means for the branch: every status badge takes its colour from its
    category (``orders.templatetags.order_tags``), so one colour means one thing everywhere."""

    ATTENTION = "attention", _("braucht Aufmerksamkeit")
    ORDERING = "ordering", _("wird bestellt")
    AT_LAB = "at_lab", _("beim Labor")
    IN_TRANSIT = "in_transit", _("unterwegs")
    TO_FIT = "to_fit", _("Anpassung offen")
    DONE = "done", _("erledigt")
    CANCELLED = "cancelled", _("storniert")


C = StatusCategory
#: Every status in exactly one category (a test holds it to the status machine):
#: staff must act (``NEEDS_ATTENTION``); the order is on its way to the lab (queued, being
#: sent, waiting for print/fax/phone or the portal); the lab has it (ordered, confirmed, in
#: production, a cancellation the lab has to answer); the lab shipped it; it was received and
#: waits for the fitting; it is fitted or closed; it was cancelled.
STATUS_CATEGORY = {
    S.FAILED: C.ATTENTION,
    S.REJECTED_BY_LAB: C.ATTENTION,
    S.ON_HOLD: C.ATTENTION,
    S.CANCEL_TO_REPORT: C.ATTENTION,
    S.DRAFT: C.ORDERING,
    S.QUEUED: C.ORDERING,
    S.SENDING: C.ORDERING,
    S.AWAITING_MANUAL: C.ORDERING,
    S.AWAITING_PORTAL: C.ORDERING,
    S.ORDERED: C.AT_LAB,
    S.CONFIRMED: C.AT_LAB,
    S.IN_PRODUCTION: C.AT_LAB,
    S.CANCEL_REQUESTED: C.AT_LAB,
    S.SHIPPED: C.IN_TRANSIT,
    S.RECEIVED: C.TO_FIT,
    S.FITTED: C.DONE,
    S.CLOSED: C.DONE,
    S.CANCELLED: C.CANCELLED,
}


def statuses_of(category):
    """The statuses of one ``StatusCategory``."""
    return {status for status, of in STATUS_CATEGORY.items() if of == category}


class WorklistCount(models.TextChoices):
    """The counts at the top of the worklist, by what the branch has to do next.

    ``attention``: ``NEEDS_ATTENTION`` or overdue (``schedule.overdue_q``); ``ordering``,
    ``at_lab``, ``to_fit``: the statuses of their ``StatusCategory``; the shipped orders split
    by their ETA: ``in_transit`` while it lies ahead (or is unknown), ``receipt_due`` from the
    day the earmould is expected in the branch (the goods receipt is to be booked). An overdue
    order is counted under attention and under its own status."""

    ATTENTION = "attention", _("braucht Aufmerksamkeit")
    ORDERING = "ordering", _("wird bestellt")
    AT_LAB = "at_lab", _("beim Labor")
    IN_TRANSIT = "in_transit", _("unterwegs")
    RECEIPT_DUE = "receipt_due", _("Wareneingang offen")
    TO_FIT = "to_fit", _("Anpassung offen")


class OrderType(models.TextChoices):
    NEW = "new", _("Neuanfertigung")
    REMAKE = "remake", _("Reklamation/Nachfertigung")
    MODIFICATION = "modification", _("Änderung")
    REORDER_FROM_SCAN = "reorder_from_scan", _("Nachbestellung aus gespeichertem Scan")
    REPAIR = "repair", _("Reparatur")


class Priority(models.TextChoices):
    STANDARD = "standard", _("Standard")
    EXPRESS = "express", _("Express")


class EventSource(models.TextChoices):
    STAFF = "staff", _("Mitarbeiter")
    WORKER = "worker", _("Versand")
    LAB = "lab", _("Labor")
    SYSTEM = "system", _("System")


class DispatchState(models.TextChoices):
    QUEUED = "queued", _("wartet")
    SENDING = "sending", _("wird gesendet")
    DONE = "done", _("erledigt")
    FAILED = "failed", _("fehlgeschlagen")
    CANCELLED = "cancelled", _("abgebrochen")


class CancellationOutcome(models.TextChoices):
    PENDING = "pending", _("wartet auf Antwort des Labors")
    ACCEPTED = "accepted", _("vom Labor angenommen")
    REFUSED = "refused", _("vom Labor abgelehnt")


class MessageDirection(models.TextChoices):
    FROM_LAB = "from_lab", _("vom Labor")
    TO_LAB = "to_lab", _("an das Labor")


class MessageChannel(models.TextChoices):
    INTERFACE = "interface", _("über die Schnittstelle")
    EMAIL = "email", _("per E-Mail")
    MANUAL = "manual", _("erfasst durch Mitarbeiter")


class AttemptPurpose(models.TextChoices):
    ORDER = "order", _("Bestellung")
    CANCELLATION = "cancellation", _("Stornierung")
    MESSAGE = "message", _("Nachricht")


class AttemptOutcome(models.TextChoices):
    ORDERED = "ordered", _("bestellt")
    CONFIRMED = "confirmed", _("bestätigt")
    AWAITING_MANUAL = "awaiting_manual", _("Bestellformular bereit")
    AWAITING_PORTAL = "awaiting_portal", _("Portal-Übergabe")
    REJECTED = "rejected", _("abgelehnt")
    TRANSIENT_ERROR = "transient_error", _("vorübergehender Fehler")
    #: No answer after the lab may have taken the order: repeated later under the same key.
    AMBIGUOUS = "ambiguous", _("möglicherweise bereits zugestellt")
    PERMANENT_ERROR = "permanent_error", _("dauerhafter Fehler")
    #: Cancellations and messages: the lab has the request (its answer may follow).
    DELIVERED = "delivered", _("zugestellt")
    CANCEL_ACCEPTED = "cancel_accepted", _("Stornierung angenommen")
    CANCEL_REFUSED = "cancel_refused", _("Stornierung abgelehnt")
    #: The interface cannot carry a cancellation: staff report it to the lab.
    MANUAL = "manual", _("an Mitarbeiter übergeben")


# --- complaints (otoorder.complaints; here because order events render them) ---
class ComplaintOutcome(models.TextChoices):
    FREE_REMAKE = "free_remake", _("kostenlose Nachfertigung")
    CHARGED_REMAKE = "charged_remake", _("kostenpflichtige Nachfertigung")
    CREDIT = "credit", _("Gutschrift")
    REPAIR = "repair", _("Reparatur")
    REJECTED = "rejected", _("abgelehnt")


class ReasonCategory(models.TextChoices):
    """The category of a complaint reason: the supplier's fit window or its material window."""

    FIT = "fit", _("Passform")
    MATERIAL = "material", _("Material")


class CostBearer(models.TextChoices):
    LAB = "lab", _("Labor (Gewährleistung)")
    CHAIN = "chain", _("Kette (Reparaturpauschale oder Kulanz)")
    CUSTOMER = "customer", _("Kunde")
