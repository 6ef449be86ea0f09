"""Order attachments (a photo, an audiogram excerpt): checked, stored privately, sent with the order.

The type is decided by the file's first bytes, never by its name or the browser's claim; the
stored name comes from the attachment's UUID, so an uploader's file name never reaches the
file system. Files live under MEDIA_ROOT, which no URL serves.
"""

import hashlib
import logging
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from . import choices, event_texts
from .choices import EventSource
from .models import OrderAttachment, OrderEvent

logger = logging.getLogger(__name__)

INVALID = "invalid_attachment"
TOO_LARGE = "attachment_too_large"
NOT_ALLOWED = "attachment_not_allowed"

#: (magic prefix, content type, file extension); the lab receives the file with these.
SIGNATURES = (
    (b"%PDF", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
)
#: Attachments travel with the order, so they may be added only until it is sent.
OPEN_STATUSES = choices.ATTACHABLE


def max_bytes():
    return getattr(settings, "OTOORDER_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)


def can_attach(order):
    return order.status in OPEN_STATUSES


def sniff(head):
    """``(content_type, extension)`` of the first bytes, or ``None`` for a type we do not accept."""
    for magic, content_type, extension in SIGNATURES:
        if head.startswith(magic):
            return content_type, extension
    return None


def check_request_size(request):
    """Refuse an oversized upload from its Content-Length, before its body is read."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > max_bytes() + 64 * 1024:
        raise too_large(length)


def too_large(size):
    return ValidationError(
        _("Der Anhang ist zu groß (%(size)s); erlaubt sind höchstens %(max)s.")
        % {"size": filesizeformat(size), "max": filesizeformat(max_bytes())},
        code=TOO_LARGE,
    )


def _refuse_if_sent(order):
    if not can_attach(order):
        raise ValidationError(
            {
                "file": ValidationError(
                    _("Die Bestellung ist bereits versendet; Anhänge können nicht mehr hinzugefügt werden."),
                    code=NOT_ALLOWED,
                )
            }
        )


def add_attachment(order, upload, *, user):
    """Store ``upload`` as an attachment of ``order``; ``ValidationError`` on ``file`` if refused."""
    _refuse_if_sent(order)
    if upload.size > max_bytes():
        raise ValidationError({"file": too_large(upload.size)})
    content = b"".join(upload.chunks())
    if len(content) > max_bytes():
        raise ValidationError({"file": too_large(len(content))})
    kind = sniff(content[:16])
    if kind is None:
        raise ValidationError(
            {"file": ValidationError(_("Als Anhang sind nur PDF-, PNG- und JPEG-Dateien erlaubt."), code=INVALID)}
        )
    content_type, extension = kind
    pk = uuid.uuid4()
    attachment = OrderAttachment(
        id=pk,
        order=order,
        original_name=_base_name(upload.name) or f"{pk}.{extension}",
        content_type=content_type,
        file_size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )
    with transaction.atomic():
        # The worker's move to "sending" writes the same row, so this lock orders the two: an
        # attachment is either in the document the worker builds or refused, never left behind.
        locked = type(order).objects.select_for_update().only("status").get(pk=order.pk)
        _refuse_if_sent(locked)
        attachment.file.save(f"{pk}.{extension}", ContentFile(content), save=False)
        params = {"type": extension.upper(), "size": len(content)}
        try:
            attachment.save()
            OrderEvent.objects.create(
                order=order,
                source=EventSource.STAFF,
                message=event_texts.german("attachment_added", params),
                actor=user,
                data={"attachment": str(pk), "sha256": attachment.sha256, "code": "attachment_added", "params": params},
            )
        except Exception:
            attachment.file.delete(save=False)
            raise
    logger.info("attachment %s added to order %s by user %s", pk, order.pk, getattr(user, "pk", None))
    return attachment


def _base_name(name):
    """The uploader's file name without any directory part (kept only for display and e-mail)."""
    return (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()[:255]
