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
    "impression_parcel_sent": _(
        "Abdruck unterwegs zu %(supplier)s im Sammelversand: %(carrier)s, Sendungsnummer %(tracking_number)s."
    ),
    "impression_received_right": _("Das Labor hat den Abdruck des rechten Ohrs erhalten."),
    "impression_received_left": _("Das Labor hat den Abdruck des linken Ohrs erhalten."),
    "parcel_closed_by_staff": _("Sammelversand %(tracking_number)s von Hand abgeschlossen."),
    "parcel_closed_received": _("Sammelversand %(tracking_number)s abgeschlossen: das Labor hat alle Abdrücke erhalten."),
    # --- goods receipt, steps and remakes ---
    "serial_corrected": _("Seriennummer %(side)s geändert: „%(old)s“ → „%(new)s“."),
}
