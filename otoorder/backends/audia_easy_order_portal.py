"""Audia Easy Order Web-Portal: staff finish the order in audia's portal in the browser.

otoorder hands the order over with a signed, expiring link (order context and return
address); audia's portal calls back with its order number and the earmould properties as
audia confirms them ("Bestelldaten"), which otoorder stores with the order. Everything
shared with the egger portal lives in :mod:`otoorder.backends.portal`.

Wire format: ``docs/interfaces/audia_easy_order_portal.md``.
"""

from django.utils.translation import gettext_lazy

from .portal import PortalBackend


class AudiaEasyOrderPortalBackend(PortalBackend):
    key = "audia_easy_order_portal"
    label = "Audia Easy Order Web-Portal"
    description = gettext_lazy(
        "Bestellung im Web-Portal von audia Easy Order: Die Mitarbeiter werden mit den Auftragsdaten "
        "in das Portal geleitet und schließen die Bestellung dort ab; das Portal meldet Auftragsnummer "
        "und Bestelldaten der Otoplastik zurück."
    )
