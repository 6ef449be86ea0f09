"""The API's JSON parser: bounded size, bounded nesting, finite numbers.

DRF's ``JSONParser`` reads the whole stream (``DATA_UPLOAD_MAX_MEMORY_SIZE`` does not apply
to it) and recurses once per nesting level, so ``[[[[…]]]]`` ends in a ``RecursionError``,
a 500. Here the body is read up to ``MAX_BYTES`` (more is 413 ``payload_too_large``) and
parsed by ``otoorder.backends.strictjson`` (at most 32 levels, no ``NaN``/``Infinity``);
anything it refuses is 400 ``parse_error``. A body Django itself refuses as larger than
``DATA_UPLOAD_MAX_MEMORY_SIZE`` is the same 413 (``exceptions.py``).
"""

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser

from otoorder.backends import strictjson


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"


def payload_too_large():
    return PayloadTooLarge(
        _("Die Anfrage ist zu groß (höchstens %(size)d kB).") % {"size": settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024}
    )


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise payload_too_large()
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return strictjson.loads(body.decode(encoding))
        except (ValueError, LookupError) as exc:
            raise exceptions.ParseError(str(exc)) from None
