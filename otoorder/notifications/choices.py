"""The kinds of notification: codes stored with parameters, rendered in the reader's language."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    CONFIRMED = "confirmed", _("Bestätigung des Labors")
    SHIPPED = "shipped", _("Versandmeldung")
    REJECTED = "rejected", _("Ablehnung durch das Labor")
    LAB_QUESTION = "lab_question", _("Rückfrage des Labors")
    SEND_FAILED = "send_failed", _("Versand fehlgeschlagen")
    CANCEL_ACCEPTED = "cancel_accepted", _("Stornierung angenommen")
    CANCEL_REFUSED = "cancel_refused", _("Stornierung abgelehnt")
    #: The lab cancelled an order by itself (no cancellation of ours was under way).
    LAB_CANCELLED = "lab_cancelled", _("Stornierung durch das Labor")
    OVERDUE = "overdue", _("Überfällig")


#: What the daily digest carries when the user chose nothing yet: what needs someone to act.
DEFAULT_DIGEST_KINDS = [
    Kind.LAB_QUESTION,
    Kind.REJECTED,
    Kind.SEND_FAILED,
    Kind.CANCEL_REFUSED,
    Kind.LAB_CANCELLED,
    Kind.OVERDUE,
]
