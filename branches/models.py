"""Chains, branches, staff membership, our account numbers and interface definitions.

Interface definitions live here and nowhere else (rule R0): a definition is set up once in
branch administration and serves every branch of the chain, or exactly one branch.
"""

import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from encrypted_fields.fields import EncryptedJSONField

from otoorder import vocabulary
from otoorder.backends import registry
from suppliers.models import Company, Supplier

from .access import AdministeredQuerySet, DefinitionQuerySet, Role, VisibleQuerySet


class Chain(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("Name"), max_length=200, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("Filialkette")
        verbose_name_plural = _("Filialketten")

    def __str__(self):
        return self.name


class BranchQuerySet(VisibleQuerySet):
    branch_path = ""

    def people(self):
        """The active users who belong to these branches: their staff and branch admins, and
        the admins of their chains (who may, for example, be named as an order's prescriber)."""
        members = Membership.objects.filter(
            models.Q(branch__in=self) | models.Q(branch__isnull=True, chain__in=self.values("chain"))
        )
        return get_user_model().objects.filter(is_active=True, pk__in=members.values("user"))


class Branch(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    chain = models.ForeignKey(
        Chain, verbose_name=_("Filialkette"), on_delete=models.PROTECT, related_name="branches"
    )
    name = models.CharField(_("Name"), max_length=200)
    code = models.CharField(_("Kürzel"), max_length=20, blank=True)
    street = models.CharField(_("Straße"), max_length=200, blank=True)
    postal_code = models.CharField(_("PLZ"), max_length=10, blank=True)
    city = models.CharField(_("Ort"), max_length=100, blank=True)
    phone = models.CharField(_("Telefon"), max_length=50, blank=True)
    email = models.EmailField(_("E-Mail"), blank=True)
    #: The branch's Bundesland: its public holidays are not working days in ETAs.
    state = models.CharField(
        _("Bundesland"), max_length=2, choices=vocabulary.GermanState.choices, default=vocabulary.GermanState.NW
    )

    objects = BranchQuerySet.as_manager()

    class Meta:
        ordering = ["chain__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "name"], name="branch_unique_name_per_chain")
        ]
        verbose_name = _("Filiale")
        verbose_name_plural = _("Filialen")

    def __str__(self):
        return self.name

    @property
    def address_lines(self):
        lines = [self.name, self.street, f"{self.postal_code} {self.city}".strip()]
        return [line for line in lines if line]


class Membership(models.Model):
    """A user's role: staff or branch admin of one branch, or admin of the whole chain."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    chain = models.ForeignKey(Chain, on_delete=models.CASCADE, related_name="memberships")
    branch = models.ForeignKey(
        Branch, null=True, blank=True, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("Rolle"), max_length=20, choices=Role.choices, default=Role.STAFF)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(role=Role.CHAIN_ADMIN, branch__isnull=True)
                    | (~models.Q(role=Role.CHAIN_ADMIN) & models.Q(branch__isnull=False))
                ),
                name="membership_branch_matches_role",
            ),
            models.UniqueConstraint(
                fields=["user", "chain", "branch"], name="membership_unique_per_scope"
            ),
        ]
        verbose_name = _("Mitgliedschaft")
        verbose_name_plural = _("Mitgliedschaften")

    def __str__(self):
        return f"{self.user} – {self.get_role_display()} – {self.branch or self.chain}"


class SupplierAccount(models.Model):
    """Our account number (Kundennummer) at a supplier, per branch.

    Kept here rather than in ``suppliers`` so that dependencies point one way
    (suppliers ← branches): the number belongs to the branch.
    """

    branch = models.ForeignKey(
        Branch, verbose_name=_("Filiale"), on_delete=models.CASCADE, related_name="supplier_accounts"
    )
    supplier = models.ForeignKey(
        Supplier, verbose_name=_("Lieferant"), on_delete=models.CASCADE, related_name="accounts"
    )
    account_number = models.CharField(_("Kundennummer"), max_length=50)

    objects = AdministeredQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["branch", "supplier"], name="account_unique_per_branch")
        ]
        ordering = ["branch__name", "supplier__company__name"]
        verbose_name = _("Kundennummer beim Lieferanten")
        verbose_name_plural = _("Kundennummern bei Lieferanten")

    def __str__(self):
        return f"{self.branch} @ {self.supplier}: {self.account_number}"


class InterfaceDefinitionQuerySet(DefinitionQuerySet):
    def for_branch(self, branch):
        return self.filter(chain_id=branch.chain_id, is_active=True).filter(
            models.Q(branch__isnull=True) | models.Q(branch=branch)
        )


#: Bounds of a definition's sending limits (docs/operations.md, "Queues and limits per lab").
MAX_PARALLEL_SENDS = 20
MAX_SENDS_PER_MINUTE = 600


class InterfaceDefinition(models.Model):
    """Schnittstellendefinition: a configured instance of an ordering backend.

    ``max_parallel_sends`` and ``sends_per_minute`` bound what the workers ask of the lab at
    once and per minute (``otoorder.orders.throttle``): a lab that is slow or stalls holds
    at most that many worker processes, and the others keep sending to the other labs.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    chain = models.ForeignKey(
        Chain, verbose_name=_("Filialkette"), on_delete=models.PROTECT, related_name="interface_definitions"
    )
    name = models.CharField(_("Bezeichnung"), max_length=200)
    backend = models.CharField(_("Schnittstelle"), max_length=50, choices=registry.choices)
    branch = models.ForeignKey(
        Branch,
        verbose_name=_("Filiale"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="interface_definitions",
        help_text=_("Leer: gilt für alle Filialen der Kette."),
    )
    active_from = models.DateField(
        _("aktiv ab"), null=True, blank=True, help_text=_("Leer: sofort aktiv.")
    )
    companies = models.ManyToManyField(
        Company,
        verbose_name=_("Firmenbelegung"),
        blank=True,
        related_name="interface_definitions",
        help_text=_("Leer: allgemeine Definition für alle Firmen ohne eigene Definition."),
    )
    supplier = models.ForeignKey(
        Supplier,
        verbose_name=_("Lieferant"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="interface_definitions",
        help_text=_("Leer: der Lieferant wird bei der Bestellung gewählt."),
    )
    options = models.JSONField(_("Optionen"), default=dict, blank=True)
    # Write-only: never rendered, never returned by the API; Fernet-encrypted at rest.
    secrets = EncryptedJSONField(_("Zugangsdaten"), default=dict, blank=True)
    is_active = models.BooleanField(_("aktiv"), default=True)
    max_parallel_sends = models.PositiveSmallIntegerField(
        _("gleichzeitige Übertragungen"),
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_PARALLEL_SENDS)],
        help_text=_(
            "So viele Bestellungen, Stornierungen, Antworten und Statusabfragen laufen höchstens "
            "gleichzeitig zu diesem Labor (1 bis 20). Weitere warten, ohne einen Worker zu "
            "belegen; ein langsames Labor hält so die anderen nicht auf."
        ),
    )
    sends_per_minute = models.PositiveSmallIntegerField(
        _("Übertragungen pro Minute"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_SENDS_PER_MINUTE)],
        help_text=_(
            "Höchstens so viele Übertragungen pro Minute, gleichmäßig verteilt (1 bis 600). "
            "Leer: ohne Grenze."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = InterfaceDefinitionQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_parallel_sends__gte=1, max_parallel_sends__lte=MAX_PARALLEL_SENDS),
                name="definition_parallel_sends_bounded",
            ),
            models.CheckConstraint(
                condition=models.Q(sends_per_minute__isnull=True)
                | models.Q(sends_per_minute__gte=1, sends_per_minute__lte=MAX_SENDS_PER_MINUTE),
                name="definition_sends_per_minute_bounded",
            ),
        ]
        verbose_name = _("Schnittstellendefinition")
        verbose_name_plural = _("Schnittstellendefinitionen")

    def __str__(self):
        return self.name

    @property
    def backend_class(self):
        return registry.get_backend_class(self.backend)

    @property
    def backend_label(self):
        return registry.label(self.backend)

    def is_active_on(self, day=None):
        day = day or timezone.localdate()
        return self.is_active and (self.active_from is None or self.active_from <= day)

    def configured_options(self):
        """Options and secrets together, as the backend receives them."""
        return {**(self.options or {}), **(self.secrets or {})}

    def secret_names_set(self):
        return sorted(name for name, value in (self.secrets or {}).items() if value not in ("", None))
