"""The sentences of order events: each event stores a ``code`` and its ``params`` and is
rendered in the reader's language (the request's for pages and the API, the user's for
e-mail). Only a lab's own words (``params["text"]`` and the like) stay as the lab wrote them.

Each part of the house that records events keeps its codes in its own block below.
"""

from django.utils.translation import gettext_lazy as _

#: code -> sentence with ``%(name)s`` placeholders filled from the event's params.
TEXTS = {
    # --- lifecycle, dispatch, lab updates, cancellation, lab messages ---
    # --- parcels and impressions ---
    # --- goods receipt, steps and remakes ---
    "serial_corrected": _("Seriennummer %(side)s geändert: „%(old)s“ → „%(new)s“."),
}
