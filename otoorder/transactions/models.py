"""Customers, transaction templates and customer transactions (Vorgänge).

A transaction copies its template's steps when it starts, so later edits of the template do
not change running transactions.
"""

import uuid

from django.conf import settings
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from branches.access import VisibleQuerySet
from branches.models import Branch
from suppliers.models import Company, Supplier


class CustomerQuerySet(VisibleQuerySet):
    def namesakes(self, *, branch, first_name, last_name, birth_date):
        """Customers of ``branch``'s chain with the same name and birth date (the question
        before a second record of one person); none without a birth date."""
        if branch is None or birth_date is None or not first_name or not last_name:
            return self.none()
        return self.filter(
            branch__chain_id=branch.chain_id,
            first_name__iexact=first_name.strip(),
            last_name__iexact=last_name.strip(),
            birth_date=birth_date,
        ).select_related("branch")

    def duplicates_for(self, user, data, limit=5):
        """``[(customer, visible)]``: the namesakes of a new customer (``data`` with its branch,
        names and birth date), each with whether ``user`` may see it (only those are named)."""
        fields = ("branch", "first_name", "last_name", "birth_date")
        namesakes = list(self.namesakes(**{name: data.get(name) for name in fields})[:limit])
        if not namesakes:
            return []
        visible = set(self.visible_to(user).filter(pk__in=[c.pk for c in namesakes]).values_list("pk", flat=True))
        return [(customer, customer.pk in visible) for customer in namesakes]


class Customer(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    branch = models.ForeignKey(
        Branch, verbose_name=_("Filiale"), on_delete=models.PROTECT, related_name="customers"
    )
    customer_number = models.PositiveIntegerField(_("Kundennummer"), unique=True, editable=False)
    first_name = models.CharField(_("Vorname"), max_length=100)
    last_name = models.CharField(_("Nachname"), max_length=100)
    birth_date = models.DateField(_("Geburtsdatum"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name"]
        verbose_name = _("Kunde")
        verbose_name_plural = _("Kunden")
        indexes = [models.Index(fields=["branch", "last_name", "first_name"])]

    def __str__(self):
        return self.full_name

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def initials(self):
        return "".join(part[:1].upper() for part in (self.first_name, self.last_name) if part)

    def save(self, *args, **kwargs):
        if self.customer_number is None:
            with transaction.atomic():
                last = Customer.objects.select_for_update().order_by("-customer_number").first()
                self.customer_number = (last.customer_number + 1) if last else 10001
                return super().save(*args, **kwargs)
        return super().save(*args, **kwargs)


class StepType(models.TextChoices):
    TASK = "task", _("Aufgabe")
    IMPRESSION = "impression", _("Abdruck nehmen")
    ORDER_SERVICE = "order_service", _("Bestellservice")
    GOODS_RECEIPT = "goods_receipt", _("Wareneingang prüfen")
    FITTING = "fitting", _("Anpassung")


#: Steps that staff tick off by hand on the transaction page (the order's lifecycle also
#: ticks the last three: placing, goods receipt and fitting).
TICKABLE_STEPS = (StepType.TASK, StepType.IMPRESSION, StepType.GOODS_RECEIPT, StepType.FITTING)


class AbstractStep(models.Model):
    position = models.PositiveSmallIntegerField(_("Position"), default=1)
    step_type = models.CharField(_("Art"), max_length=30, choices=StepType.choices, default=StepType.TASK)
    title = models.CharField(_("Bezeichnung"), max_length=200)
    # R6: a Bestellservice step may name a predefined earmould lab.
    predefined_company = models.ForeignKey(
        Company,
        verbose_name=_("Vordefiniertes Otoplastik-Labor (Firma)"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    predefined_supplier = models.ForeignKey(
        Supplier,
        verbose_name=_("Vordefiniertes Otoplastik-Labor (Lieferant)"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        abstract = True
        ordering = ["position"]

    def __str__(self):
        return self.title

    @property
    def is_order_service(self):
        return self.step_type == StepType.ORDER_SERVICE

    @property
    def is_tickable(self):
        return self.step_type in TICKABLE_STEPS


class TransactionTemplate(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("Name"), max_length=200, unique=True)
    is_active = models.BooleanField(_("aktiv"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("Vorgangsvorlage")
        verbose_name_plural = _("Vorgangsvorlagen")

    def __str__(self):
        return self.name


class TemplateStep(AbstractStep):
    template = models.ForeignKey(TransactionTemplate, on_delete=models.CASCADE, related_name="steps")

    class Meta(AbstractStep.Meta):
        verbose_name = _("Vorlagenschritt")
        verbose_name_plural = _("Vorlagenschritte")


class TransactionQuerySet(VisibleQuerySet):
    def start(self, *, customer, template, user=None):
        """Start a transaction from a template, copying its steps (one atomic write)."""
        with transaction.atomic():
            txn = self.create(
                customer=customer,
                branch=customer.branch,
                template=template,
                name=template.name,
                started_by=user if user and user.is_authenticated else None,
            )
            Step.objects.bulk_create(
                Step(
                    transaction=txn,
                    position=step.position,
                    step_type=step.step_type,
                    title=step.title,
                    predefined_company_id=step.predefined_company_id,
                    predefined_supplier_id=step.predefined_supplier_id,
                )
                for step in template.steps.all()
            )
        return txn


class Transaction(models.Model):
    """Vorgang am Kunden."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey(
        Customer, verbose_name=_("Kunde"), on_delete=models.PROTECT, related_name="transactions"
    )
    branch = models.ForeignKey(
        Branch, verbose_name=_("Filiale"), on_delete=models.PROTECT, related_name="transactions"
    )
    template = models.ForeignKey(
        TransactionTemplate,
        verbose_name=_("Vorlage"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="transactions",
    )
    name = models.CharField(_("Bezeichnung"), max_length=200)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("begonnen"), auto_now_add=True)

    objects = TransactionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("Vorgang")
        verbose_name_plural = _("Vorgänge")

    def __str__(self):
        return f"{self.name} – {self.customer}"

    @property
    def order_service_step(self):
        return next((s for s in self.steps.all() if s.is_order_service), None)


class Step(AbstractStep):
    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="steps")
    done_at = models.DateTimeField(_("erledigt"), null=True, blank=True)

    class Meta(AbstractStep.Meta):
        verbose_name = _("Vorgangsschritt")
        verbose_name_plural = _("Vorgangsschritte")
