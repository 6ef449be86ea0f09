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


S = OrderStatus
#: Statuses in which files may still be attached: the lab receives them with the order.
ATTACHABLE = {S.DRAFT, S.QUEUED, S.FAILED, S.REJECTED_BY_LAB}
#: Statuses in which the order page refreshes itself.
IN_FLIGHT = {S.QUEUED, S.SENDING, S.AWAITING_PORTAL}


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
