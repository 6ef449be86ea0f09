"""Stored files to the browser: after the caller's branch check, streamed from the storage.

The storage is the private folder or the object store (``otoorder/storage.py``); either way the
bytes pass through the web process, so nobody is ever sent to the store itself and no URL of a
file outlives the request. A file gone from the storage answers 404; a storage that does not
answer, 503 with a page that asks to try again (never a 500).
"""

import logging

from django.http import FileResponse, Http404
from django.shortcuts import render

logger = logging.getLogger(__name__)

#: Seconds after which a browser may ask again when the storage did not answer.
RETRY_AFTER_SECONDS = 30


def stored_file_response(request, field_file, *, filename, content_type, subject):
    """A download of ``field_file`` (a ``FieldFile`` the caller has checked access to).

    ``subject`` names the file in the log (ids only, never a name a person gave).
    """
    handle = None
    try:
        handle = field_file.open("rb")
        # FileResponse measures the file: with the object store that reads it (bounded by the
        # upload limits; beyond a few MB it is spooled to a temporary file).
        response = FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)
    except FileNotFoundError:
        logger.error("%s is missing from storage", subject)
        raise Http404 from None
    except Exception as exc:  # noqa: BLE001 - the object store's client raises its own error classes
        if handle is not None:
            handle.close()
        logger.error("storage unreadable for %s: %s", subject, type(exc).__name__)
        response = render(request, "file_unavailable.html", status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        response["Cache-Control"] = "no-store"
        return response
    response["Cache-Control"] = "no-store, private"
    response["X-Content-Type-Options"] = "nosniff"
    return response
