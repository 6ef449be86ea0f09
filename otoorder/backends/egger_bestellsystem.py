"""Egger Bestellsystem: egger's former web portal, with the same browser hand-off as audia's.

Legacy: egger replaced this portal by the ERP interface (``egger_erp``); AMPAREX lists it as
usable until 15.11.2019. It still works where egger keeps it running, so branch
administration shows ``notice`` as a warning and does not block it. Everything else lives in
:mod:`otoorder.backends.portal`.

Wire format: ``docs/interfaces/egger_bestellsystem.md``.
"""

from django.utils.translation import gettext_lazy

from .portal import PortalBackend


class EggerBestellsystemBackend(PortalBackend):
    key = "egger_bestellsystem"
    label = "Egger Bestellsystem"
    description = gettext_lazy(
        "Bestellung im früheren Web-Portal von egger: Die Mitarbeiter werden mit den Auftragsdaten "
        "in das Portal geleitet und schließen die Bestellung dort ab; das Portal meldet die Auftragsnummer zurück."
    )
    legacy = True
    notice = gettext_lazy(
        "Veraltete Schnittstelle: egger hat das Bestellsystem durch die ERP-Schnittstelle "
        "„Egger ERP Bestellung“ ersetzt (laut AMPAREX nutzbar bis 15.11.2019). Bestellungen werden "
        "weiter übergeben, solange egger das Portal betreibt – bitte auf „Egger ERP Bestellung“ umstellen."
    )
