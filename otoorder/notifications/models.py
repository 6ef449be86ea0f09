"""In-app notifications of branch staff, their digest records and each user's preferences.

A notification is stored as a kind code with parameters (``params``) and rendered when it is
read, in the reader's language (``texts``): nothing here holds rendered German text. What a
lab wrote itself (its question, the reason it refused a cancellation, a tracking number) is
kept in ``params`` as the lab wrote it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from otoorder.orders.models import EarmouldOrder, OrderEvent

from .choices import DEFAULT_DIGEST_KINDS, Kind


class NotificationQuerySet(models.QuerySet):
    def for_user(self, user):
        """The user's own notifications (nobody else's, whatever their role)."""
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(recipient=user)

    def unread(self):
        return self.filter(read_at__isnull=True)

    def mark_read(self, now=None):
        """Mark the unread ones among these as read; returns how many changed."""
        return self.unread().update(read_at=now or timezone.now())


class Digest(models.Model):
    """One daily e-mail digest of one user: its row is the claim that it was sent that day."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("Tag"))
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("Tageszusammenfassung")
        verbose_name_plural = _("Tageszusammenfassungen")
        constraints = [models.UniqueConstraint(fields=["recipient", "day"], name="digest_once_per_user_and_day")]

    def __str__(self):
        return f"{self.recipient_id} {self.day}"


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("Empfänger"), on_delete=models.CASCADE, related_name="notifications"
    )
    order = models.ForeignKey(
        EarmouldOrder, verbose_name=_("Bestellung"), on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("Art"), max_length=30, choices=Kind.choices)
    #: The facts of the message (the lab's name and words, tracking number, dates as ISO text).
    params = models.JSONField(default=dict, blank=True)
    #: The order event that caused it (none for overdue notices).
    event = models.ForeignKey(OrderEvent, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    #: Overdue notices: the day they are for (one per user, order and day).
    day = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(_("Zeit"), auto_now_add=True)
    read_at = models.DateTimeField(_("gelesen"), null=True, blank=True)
    #: The daily digest that carried it by e-mail.
    digest = models.ForeignKey(Digest, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications")

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("Benachrichtigung")
        verbose_name_plural = _("Benachrichtigungen")
        indexes = [
            # The list, newest first.
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_newest"),
            # The bell's unread count: only the unread rows are in this index.
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "event"], condition=Q(event__isnull=False), name="notification_once_per_event"
            ),
            models.UniqueConstraint(
                fields=["recipient", "order", "kind", "day"],
                condition=Q(day__isnull=False),
                name="notification_once_per_day",
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.order_id} → {self.recipient_id}"

    @property
    def is_read(self):
        return self.read_at is not None


def default_digest_kinds():
    return [str(kind) for kind in DEFAULT_DIGEST_KINDS]


class Preference(models.Model):
    """What a user wants besides the bell: which kinds also come as the daily e-mail digest,
    and the language of that e-mail."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="notification_preference"
    )
    digest_kinds = models.JSONField(_("Arten in der Tageszusammenfassung"), default=default_digest_kinds, blank=True)
    language = models.CharField(
        _("Sprache der E-Mails"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )

    class Meta:
        verbose_name = _("Benachrichtigungseinstellung")
        verbose_name_plural = _("Benachrichtigungseinstellungen")

    def __str__(self):
        return str(self.user_id)

    @classmethod
    def of(cls, user):
        """The user's preferences, or the defaults (unsaved) when they chose nothing yet."""
        return cls.objects.filter(user=user).first() or cls(user=user)
