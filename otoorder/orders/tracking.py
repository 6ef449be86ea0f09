"""Tracking links: a tracking number becomes a link to its carrier's public tracking page.

The carrier comes from the lab's report (``StatusUpdate.data["carrier"]``, kept in
``EarmouldOrder.carrier``) or else from the supplier (``Supplier.carrier``). The URL templates
are the carriers' public pages for a single parcel; the number is URL-encoded into them, so
whatever a lab reports can never break out of the link.
"""

from urllib.parse import quote

from otoorder.vocabulary import Carrier

#: One public tracking page per carrier; ``{number}`` is replaced by the URL-encoded number.
URL_TEMPLATES = {
    Carrier.DHL: "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode={number}",
    Carrier.DEUTSCHE_POST: "https://www.deutschepost.de/de/s/sendungsverfolgung/verfolgen.html?piececode={number}",
    Carrier.DPD: "https://tracking.dpd.de/status/de_DE/parcel/{number}",
    Carrier.GLS: "https://gls-group.com/DE/de/paketverfolgung?match={number}",
    Carrier.UPS: "https://www.ups.com/track?loc=de_DE&tracknum={number}",
    Carrier.HERMES: "https://www.myhermes.de/empfangen/sendungsverfolgung/sendungsinformation/#{number}",
}
#: Longer "numbers" are no tracking numbers (the model field holds 100 characters).
MAX_NUMBER_LENGTH = 100

#: Words labs use for carriers in their reports, normalised to ``Carrier`` values.
CARRIER_ALIASES = {
    "dhl": Carrier.DHL,
    "dhl paket": Carrier.DHL,
    "deutsche post": Carrier.DEUTSCHE_POST,
    "deutsche_post": Carrier.DEUTSCHE_POST,
    "deutschepost": Carrier.DEUTSCHE_POST,
    "post": Carrier.DEUTSCHE_POST,
    "dpd": Carrier.DPD,
    "gls": Carrier.GLS,
    "ups": Carrier.UPS,
    "hermes": Carrier.HERMES,
}


def normalise_carrier(value):
    """A carrier as a lab may write it ("DHL", "Deutsche Post", "dpd") → a ``Carrier`` value or ""."""
    if not isinstance(value, str):
        return ""
    return CARRIER_ALIASES.get(" ".join(value.replace("-", " ").split()).lower()[:40], "")


def tracking_url(carrier, number):
    """The carrier's tracking page for ``number``; "" without a known carrier or a number."""
    number = (number or "").strip()
    template = URL_TEMPLATES.get(carrier or "")
    if not template or not number or len(number) > MAX_NUMBER_LENGTH:
        return ""
    return template.format(number=quote(number, safe=""))
