"""Interfaces of the seed whose transports are not built yet.

Their keys are registered so that administrators see the whole list, but each refuses
clearly — when the definition is saved and when an order would be sent — instead of
pretending success.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .base import BaseBackend
from .exceptions import BackendNotAvailable


class UnavailableBackend(BaseBackend):
    available = False
    notice = gettext_lazy("Diese Schnittstelle ist noch nicht verfügbar; Bestellungen werden nicht gesendet.")

    def __init__(self, options=None, *, timeout=30.0):
        self.config = dict(options or {})
        self.timeout = timeout

    def _refuse(self):
        raise BackendNotAvailable(
            _("Die Schnittstelle „%(label)s“ ist noch nicht verfügbar.") % {"label": self.label}
        )

    def send(self, document):
        self._refuse()

    def check_connection(self):
        self._refuse()


class AudiaEasyOrderPortalBackend(UnavailableBackend):
    key = "audia_easy_order_portal"
    label = "Audia Easy Order Web-Portal"


class EggerBestellsystemBackend(UnavailableBackend):
    key = "egger_bestellsystem"
    label = "Egger Bestellsystem"
