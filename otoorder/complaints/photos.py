"""Photos of a complaint: JPEG or PNG by their first bytes, bounded in size and number,
stored privately (MEDIA_ROOT, which no URL serves) under the photo's UUID."""

import hashlib
import uuid

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _

from otoorder.orders.attachments import _base_name, max_bytes, sniff, too_large

from .models import ComplaintPhoto

MAX_PHOTOS = 5
IMAGE_TYPES = {"image/jpeg", "image/png"}


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
