"""The base of every ordering backend (the template method of django-anymail's backends).

``send(document)`` is the one public entry point and its pipeline is fixed here:
validate → build payload → transmit → parse result. A backend overrides the hooks only.
"""

import time
from dataclasses import dataclass

from django.utils.translation import gettext as _

from .exceptions import BackendError, ConfigurationError, OrderRejected
from .options import OptionsSchema
from .result import DispatchResult


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    message: str
    duration_ms: int = 0


class BaseBackend:
    #: Registry key, stored on interface definitions.
    key = ""
    #: Name shown to administrators.
    label = ""
    description = ""
    #: Options as a tuple of ``Option``; see ``options.py``.
    options = ()
    #: A notice shown in branch administration (e.g. a legacy interface).
    notice = ""
    #: Superseded by another interface: still usable, marked in branch administration.
    legacy = False
    #: Templates read class attributes of backends; they must never instantiate one.
    do_not_call_in_templates = True

    # Capabilities.
    supports_status_poll = False
    supports_callback = False
    needs_browser_handoff = False
    accepts_scans = False

    def __init__(self, options=None, *, timeout=30.0):
        schema = self.options_schema()
        try:
            opts, secrets = schema.validate(options or {})
        except Exception as exc:
            raise ConfigurationError(
                _("Die Schnittstelle „%(label)s“ ist unvollständig eingerichtet: %(errors)s")
                % {"label": self.label, "errors": _format_validation(exc)}
            ) from exc
        self.config = {**opts, **secrets}
        self.timeout = timeout

    @classmethod
    def options_schema(cls):
        return OptionsSchema(cls.options)

    # --- the pipeline -------------------------------------------------------------------

    def send(self, document) -> DispatchResult:
        self.validate(document)
        payload = self.build_payload(document)
        response = self.transmit(payload, document)
        return self.parse_result(response, payload, document)

    def validate(self, document):
        """Refuse an order this backend cannot carry (raise ``OrderRejected``)."""
        if not document.items:
            raise OrderRejected(_("Die Bestellung enthält keine Position."))

    def build_payload(self, document):
        raise ConfigurationError(_("Die Schnittstelle „%(label)s“ kann nicht senden.") % {"label": self.label})

    def transmit(self, payload, document):
        raise ConfigurationError(_("Die Schnittstelle „%(label)s“ kann nicht senden.") % {"label": self.label})

    def parse_result(self, response, payload, document) -> DispatchResult:
        raise ConfigurationError(_("Die Schnittstelle „%(label)s“ kann nicht senden.") % {"label": self.label})

    # --- "Verbindung testen" ------------------------------------------------------------

    def test_connection(self) -> ConnectionCheck:
        started = time.monotonic()
        try:
            message = self.check_connection()
        except BackendError as exc:
            return ConnectionCheck(False, exc.message, _elapsed_ms(started))
        return ConnectionCheck(True, message or _("Verbindung erfolgreich."), _elapsed_ms(started))

    def check_connection(self):
        """Reach the lab without ordering; return a message or raise ``BackendError``."""
        raise ConfigurationError(_("Für diese Schnittstelle gibt es keinen Verbindungstest."))


def _elapsed_ms(started):
    return int((time.monotonic() - started) * 1000)


def _format_validation(exc):
    if hasattr(exc, "message_dict"):
        return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in exc.message_dict.items())
    return str(exc)
