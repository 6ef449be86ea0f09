"""The base of every ordering backend (the template method of django-anymail's backends).

``send(document)`` is the one public entry point and its pipeline is fixed here:
validate → build payload → transmit → parse result. A backend overrides the hooks only.
"""

import time
from dataclasses import dataclass

from django.core.exceptions import ValidationError
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
        try:
            opts, secrets = self.validate_options(options or {})
        except ValidationError as exc:
            raise ConfigurationError(
                _("Die Schnittstelle „%(label)s“ ist nicht richtig eingerichtet: %(errors)s")
                % {"label": self.label, "errors": self._format_errors(exc)}
            ) from exc
        self.config = {**opts, **secrets}
        self.timeout = timeout

    @classmethod
    def options_schema(cls):
        return OptionsSchema(cls.options)

    @classmethod
    def validate_options(cls, values, *, stored_secrets=None):
        """Each option by its schema, then the options together; ``(options, secrets)``.

        Raises ValidationError keyed by option name. Branch administration calls this when a
        definition is saved, and every send again, so a setting that became invalid later
        (a folder moved, an allow-list changed) fails the order with the reason.
        """
        options, secrets = cls.options_schema().validate(values, stored_secrets=stored_secrets)
        cls.clean_options({**options, **secrets})
        return options, secrets

    @classmethod
    def clean_options(cls, config):
        """Rules between options (raise ValidationError ``{name: message}``); none by default."""

    @classmethod
    def _format_errors(cls, exc):
        """``Label: message`` per option, as staff read it in a failure reason."""
        by_name = cls.options_schema().by_name
        if not hasattr(exc, "message_dict"):
            return " ".join(exc.messages)
        return "; ".join(
            f"{by_name[name].label if name in by_name else name}: {' '.join(messages)}"
            for name, messages in exc.message_dict.items()
        )

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
