"""A backend that is registered but not available, for the tests of that refusal.

Every interface of the seed is built now, so the refusal (definition not saved, order failed,
connection test failing, ``available: false`` in the API) is tested with this class,
registered only for the test that asks for the ``unavailable_backend`` fixture.
"""

import pytest
from django.utils.translation import gettext as _

from otoorder.backends import registry
from otoorder.backends.base import BaseBackend
from otoorder.backends.exceptions import BackendNotAvailable

KEY = "test_unavailable"


class NotYetAvailableBackend(BaseBackend):
    key = KEY
    label = "Testschnittstelle (nicht verfügbar)"
    available = False
    notice = "Diese Schnittstelle ist noch nicht verfügbar; Bestellungen werden nicht gesendet."

    def _refuse(self):
        raise BackendNotAvailable(_("Die Schnittstelle „%(label)s“ ist noch nicht verfügbar.") % {"label": self.label})

    def send(self, document):
        self._refuse()

    def check_connection(self):
        self._refuse()


@pytest.fixture
def unavailable_backend(monkeypatch):
    """Register ``NotYetAvailableBackend`` under ``KEY`` for one test; yields the key."""
    monkeypatch.setitem(registry.BACKENDS, KEY, (f"{__name__}.NotYetAvailableBackend", NotYetAvailableBackend.label))
    registry.get_backend_class.cache_clear()
    yield KEY
    registry.get_backend_class.cache_clear()
