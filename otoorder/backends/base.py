"""The base of every ordering backend (the template method of django-anymail's backends).

``send(document)`` is the one public entry point and its pipeline is fixed here:
validate → build payload → transmit → parse result. A backend overrides the hooks only.
"""

import inspect
import logging
import time
from dataclasses import dataclass, fields, replace

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .document import ItemDocument, StoredFileTooLarge
from .exceptions import BackendError, ConfigurationError, OrderRejected, TransientError
from .options import OptionsSchema
from .result import DispatchResult

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    message: str
    duration_ms: int = 0


#: The hooks of the fixed pipeline and of "Verbindung testen"; every backend overrides them.
REQUIRED_HOOKS = ("build_payload", "transmit", "parse_result", "check_connection")

#: Optional capabilities: the flag a backend declares → the hooks it then implements.
#: Callers choose by the flag (``backend.supports_status_poll``), never by ``hasattr``.
CAPABILITIES = {
    "supports_status_poll": ("poll_status",),
    "supports_callback": ("parse_callback",),
    "supports_inbox": ("read_inbox",),
    "needs_browser_handoff": ("handoff_url",),
    "accepts_scans": ("scan_files",),
    "supports_cancellation": ("cancel",),
    "supports_lab_messages": ("send_message",),
}

#: The fields of an ear's specification (``ItemDocument``).
ITEM_FIELDS = tuple(item_field.name for item_field in fields(ItemDocument))


def overrides(cls, hook):
    """Whether ``cls`` (or a base between it and ``BaseBackend``) implements ``hook``."""

    def function(owner):
        found = inspect.getattr_static(owner, hook)
        return getattr(found, "__func__", found)  # a classmethod's function

    return function(cls) is not function(BaseBackend)


def _not_implemented(cls, hook, flag=None):
    if flag:
        return NotImplementedError(
            f"{cls.__name__}.{hook}() is not implemented: {cls.__name__} declares {flag} = "
            f"{getattr(cls, flag)!r} and must implement it (docs/interfaces/README.md)."
        )
    return NotImplementedError(
        f"{cls.__name__}.{hook}() is not implemented: every backend overrides it (docs/interfaces/README.md)."
    )


class BaseBackend:
    #: Registry key, stored on interface definitions (required).
    key = ""
    #: Name shown to administrators (required; the registry's label of ``key``).
    label = ""
    description = ""
    #: Options as a tuple of ``Option``; see ``options.py``.
    options = ()
    #: A notice shown in branch administration (e.g. a legacy interface).
    notice = ""
    #: Superseded by another interface: still usable, marked in branch administration.
    legacy = False
    #: ``False``: registered, but definitions cannot be saved and ``send`` refuses.
    available = True
    #: Templates read class attributes of backends; they must never instantiate one.
    do_not_call_in_templates = True

    # --- optional capabilities (see ``CAPABILITIES``) -------------------------------------
    #: ``poll_status(external_reference)`` → ``StatusUpdate`` (the beat task asks the lab).
    supports_status_poll = False
    #: ``parse_callback(body)`` (classmethod) → reports (the signed callback endpoint).
    supports_callback = False
    #: ``read_inbox(apply=None)`` → entries applied (the beat task reads the lab's files).
    supports_inbox = False
    #: ``handoff_url(document, *, return_url, callback_url, ...)``: staff finish in a portal.
    needs_browser_handoff = False
    #: ``scan_files(document)`` → ``(name, bytes, content type)`` of the scans sent along.
    accepts_scans = False
    #: ``cancel(request)`` → ``CancelResult``: carry a ``CancellationDocument`` to the lab.
    #: Without it (print, fax, phone, portals) staff report the cancellation to the lab.
    #: Failures raise ``BackendError`` as ``send`` does (transient, permanent, ambiguous).
    supports_cancellation = False
    #: ``send_message(message)`` → ``MessageResult``: staff's answer to a lab's question
    #: (``MessageDocument``). Without it the answer goes by e-mail to the lab's address.
    supports_lab_messages = False
    #: The payload carries the order's attachments (``document.attachments``).
    accepts_attachments = False

    #: Item fields this interface cannot carry: ``validate`` refuses an ear that sets one
    #: (rather than dropping it silently). Every other field of ``ItemDocument`` is carried.
    refused_item_fields = frozenset()

    def __init__(self, options=None, *, timeout=30.0):
        try:
            opts, secrets = self.validate_options(options or {})
        except ValidationError as exc:
            raise ConfigurationError(
                code="misconfigured", params={"label": self.label, "errors": self._format_errors(exc)}
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
        return self._with_attachment_notice(self.parse_result(response, payload, document), document)

    def _with_attachment_notice(self, result, document):
        """Say in the result what an interface without attachments did not carry."""
        if not document.attachments or self.accepts_attachments:
            return result
        names = ", ".join(attachment.name for attachment in document.attachments)
        notice = _(
            "Anhänge übermittelt die Schnittstelle „%(label)s“ nicht: %(names)s – bitte dem Labor gesondert senden."
        ) % {"label": self.label, "names": names}
        return replace(
            result,
            message=f"{result.message} {notice}".strip(),
            data={**result.data, "attachments_not_sent": names},
        )

    def validate(self, document):
        """Refuse an order this backend cannot carry (raise ``OrderRejected``).

        The base refuses an order without items and an ear that sets a field of
        ``refused_item_fields``; a backend that overrides this calls ``super().validate``.
        """
        if not document.items:
            raise OrderRejected(code="no_items")
        defaults = ItemDocument(side="", side_label="")
        for item in document.items:
            refused = [
                name for name in sorted(self.refused_item_fields) if getattr(item, name) != getattr(defaults, name)
            ]
            if refused:
                raise OrderRejected(
                    code="fields_refused",
                    params={"label": self.label, "side": item.side_label or item.side, "fields": ", ".join(refused)},
                )

    def build_payload(self, document):
        """The request, message or file for ``document``; nothing is sent yet."""
        raise _not_implemented(type(self), "build_payload")

    def transmit(self, payload, document):
        """Send ``payload`` (the only hook that talks to the lab); return the lab's answer."""
        raise _not_implemented(type(self), "transmit")

    def parse_result(self, response, payload, document) -> DispatchResult:
        """The ``DispatchResult`` of the lab's answer."""
        raise _not_implemented(type(self), "parse_result")

    # --- optional capabilities: a backend declaring the flag implements the hook ----------

    @classmethod
    def capabilities(cls):
        """``{flag: bool}`` of every optional capability (the API publishes it)."""
        return {flag: bool(getattr(cls, flag)) for flag in (*CAPABILITIES, "accepts_attachments")}

    def poll_status(self, external_reference):
        raise _not_implemented(type(self), "poll_status", "supports_status_poll")

    @classmethod
    def parse_callback(cls, body):
        raise _not_implemented(cls, "parse_callback", "supports_callback")

    def read_inbox(self, apply=None):
        raise _not_implemented(type(self), "read_inbox", "supports_inbox")

    def handoff_url(self, document, *, return_url, callback_url, now=None, ttl=None):
        raise _not_implemented(type(self), "handoff_url", "needs_browser_handoff")

    def scan_files(self, document):
        raise _not_implemented(type(self), "scan_files", "accepts_scans")

    def cancel(self, request):
        raise _not_implemented(type(self), "cancel", "supports_cancellation")

    def send_message(self, message):
        raise _not_implemented(type(self), "send_message", "supports_lab_messages")

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
        raise _not_implemented(type(self), "check_connection")


def scan_content(scan):
    """The bytes of a ``ScanDocument`` (``stored_content``)."""
    return stored_content(scan, "scan_missing", scan.filename)


def attachment_content(attachment):
    """The bytes of an ``AttachmentDocument`` (``stored_content``)."""
    return stored_content(attachment, "attachment_missing", attachment.name)


def stored_content(document_file, missing_code, name):
    """The bytes of a stored scan or attachment, read from the storage of whatever host.

    A file gone from the storage (or larger than recorded at upload) refuses the order:
    ``missing_code``. A storage that does not answer or refuses the read (the object store
    down, a timeout, wrong credentials of the store) is a transient failure that the dispatch
    retries; it is not the order's fault.
    """
    try:
        return document_file.content
    except (FileNotFoundError, StoredFileTooLarge) as exc:
        logger.error("stored file %s is missing or larger than recorded (%s)", document_file.stored_name, type(exc).__name__)
        raise OrderRejected(code=missing_code, params={"name": name}) from None
    except Exception as exc:  # noqa: BLE001 - the object store's client raises its own error classes
        logger.warning("storage unreadable for %s: %s", document_file.stored_name, type(exc).__name__)
        raise TransientError(code="storage_unreachable", params={"kind": type(exc).__name__}) from None


def _elapsed_ms(started):
    return int((time.monotonic() - started) * 1000)
