"""The complaint as a case: reason (chain-maintained list), sides, photos, the lab's decision
and the cost bearer. Its history is kept as events of the complained order."""

import uuid

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from branches.access import VisibleQuerySet
from branches.models import Chain
from otoorder import vocabulary
from otoorder.orders import warranty
from otoorder.orders.models import EarmouldOrder

from .choices import ComplaintStatus, CostBearer, Outcome, ReasonCategory

DESCRIPTION_MAX = 2000


class ComplaintReason(models.Model):
    """A reason from the list the chain admins maintain (German label, category)."""

    chain = models.ForeignKey(Chain, verbose_name=_("Kette"), on_delete=models.CASCADE, related_name="complaint_reasons")
    code = models.SlugField(_("Kürzel"), max_length=40)
    label = models.CharField(_("Bezeichnung"), max_length=100)
    category = models.CharField(_("Kategorie"), max_length=10, choices=ReasonCategory.choices)
    active = models.BooleanField(_("aktiv"), default=True)
    position = models.PositiveSmallIntegerField(_("Reihenfolge"), default=0)

    class Meta:
        verbose_name = _("Reklamationsgrund")
        verbose_name_plural = _("Reklamationsgründe")
        ordering = ["chain", "position", "label"]
        constraints = [models.UniqueConstraint(fields=["chain", "code"], name="complaint_reason_unique_code")]

    def __str__(self):
        return self.label


def _charged(prefix, amount):
    """Q: the lab bills a cost bearer other than itself an amount above zero."""
    return Q(**{f"{prefix}cost_bearer__in": warranty.CHARGED_BEARERS, f"{amount}__gt": 0})


class ComplaintQuerySet(VisibleQuerySet):
    branch_path = "order__branch"

    def lab_charge_flagged(self):
        """Complaints proposed as a free remake (inside the window) that the lab charges anyway:
        decided as a charged remake, or a cost bearer other than the lab with an amount, on
        the complaint or on its remake order (``Complaint.lab_charge_flagged``)."""
        return self.filter(
            Q(free_remake=True)
            & (
                Q(outcome=Outcome.CHARGED_REMAKE)
                | _charged("", "amount")
                | _charged("remake_order__", "remake_order__cost_amount")
            )
        )


class Complaint(models.Model):
    """Reklamation of one or both ears of a delivered order."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(
        EarmouldOrder, verbose_name=_("Bestellung"), on_delete=models.PROTECT, related_name="complaints"
    )
    #: The complained ears, ``["right"]``, ``["left"]`` or ``["right", "left"]`` (right first).
    sides = models.JSONField(_("Seiten"), default=list)
    reason = models.ForeignKey(ComplaintReason, verbose_name=_("Grund"), on_delete=models.PROTECT, related_name="+")
    description = models.TextField(_("Beschreibung"), max_length=DESCRIPTION_MAX, blank=True)
    return_old_mould = models.BooleanField(_("alte Otoplastik geht an das Labor zurück"), default=False)
    status = models.CharField(_("Status"), max_length=20, choices=ComplaintStatus.choices, default=ComplaintStatus.OPEN)
    #: The proposal when the complaint was raised: inside the free-remake window?
    free_remake = models.BooleanField(_("kostenlose Nachfertigung vorgeschlagen"), default=False)
    free_remake_until = models.DateField(_("kostenlose Nachfertigung bis"), null=True, blank=True)
    outcome = models.CharField(_("Ergebnis"), max_length=20, choices=Outcome.choices, blank=True)
    cost_bearer = models.CharField(_("Kostenträger"), max_length=20, choices=CostBearer.choices, blank=True)
    amount = models.DecimalField(
        _("Betrag (EUR)"), max_digits=8, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    remake_order = models.ForeignKey(
        EarmouldOrder,
        verbose_name=_("Nachfertigung"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="remake_complaints",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("erfasst von"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("erfasst am"), auto_now_add=True)
    decided_at = models.DateTimeField(_("entschieden am"), null=True, blank=True)
    closed_at = models.DateTimeField(_("erledigt am"), null=True, blank=True)

    objects = ComplaintQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("complaint case", "Reklamation")
        verbose_name_plural = _("Reklamationen")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "-created_at"])]

    def __str__(self):
        return f"{self.order.number} – {self.reason}"

    @property
    def lab_charge_flagged(self):
        """"Labor berechnet innerhalb der kostenlosen Nachfertigung" (see the queryset's filter)."""
        if not self.free_remake:
            return False
        remake = self.remake_order
        return (
            self.outcome == Outcome.CHARGED_REMAKE
            or warranty.charged_by_lab(self.cost_bearer, self.amount)
            or (remake is not None and warranty.charged_by_lab(remake.cost_bearer, remake.cost_amount))
        )

    @property
    def sides_display(self):
        return ", ".join(str(vocabulary.Side(side).label) for side in self.sides)


class ComplaintPhotoQuerySet(VisibleQuerySet):
    branch_path = "complaint__order__branch"


class ComplaintPhoto(models.Model):
    """A photo of the complained earmould (JPEG/PNG by content), in private storage."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(upload_to="complaints/%Y/%m/", max_length=300)
    original_name = models.CharField(_("Dateiname"), max_length=255, blank=True)
    content_type = models.CharField(max_length=50)
    file_size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ComplaintPhotoQuerySet.as_manager()

    class Meta:
        verbose_name = _("Foto der Reklamation")
        verbose_name_plural = _("Fotos der Reklamation")
        ordering = ["created_at"]
