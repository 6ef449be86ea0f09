"""Earmould orders, their items per ear, impressions, history, outbox and attempt log."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from branches.access import VisibleQuerySet
from branches.models import Branch, InterfaceDefinition
from otoorder import vocabulary
from otoorder.backends import registry
from otoorder.backends.exceptions import render_error
from otoorder.transactions.models import Customer, Step, Transaction
from suppliers.models import Company, Supplier

from . import choices, event_texts
from .choices import OrderStatus
from .tracking import tracking_url


class EarmouldOrder(models.Model):
    #: The UUID is the idempotency key sent to the lab: a re-delivery never orders twice.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.CharField(_("Bestellnummer"), max_length=30, unique=True, editable=False)
    transaction = models.ForeignKey(
        Transaction, verbose_name=_("Vorgang"), on_delete=models.PROTECT, related_name="orders"
    )
    step = models.ForeignKey(Step, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders")
    customer = models.ForeignKey(
        Customer, verbose_name=_("Kunde"), on_delete=models.PROTECT, related_name="orders"
    )
    branch = models.ForeignKey(
        Branch, verbose_name=_("Filiale"), on_delete=models.PROTECT, related_name="orders"
    )
    company = models.ForeignKey(
        Company, verbose_name=_("Firma"), on_delete=models.PROTECT, related_name="orders"
    )
    supplier = models.ForeignKey(
        Supplier, verbose_name=_("Lieferant"), on_delete=models.PROTECT, related_name="orders"
    )
    interface_definition = models.ForeignKey(
        InterfaceDefinition,
        verbose_name=_("Schnittstellendefinition"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    #: The backend key at submission; the definition may change later.
    backend = models.CharField(_("Schnittstelle"), max_length=50)
    status = models.CharField(
        _("Status"), max_length=30, choices=OrderStatus.choices, default=OrderStatus.DRAFT
    )
    order_type = models.CharField(
        _("Bestellart"), max_length=30, choices=choices.OrderType.choices, default=choices.OrderType.NEW
    )
    priority = models.CharField(
        _("Priorität"), max_length=20, choices=choices.Priority.choices, default=choices.Priority.STANDARD
    )
    date_required = models.DateField(_("benötigt bis"), null=True, blank=True)
    notes = models.TextField(_("Hinweise an das Labor"), blank=True)
    #: Remakes and modifications name the order they replace and why.
    original_order = models.ForeignKey(
        "self",
        verbose_name=_("ursprüngliche Bestellung"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="follow_ups",
    )
    reason = models.TextField(_("Grund der Reklamation/Änderung"), blank=True)
    #: A remake from a complaint: the chain's reason code and its category (fit or material),
    #: sent to the lab and counted by the scorecards.
    reason_code = models.CharField(_("Reklamationsgrund (Kürzel)"), max_length=40, blank=True)
    reason_category = models.CharField(
        _("Kategorie des Reklamationsgrunds"), max_length=10, choices=choices.ReasonCategory.choices, blank=True
    )
    #: Who pays for a remake (Kostenträger) and the amount where known.
    cost_bearer = models.CharField(_("Kostenträger"), max_length=20, choices=choices.CostBearer.choices, blank=True)
    cost_amount = models.DecimalField(_("Betrag (EUR)"), max_digits=8, decimal_places=2, null=True, blank=True)
    prescriber = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verantwortlicher Akustiker"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    external_reference = models.CharField(_("Ext. Bestellung"), max_length=100, blank=True)
    external_status = models.CharField(_("Ext. Status"), max_length=200, blank=True)
    tracking_number = models.CharField(_("Sendungsnummer"), max_length=100, blank=True)
    #: The earmould properties the lab confirmed ("Bestelldaten"), per ear.
    lab_properties = models.JSONField(_("Bestelldaten des Labors"), default=dict, blank=True)
    failure_reason = models.TextField(_("Fehlergrund"), blank=True)
    #: The failure as params of the event code ``send_failed`` (rendered for the reader;
    #: ``failure_reason`` is its German text).
    failure_params = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("erstellt"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    ordered_at = models.DateTimeField(_("bestellt"), null=True, blank=True)
    received_at = models.DateTimeField(_("Wareneingang"), null=True, blank=True)
    fitted_on = models.DateField(_("angepasst am"), null=True, blank=True)
    warranty_until = models.DateField(_("Gewährleistung bis"), null=True, blank=True)
    closed_at = models.DateTimeField(_("abgeschlossen"), null=True, blank=True)
    close_reason = models.TextField(_("Grund des Abschlusses ohne Wareneingang"), blank=True)
    #: When the lab was last asked about this order (status polls take the longest unasked first).
    last_polled_at = models.DateTimeField(null=True, blank=True, editable=False)
    #: When the lab reported the earmoulds shipped (turnaround, overdue).
    shipped_at = models.DateTimeField(_("versandt"), null=True, blank=True)
    #: The carrier of ``tracking_number`` (from the lab's report, else the supplier's).
    carrier = models.CharField(
        _("Versanddienstleister"), max_length=20, choices=vocabulary.Carrier.choices, blank=True
    )
    #: Expected date (ETA): sent + turnaround + shipping working days of the branch's state
    #: (``schedule.compute_eta``), set when the order reaches the lab.
    eta = models.DateField(_("voraussichtlicher Liefertermin"), null=True, blank=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("Otoplastikbestellung")
        verbose_name_plural = _("Otoplastikbestellungen")
        indexes = [
            models.Index(fields=["branch", "-created_at"]),
            # A chain admin's lists: every branch, newest first (``ORDER BY created_at DESC``).
            models.Index(fields=["-created_at"], name="order_created_desc"),
            models.Index(fields=["status"]),
            models.Index(fields=["status", "eta"]),
        ]

    def __str__(self):
        return self.number

    @property
    def is_in_flight(self):
        return self.status in choices.IN_FLIGHT

    @property
    def can_resend(self):
        return self.status == OrderStatus.FAILED

    @property
    def can_attach(self):
        return self.status in choices.ATTACHABLE

    @property
    def can_confirm_manually(self):
        return self.status == OrderStatus.AWAITING_MANUAL

    @property
    def failure_text(self):
        """Why sending failed, in the reader's language (``failure_reason`` without params)."""
        if self.failure_params:
            return event_texts.render("send_failed", self.failure_params, fallback=self.failure_reason)
        return self.failure_reason

    @property
    def backend_label(self):
        return registry.label(self.backend)

    @property
    def tracking_carrier(self):
        """The carrier of the tracking number: as the lab reported it, else the supplier's."""
        return self.carrier or self.supplier.carrier

    @property
    def tracking_url(self):
        """The carrier's tracking page for ``tracking_number`` ("" when there is none)."""
        if not self.tracking_number:
            return ""
        return tracking_url(self.tracking_carrier, self.tracking_number)


class ImpressionQuerySet(VisibleQuerySet):
    branch_path = "customer__branch"


class Impression(models.Model):
    """Abdruck (physical, shipped by post) or 3D scan (STL/PLY file) of one ear."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="impressions")
    side = models.CharField(_("Seite"), max_length=10, choices=vocabulary.Side.choices)
    kind = models.CharField(
        _("Art"), max_length=20, choices=vocabulary.ImpressionKind.choices, default=vocabulary.ImpressionKind.PHYSICAL
    )
    reference = models.CharField(
        _("Kennzeichnung"), max_length=100, blank=True, help_text=_("z. B. Etikett der Abdruckbox")
    )
    tracking_number = models.CharField(_("Sendungsnummer des Abdrucks"), max_length=100, blank=True)
    #: Digital scans only: kept in private storage, served only to staff of the branch.
    file = models.FileField(_("Scan-Datei"), upload_to="scans/%Y/%m/", blank=True, max_length=300)
    original_name = models.CharField(_("Dateiname"), max_length=255, blank=True)
    file_format = models.CharField(_("Format"), max_length=20, choices=vocabulary.ScanFormat.choices, blank=True)
    file_size = models.PositiveIntegerField(_("Größe (Bytes)"), null=True, blank=True)
    sha256 = models.CharField(_("Prüfsumme (SHA-256)"), max_length=64, blank=True)
    triangle_count = models.PositiveIntegerField(_("Dreiecke"), null=True, blank=True)
    scanner = models.CharField(_("Scanner"), max_length=100, blank=True)
    #: Physical impressions: when the lab reported that it has the impression (``parcels``).
    lab_received_at = models.DateTimeField(_("beim Labor eingegangen"), null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ImpressionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("Abdruck/Scan")
        verbose_name_plural = _("Abdrücke/Scans")

    def __str__(self):
        """Tells several impressions of one ear apart: kind, ear, date, and label or file."""
        parts = [self.get_kind_display(), self.get_side_display()]
        if self.created_at:
            parts.append(timezone.localtime(self.created_at).strftime("%d.%m.%Y"))
        label = self.reference or self.original_name
        return " ".join(parts) + (f" – {label}" if label else "")


class OrderItem(models.Model):
    """One ear of an order: binaural orders have two items, never a 'both'."""

    order = models.ForeignKey(EarmouldOrder, on_delete=models.CASCADE, related_name="items")
    side = models.CharField(_("Seite"), max_length=10, choices=vocabulary.Side.choices)
    product_family = models.CharField(
        _("Produktart"), max_length=30, choices=vocabulary.ProductFamily.choices, default=vocabulary.ProductFamily.BTE
    )
    style = models.CharField(_("Bauform"), max_length=30, choices=vocabulary.Style.choices)
    material = models.CharField(_("Material"), max_length=30, choices=vocabulary.Material.choices)
    colour = models.CharField(_("Farbe"), max_length=50, blank=True)
    vent_type = models.CharField(
        _("Zusatzbohrung"), max_length=20, choices=vocabulary.VentType.choices, default=vocabulary.VentType.NONE
    )
    vent_diameter_mm = models.DecimalField(
        _("Bohrung Ø (mm)"), max_digits=3, decimal_places=1, null=True, blank=True
    )
    tube = models.CharField(_("Schlauch"), max_length=20, choices=vocabulary.Tube.choices, blank=True)
    receiver_power = models.CharField(
        _("Hörerleistung"), max_length=5, choices=vocabulary.ReceiverPower.choices, blank=True
    )
    receiver_length = models.PositiveSmallIntegerField(
        _("Hörerlänge"), choices=vocabulary.RECEIVER_LENGTHS, null=True, blank=True
    )
    shore_hardness = models.PositiveSmallIntegerField(_("Shore-A-Härte"), null=True, blank=True)
    surface_finish = models.CharField(
        _("Oberfläche"), max_length=20, choices=vocabulary.SurfaceFinish.choices, blank=True
    )
    acoustic_modification = models.CharField(
        _("Akustische Modifikation"),
        max_length=20,
        choices=vocabulary.AcousticModification.choices,
        default=vocabulary.AcousticModification.NONE,
    )
    canal_length = models.CharField(_("Gehörgangslänge"), max_length=10, choices=vocabulary.CanalLength.choices, blank=True)
    receiver_type = models.CharField(_("Hörertyp"), max_length=100, blank=True)
    protection_filter = models.CharField(
        _("Filter"), max_length=20, choices=vocabulary.ProtectionFilter.choices, blank=True
    )
    extraction_cord = models.BooleanField(_("Rückholfaden"), default=False)
    engraving = models.CharField(_("Gravur"), max_length=30, blank=True)
    quantity = models.PositiveSmallIntegerField(_("Menge"), default=1)
    #: Recorded at goods receipt (Wareneingang), per ear.
    serial_number = models.CharField(_("Seriennummer"), max_length=50, blank=True)
    impression = models.ForeignKey(
        Impression, verbose_name=_("Abdruck/Scan"), null=True, blank=True, on_delete=models.PROTECT, related_name="items"
    )
    notes = models.CharField(_("Hinweis"), max_length=500, blank=True)

    class Meta:
        # Right ear first everywhere (form, order page, PDF, e-mail, API): "right" sorts
        # after "left", so the side runs descending.
        ordering = ["order", "-side"]
        constraints = [models.UniqueConstraint(fields=["order", "side"], name="one_item_per_ear")]
        verbose_name = _("Bestellposition")
        verbose_name_plural = _("Bestellpositionen")

    def __str__(self):
        return f"{self.order} {self.get_side_display()}"


class OrderEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Order events are append-only.")

    def delete(self):
        raise TypeError("Order events are append-only.")


class OrderEvent(models.Model):
    """Append-only history: every transition with time, actor and source."""

    order = models.ForeignKey(EarmouldOrder, on_delete=models.CASCADE, related_name="events")
    created_at = models.DateTimeField(_("Zeit"), auto_now_add=True, db_index=True)
    from_status = models.CharField(max_length=30, choices=OrderStatus.choices, blank=True)
    to_status = models.CharField(max_length=30, choices=OrderStatus.choices, blank=True)
    source = models.CharField(_("Quelle"), max_length=20, choices=choices.EventSource.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.TextField(_("Meldung"), blank=True)
    data = models.JSONField(default=dict, blank=True)

    objects = OrderEventQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("Bestellereignis")
        verbose_name_plural = _("Bestellereignisse")

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError("Order events are append-only.")
        return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Order events are append-only.")

    @property
    def text(self):
        """The event in the reader's language (``event_texts``); ``message`` only without a code."""
        return event_texts.event_text(self)


class OutboxRow(models.Model):
    """What a worker must carry to a lab, claimed atomically (``orders.outbox``).

    The order itself (``Dispatch``), a cancellation (``Cancellation``) and staff's answer to a
    lab's question (``OrderMessage``) travel the same way: queued → sending → done or failed,
    transient failures retried with backoff until ``retry_until``, a dead worker's claim taken
    back by the sweeper, the same idempotency key on every delivery.
    """

    state = models.CharField(
        max_length=20, choices=choices.DispatchState.choices, default=choices.DispatchState.QUEUED
    )
    #: Attempts in the current round (reset by "erneut senden"); bounds the retries.
    attempt_count = models.PositiveSmallIntegerField(default=0)
    #: Attempts over the row's whole life: the number of the attempt log's next entry.
    attempt_number = models.PositiveIntegerField(default=0)
    #: When the row is due to be sent (later after a transient failure).
    due_at = models.DateTimeField(default=timezone.now)
    #: Transient failures are retried until then: set by the round's first claim to
    #: ``RETRY_HORIZON`` ahead, cleared by "erneut senden".
    retry_until = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True)
    last_enqueued_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    #: The row's entries in the attempt log (``Attempt.purpose``).
    attempt_purpose = choices.AttemptPurpose.ORDER

    class Meta:
        abstract = True

    @property
    def attempt_subject(self):
        """``Attempt.subject`` of the row (as ``outbox.Outbox.subject``)."""
        return ""

    @property
    def last_error_text(self):
        """The last error in the reader's language (from the attempt that logged it)."""
        if not self.last_error:
            return ""
        attempt = (
            Attempt.objects.filter(order_id=self.order_id, purpose=self.attempt_purpose, subject=self.attempt_subject)
            .order_by("-number")
            .first()
        )
        return attempt.error_text if attempt is not None and attempt.error == self.last_error else self.last_error


class Dispatch(OutboxRow):
    """The outbox row of an order: what the worker must send, claimed atomically."""

    order = models.OneToOneField(EarmouldOrder, on_delete=models.CASCADE, related_name="dispatch")
    due_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["state", "due_at"])]
        verbose_name = _("Versandauftrag")
        verbose_name_plural = _("Versandaufträge")

    @property
    def idempotency_key(self):
        """The order's UUID: every delivery of the order carries it."""
        return str(self.order_id)


class Cancellation(OutboxRow):
    """A cancellation (Stornierung) of an order the lab has, carried to the lab like the order.

    ``outcome`` is the lab's answer (pending until it comes); ``previous_status`` is where the
    order goes back to when the lab refuses. Where the interface cannot carry it, staff report
    it (``reported_*``) and record the lab's answer.
    """

    order = models.ForeignKey(EarmouldOrder, on_delete=models.CASCADE, related_name="cancellations")
    #: 1, 2, … per order: the key ``<order uuid>-storno-<sequence>`` and openTRANS'
    #: ORDERCHANGE_SEQUENCE_ID.
    sequence = models.PositiveSmallIntegerField(default=1)
    reason = models.TextField(_("Grund der Stornierung"), blank=True)
    previous_status = models.CharField(max_length=30, choices=OrderStatus.choices)
    outcome = models.CharField(
        _("Antwort des Labors"),
        max_length=20,
        choices=choices.CancellationOutcome.choices,
        default=choices.CancellationOutcome.PENDING,
    )
    #: The interface cannot carry it: staff report it to the lab (phone, fax, e-mail, portal).
    manual = models.BooleanField(default=False)
    #: The lab's own words (e.g. "bereits in Fertigung"), as it wrote them.
    lab_answer = models.TextField(_("Antwort des Labors (Wortlaut)"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: Manual path: who reported it to whom at the lab, and when.
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reported_to = models.CharField(_("gemeldet an"), max_length=200, blank=True)
    reported_at = models.DateTimeField(_("gemeldet am"), null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["order", "sequence"], name="cancellation_sequence_unique"),
            models.UniqueConstraint(
                fields=["order"],
                condition=models.Q(outcome="pending"),
                name="one_pending_cancellation_per_order",
            ),
        ]
        indexes = [models.Index(fields=["state", "due_at"], name="cancellation_state_due")]
        verbose_name = _("Stornierung")
        verbose_name_plural = _("Stornierungen")

    attempt_purpose = choices.AttemptPurpose.CANCELLATION

    @property
    def idempotency_key(self):
        return f"{self.order_id}-storno-{self.sequence}"

    @property
    def attempt_subject(self):
        return str(self.sequence)


class OrderMessage(OutboxRow):
    """One message of the thread between branch and lab on an order (Rückfrage and answer).

    A lab's question arrives (``from_lab``) through a callback, a status poll or an inbox file,
    or staff record one that came by phone; staff's answer (``to_lab``) is an outbox row the
    worker carries back through the interface, or by e-mail where the interface cannot.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(EarmouldOrder, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(_("Richtung"), max_length=10, choices=choices.MessageDirection.choices)
    channel = models.CharField(
        _("Weg"), max_length=10, choices=choices.MessageChannel.choices, default=choices.MessageChannel.INTERFACE
    )
    #: The lab's words stay as the lab wrote them; staff's answer as staff wrote it.
    text = models.TextField(_("Text"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: The lab's id of its question (sent back with the answer), or of our delivered answer.
    lab_message_id = models.CharField(max_length=100, blank=True)
    #: A question's report key: the same report arriving twice records one message.
    external_key = models.CharField(max_length=64, blank=True)
    #: The answer's question.
    in_reply_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="answers"
    )
    #: A lab's question: when staff of the branch first read it.
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "external_key"], condition=~models.Q(external_key=""), name="lab_message_once"
            )
        ]
        indexes = [
            models.Index(fields=["state", "due_at"], name="order_message_state_due"),
            models.Index(fields=["order", "direction", "read_at"], name="order_message_unread"),
        ]
        verbose_name = _("Nachricht zur Bestellung")
        verbose_name_plural = _("Nachrichten zur Bestellung")

    attempt_purpose = choices.AttemptPurpose.MESSAGE

    @property
    def idempotency_key(self):
        return str(self.id)

    @property
    def attempt_subject(self):
        return str(self.pk)


class Attempt(models.Model):
    """One try to hand something to the lab (the attempt log): the order, a cancellation or a
    message (``purpose``; ``subject`` names which cancellation or message)."""

    order = models.ForeignKey(EarmouldOrder, on_delete=models.CASCADE, related_name="attempts")
    purpose = models.CharField(
        max_length=20, choices=choices.AttemptPurpose.choices, default=choices.AttemptPurpose.ORDER
    )
    #: "" for the order; the cancellation's sequence or the message's UUID otherwise.
    subject = models.CharField(max_length=40, blank=True, default="")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=30, choices=choices.AttemptOutcome.choices)
    permanent = models.BooleanField(default=False)
    #: The error as German text (or the lab's own words, which have no code).
    error = models.TextField(blank=True)
    #: The error's code and params (``backends.exceptions.ERRORS``), rendered for the reader.
    error_code = models.CharField(max_length=60, blank=True, default="")
    error_params = models.JSONField(default=dict, blank=True)
    request_summary = models.JSONField(default=dict, blank=True)
    response = models.TextField(blank=True)
    worker = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["order", "number"]
        constraints = [
            models.UniqueConstraint(fields=["order", "purpose", "subject", "number"], name="attempt_number_unique")
        ]
        verbose_name = _("Sendeversuch")
        verbose_name_plural = _("Sendeversuche")

    @property
    def error_text(self):
        """The error in the reader's language; the stored text without a known code."""
        return render_error(self.error_code, self.error_params, fallback=self.error)


class CallbackReceipt(models.Model):
    """A lab callback that was accepted: a replay of the same signature is refused."""

    interface_definition = models.ForeignKey(InterfaceDefinition, on_delete=models.CASCADE, related_name="+")
    signature = models.CharField(max_length=64)
    body_sha256 = models.CharField(max_length=64)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["interface_definition", "signature"], name="callback_signature_once")
        ]
        verbose_name = _("Rückmeldung eines Labors")
        verbose_name_plural = _("Rückmeldungen der Labore")


class CallbackRefusal(models.Model):
    """Refused lab callbacks, counted per backend and refusal code (the ``/metrics`` counter).

    A counter, not a log: nothing of the request is kept. ``backend`` is empty when the
    callback named no active definition that accepts callbacks.
    """

    backend = models.CharField(_("Schnittstelle"), max_length=50, blank=True)
    code = models.CharField(_("Grund"), max_length=40)
    count = models.PositiveBigIntegerField(_("Anzahl"), default=0)
    last_at = models.DateTimeField(_("zuletzt"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["backend", "code"], name="callback_refusal_once")]
        verbose_name = _("abgelehnte Rückmeldung")
        verbose_name_plural = _("abgelehnte Rückmeldungen")


class AttachmentQuerySet(VisibleQuerySet):
    branch_path = "order__branch"


class OrderAttachment(models.Model):
    """A file sent with the order (a photo, an audiogram excerpt): private storage."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(EarmouldOrder, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("Datei"), upload_to="attachments/%Y/%m/", max_length=300)
    original_name = models.CharField(_("Dateiname"), max_length=255)
    content_type = models.CharField(max_length=100)
    file_size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("Anhang")
        verbose_name_plural = _("Anhänge")


class Parcel(models.Model):
    """Sammelversand: physical impressions of one branch going to one lab in one parcel, with
    the carrier and tracking number recorded once for all of them (``orders.parcels``).

    Open until the lab has reported every impression received, or staff close it by hand
    (``closed_by`` empty with ``closed_at`` set: closed by the lab's reports).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    branch = models.ForeignKey(Branch, verbose_name=_("Filiale"), on_delete=models.PROTECT, related_name="parcels")
    supplier = models.ForeignKey(
        Supplier, verbose_name=_("Labor (Lieferant)"), on_delete=models.PROTECT, related_name="parcels"
    )
    carrier = models.CharField(_("Versanddienstleister"), max_length=20, choices=vocabulary.Carrier.choices)
    tracking_number = models.CharField(_("Sendungsnummer"), max_length=100)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("erstellt"), auto_now_add=True)
    closed_at = models.DateTimeField(_("abgeschlossen"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = VisibleQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("Sammelversand")
        verbose_name_plural = _("Sammelversände")
        indexes = [models.Index(fields=["branch", "-created_at"])]

    def __str__(self):
        return f"{self.supplier} · {self.tracking_number}"

    @property
    def is_open(self):
        return self.closed_at is None

    @property
    def tracking_url(self):
        return tracking_url(self.carrier, self.tracking_number)


class ParcelItem(models.Model):
    """One impression in a parcel, with the order it belongs to (its box label names the order)."""

    parcel = models.ForeignKey(Parcel, on_delete=models.CASCADE, related_name="items")
    #: An impression travels once: a second parcel with it is refused.
    impression = models.OneToOneField(
        Impression, verbose_name=_("Abdruck"), on_delete=models.PROTECT, related_name="parcel_item"
    )
    order = models.ForeignKey(
        EarmouldOrder, verbose_name=_("Bestellung"), on_delete=models.PROTECT, related_name="parcel_items"
    )

    class Meta:
        ordering = ["parcel", "pk"]
        verbose_name = _("Abdruck im Sammelversand")
        verbose_name_plural = _("Abdrücke im Sammelversand")


class OrderSubmission(models.Model):
    """A one-time key under which an order was submitted: the order form's token or the API's
    ``Idempotency-Key`` header. A second submission with the same key finds the first order
    instead of placing another; the unique constraint settles two submissions at once."""

    #: Who submitted: ``user:<id>``, ``token:<id>`` (an API token) or ``form:<user id>``.
    scope = models.CharField(_("Absender"), max_length=80)
    branch = models.ForeignKey(Branch, verbose_name=_("Filiale"), on_delete=models.CASCADE, related_name="+")
    key = models.CharField(_("Schlüssel"), max_length=255)
    #: SHA-256 of the submitted body (the API compares it; the form's token does not).
    body_sha256 = models.CharField(max_length=64)
    #: Set in the same database transaction as the key (empty only while that one runs).
    order = models.OneToOneField(
        EarmouldOrder, verbose_name=_("Bestellung"), null=True, on_delete=models.CASCADE, related_name="submission"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "branch", "key"], name="order_submission_key_once")
        ]
        verbose_name = _("Bestellübermittlung")
        verbose_name_plural = _("Bestellübermittlungen")
