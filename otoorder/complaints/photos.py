"""Photos of a complaint: JPEG or PNG by their first bytes, bounded in size and number,
stored privately (MEDIA_ROOT, which no URL serves) under the photo's UUID."""

import hashlib
import uuid

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from otoorder.orders.attachments import _base_name, max_bytes, sniff, too_large

from .models import ComplaintPhoto

MAX_PHOTOS = 5
IMAGE_TYPES = {"image/jpeg", "image/png"}


#: Room for the other fields and the multipart framing beside the photos.
FORM_OVERHEAD = 64 * 1024


def max_request_bytes():
    return MAX_PHOTOS * max_bytes() + FORM_OVERHEAD


def check_request_size(request):
    """Refuse a complaint upload larger than five photos from its Content-Length, before its
    body is read (ValidationError on ``photos``)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > max_request_bytes():
        raise ValidationError({"photos": too_large_request(length)})


def too_large_request(size):
    return _("Die Fotos sind zusammen zu groß (%(size)s); erlaubt sind höchstens %(count)d Fotos zu je %(max)s.") % {
        "size": filesizeformat(size), "count": MAX_PHOTOS, "max": filesizeformat(max_bytes()),
    }


def check_photos(uploads):
    """``[(upload, content, content_type, extension)]`` or ValidationError on ``photos``."""
    if len(uploads) > MAX_PHOTOS:
        raise ValidationError({"photos": _("Höchstens %(max)d Fotos je Reklamation.") % {"max": MAX_PHOTOS}})
    checked = []
    for upload in uploads:
        if upload.size > max_bytes():
            raise ValidationError({"photos": too_large(upload.size)})
        content = b"".join(upload.chunks())
        if len(content) > max_bytes():
            raise ValidationError({"photos": too_large(len(content))})
        kind = sniff(content[:16])
        if kind is None or kind[0] not in IMAGE_TYPES:
            raise ValidationError({"photos": _("Als Foto sind nur JPEG- und PNG-Dateien erlaubt.")})
        checked.append((upload, content, *kind))
    return checked


def store_photos(complaint, checked):
    for upload, content, content_type, extension in checked:
        pk = uuid.uuid4()
        photo = ComplaintPhoto(
            id=pk,
            complaint=complaint,
            original_name=_base_name(upload.name) or f"{pk}.{extension}",
            content_type=content_type,
            file_size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
        )
        photo.file.save(f"{pk}.{extension}", ContentFile(content), save=False)
        photo.save()
