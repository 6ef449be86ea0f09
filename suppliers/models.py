"""Companies (Firmen) and suppliers (Lieferanten).

A company is any business partner staff can pick in a transaction (here: the earmould lab).
A supplier is a company in the supplier role: the party an order goes to, with its order
method (Bestellform). One company may be served by several suppliers (the lab itself, a
wholesaler); the resolver lists the company's own suppliers first.
"""

import uuid

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from otoorder import vocabulary


class Company(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("Name"), max_length=200, unique=True)
    is_active = models.BooleanField(_("aktiv"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("Firma")
        verbose_name_plural = _("Firmen")

    def __str__(self):
        return self.name


class OrderMethod(models.TextChoices):
    PRINT = "print", _("Druck")
    FAX = "fax", _("Fax")
    EMAIL = "email", _("E-Mail (PDF)")
    PHONE = "phone", _("Telefon")
    INTERFACE = "interface", _("Schnittstelle")


class CustomerReferenceMode(models.TextChoices):
    """What a lab learns of the customer: the least it accepts (DOMAIN.md §5)."""

    NUMERIC_CODE = "numeric_code", _("Nummerncode")
    INITIALS_CODE = "initials_code", _("Initialen-Code")
    FULL_NAME = "full_name", _("vollständiger Name")


#: Bounds of a supplier's turnaround and shipping (working days): no lab promises more.
MAX_WORKING_DAYS = 100
MAX_SHIPPING_DAYS = 30
#: Bounds of a supplier's free-remake windows (DOMAIN.md §8: 90–120 days, 12 months).
MAX_FIT_WINDOW_DAYS = 730
MAX_MATERIAL_WINDOW_MONTHS = 60


class Supplier(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    company = models.ForeignKey(
        Company, verbose_name=_("Firma"), on_delete=models.PROTECT, related_name="suppliers"
    )
    name = models.CharField(
        _("Name"), max_length=200, blank=True, help_text=_("Leer: der Name der Firma.")
    )
    order_method = models.CharField(
        _("Bestellform"), max_length=20, choices=OrderMethod.choices, default=OrderMethod.EMAIL
    )
    order_email = models.EmailField(_("Bestell-E-Mail"), blank=True)
    fax_number = models.CharField(_("Faxnummer"), max_length=50, blank=True)
    phone_number = models.CharField(_("Telefonnummer"), max_length=50, blank=True)
    delivery_days = models.PositiveSmallIntegerField(
        _("Lieferzeit (Werktage)"), default=10, validators=[MaxValueValidator(MAX_WORKING_DAYS)]
    )
    #: ETA: working days the lab needs (empty: ``delivery_days``) plus the shipping days.
    turnaround_days = models.PositiveSmallIntegerField(
        _("Fertigungszeit (Werktage)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_WORKING_DAYS)],
        help_text=_("Werktage, die das Labor für die Fertigung braucht. Leer: die Lieferzeit."),
    )
    shipping_days = models.PositiveSmallIntegerField(
        _("Versandzeit (Werktage)"),
        default=1,
        validators=[MaxValueValidator(MAX_SHIPPING_DAYS)],
        help_text=_("Werktage vom Versand beim Labor bis zur Filiale."),
    )
    carrier = models.CharField(
        _("Versanddienstleister"),
        max_length=20,
        choices=vocabulary.Carrier.choices,
        blank=True,
        help_text=_("Für Sendungsnummern, zu denen das Labor keinen Versanddienstleister meldet."),
    )
    #: Free remake (Reklamation): days from delivery for fit, months for material defects.
    remake_fit_days = models.PositiveSmallIntegerField(
        _("kostenlose Nachfertigung Passform (Tage)"),
        default=90,
        validators=[MaxValueValidator(MAX_FIT_WINDOW_DAYS)],
        help_text=_("Tage ab Lieferung, in denen das Labor bei Passform, Rückkopplung oder Halt kostenlos nachfertigt."),
    )
    remake_material_months = models.PositiveSmallIntegerField(
        _("kostenlose Nachfertigung Material (Monate)"),
        default=12,
        validators=[MaxValueValidator(MAX_MATERIAL_WINDOW_MONTHS)],
        help_text=_("Monate ab Lieferung, in denen das Labor bei Materialfehlern kostenlos nachfertigt."),
    )
    remake_conditions = models.TextField(
        _("Bedingungen"),
        max_length=2000,
        blank=True,
        help_text=_("Die Bedingungen des Labors für eine kostenlose Nachfertigung."),
    )
    customer_reference_mode = models.CharField(
        _("Kundenangabe an das Labor"),
        max_length=20,
        choices=CustomerReferenceMode.choices,
        default=CustomerReferenceMode.INITIALS_CODE,
        help_text=_("So wenig wie das Labor akzeptiert: Nummerncode vor Initialen vor vollem Namen."),
    )
    is_active = models.BooleanField(_("aktiv"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["company__name", "name"]
        verbose_name = _("Lieferant")
        verbose_name_plural = _("Lieferanten")

    def __str__(self):
        return self.display_name

    @property
    def display_name(self):
        return self.name or self.company.name

    def clean(self):
        if self.order_method == OrderMethod.EMAIL and not self.order_email:
            raise ValidationError(
                {"order_email": _("Für die Bestellform E-Mail wird eine Bestell-E-Mail-Adresse benötigt.")}
            )
        if self.order_method == OrderMethod.FAX and not self.fax_number:
            raise ValidationError(
                {"fax_number": _("Für die Bestellform Fax wird eine Faxnummer benötigt.")}
            )


class CatalogueEntry(models.Model):
    """A canonical value a supplier offers for one field of an ear, under its own code.

    When a supplier has entries for a field, the order form offers only those values and the
    server refuses others; without entries for a field, every canonical value is offered.
    """

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="catalogue_entries")
    field = models.CharField(_("Feld"), max_length=40)
    value = models.CharField(_("Wert"), max_length=40)
    code = models.CharField(_("Laborcode"), max_length=60)
    label = models.CharField(_("Bezeichnung beim Labor"), max_length=200, blank=True)
    valid_from = models.DateField(_("gültig ab"), null=True, blank=True)
    valid_until = models.DateField(_("gültig bis"), null=True, blank=True)

    class Meta:
        ordering = ["supplier", "field", "value"]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "field", "value"], name="catalogue_entry_once")
        ]
        verbose_name = _("Katalogeintrag")
        verbose_name_plural = _("Katalogeinträge")

    def __str__(self):
        return f"{self.supplier}: {self.field}={self.value} ({self.code})"


class CatalogueRule(models.Model):
    """A constraint between fields at one supplier, e.g. the largest vent for a style/material."""

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="catalogue_rules")
    style = models.CharField(_("Bauform"), max_length=40, blank=True, help_text=_("Leer: jede Bauform."))
    material = models.CharField(_("Material"), max_length=40, blank=True, help_text=_("Leer: jedes Material."))
    max_vent_mm = models.DecimalField(_("größte Bohrung (mm)"), max_digits=3, decimal_places=1)
    note = models.CharField(_("Hinweis"), max_length=200, blank=True)
    valid_from = models.DateField(_("gültig ab"), null=True, blank=True)
    valid_until = models.DateField(_("gültig bis"), null=True, blank=True)

    class Meta:
        ordering = ["supplier", "style", "material"]
        verbose_name = _("Katalogregel")
        verbose_name_plural = _("Katalogregeln")

    def __str__(self):
        return f"{self.supplier}: {self.style or '*'}/{self.material or '*'} ≤ {self.max_vent_mm} mm"
