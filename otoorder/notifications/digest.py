"""The daily e-mail digest: one mail per user and day with the notifications of the kinds the
user chose (``Preference.digest_kinds``) that are still unread and were not mailed before.

Idempotent: the ``Digest`` row (unique per user and day) is written and the notifications
linked to it *before* the mail goes out, so a second run on the same day, or two overlapping
runs, send nothing twice. A mail the SMTP server refuses removes its row again, so the next
run tries anew. The mail holds what staff see anyway and no more: order number, lab, status
and the kind of news, in the user's language — no customer name and none of the lab's free
text (its question or reasons stay in otoorder).
"""

import logging
import smtplib

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import ngettext

from .models import Digest, Notification, Preference
from .texts import message

logger = logging.getLogger(__name__)

#: At most this many notifications are listed in one mail (the rest are counted).
MAX_ITEMS = 100


def pending(today):
    """Unread notifications no digest has carried (or whose digest of an earlier day was never
    sent: the run died between claim and mail)."""
    return Notification.objects.unread().filter(
        Q(digest__isnull=True) | Q(digest__sent_at__isnull=True, digest__day__lt=today)
    )


def _url(path):
    base = settings.OTOORDER_BASE_URL.rstrip("/")
    return f"{base}{path}" if base else ""


def _claim(user, today, items):
    try:
        with transaction.atomic():
            digest = Digest.objects.create(recipient=user, day=today, count=len(items))
            Notification.objects.filter(pk__in=[item.pk for item in items]).update(digest=digest)
    except IntegrityError:
        return None  # another run has this user's digest of the day
    return digest


def _mail(user, preference, items, total, today):
    with translation.override(preference.language):
        lines = [
            {
                "notification": item,
                "text": message(item, lab_words=False),
                "status": item.order.get_status_display(),
                "url": _url(reverse("notifications:open", args=[item.pk])),
            }
            for item in items
        ]
        context = {
            "user": user,
            "day": today,
            "lines": lines,
            "more": total - len(items),
            "preferences_url": _url(reverse("notifications:preferences")),
        }
        subject = ngettext(
            "otoorder: %(count)s ungelesene Benachrichtigung",
            "otoorder: %(count)s ungelesene Benachrichtigungen",
            total,
        ) % {"count": total}
        body = render_to_string("notifications/digest_email.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])


def send_digest(user, preference, today):
    """The digest of one user for ``today``; returns True when a mail went out."""
    kinds = [kind for kind in preference.digest_kinds if isinstance(kind, str)]
    if not kinds:
        return False
    candidates = pending(today).filter(recipient=user, kind__in=kinds)
    items = list(candidates.select_related("order__supplier__company").order_by("created_at", "id")[:MAX_ITEMS])
    if not items:
        return False
    total = candidates.count() if len(items) == MAX_ITEMS else len(items)
    digest = _claim(user, today, items)
    if digest is None:
        return False
    try:
        _mail(user, preference, items, total, today)
    except (smtplib.SMTPException, OSError):  # refused or unreachable: the next run tries again
        logger.exception("digest of user %s for %s not sent; the next run tries again", user.pk, today)
        digest.delete()
        return False
    digest.sent_at = timezone.now()
    digest.save(update_fields=["sent_at"])
    logger.info("digest of user %s for %s sent (%s notifications)", user.pk, today, len(items))
    return True


def send_digests(today=None):
    """One mail per user with something to tell, at most once a day; returns the mails sent."""
    today = today or timezone.localdate()
    user_ids = set(pending(today).values_list("recipient_id", flat=True).distinct())
    done = set(Digest.objects.filter(day=today, recipient_id__in=user_ids).values_list("recipient_id", flat=True))
    users = get_user_model().objects.filter(pk__in=user_ids - done, is_active=True).exclude(email="")
    preferences = {p.user_id: p for p in Preference.objects.filter(user_id__in=user_ids)}
    sent = 0
    for user in users.order_by("pk"):
        preference = preferences.get(user.pk) or Preference(user=user)
        sent += send_digest(user, preference, today)
    return sent
