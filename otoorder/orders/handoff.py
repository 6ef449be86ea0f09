"""The browser hand-off of an order that waits for a lab's portal ("Im Portal fortsetzen").

Each press builds a fresh signed link (``PortalBackend.handoff_url``), so an old link that
expired in a browser history never opens the order again.
"""

from django.urls import reverse
from django.utils.translation import gettext as _

from otoorder.backends import registry
from otoorder.backends.exceptions import ConfigurationError

from .choices import OrderStatus
from .documents import build_document

#: The callback endpoint of an interface definition (issue [2]; ``docs/interfaces/callbacks.md``).
CALLBACK_PATH = "/api/v1/callbacks/{definition_id}/"


class HandoffRefused(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = str(message)


def portal_backend(order):
    """The configured portal backend of ``order``, or ``HandoffRefused`` saying why not."""
    if order.status != OrderStatus.AWAITING_PORTAL:
        raise HandoffRefused(_("Diese Bestellung wartet nicht auf den Abschluss im Portal."))
    definition = order.interface_definition
    try:
        backend_class = registry.get_backend_class(order.backend)
        if definition is None or not backend_class.needs_browser_handoff:
            raise HandoffRefused(_("Diese Bestellung wird nicht über ein Portal abgeschlossen."))
        return backend_class(definition.configured_options())
    except ConfigurationError as exc:
        raise HandoffRefused(exc.message) from exc


def handoff_url(order, *, absolute_uri):
    """The signed portal address for ``order``; ``absolute_uri(path)`` makes our URLs absolute."""
    backend = portal_backend(order)
    try:
        return backend.handoff_url(
            build_document(order),
            return_url=absolute_uri(reverse("orders:order_detail", args=[order.pk])),
            callback_url=absolute_uri(CALLBACK_PATH.format(definition_id=order.interface_definition_id)),
        )
    except ConfigurationError as exc:
        raise HandoffRefused(exc.message) from exc
