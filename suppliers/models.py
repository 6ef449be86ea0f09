"""Companies (Firmen) and suppliers (Lieferanten).

A company is any business partner staff can pick in a transaction (here: the earmould lab).
A supplier is a company in the supplier role: the party an order goes to, with its order
method (Bestellform). One company may be served by several suppliers (the lab itself, a
wholesaler); the resolver lists the company's own suppliers first.
"""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


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
        _("Lieferzeit (Werktage)"), default=10
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
        from django.core.exceptions import ValidationError

        if self.order_method == OrderMethod.EMAIL and not self.order_email:
            raise ValidationError(
                {"order_email": _("Für die Bestellform E-Mail wird eine Bestell-E-Mail-Adresse benötigt.")}
            )
        if self.order_method == OrderMethod.FAX and not self.fax_number:
            raise ValidationError(
                {"fax_number": _("Für die Bestellform Fax wird eine Faxnummer benötigt.")}
            )
