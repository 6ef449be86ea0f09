"""One error root for every backend (after django-anymail's AnymailError).

``permanent`` decides what the dispatcher does: a transient error (timeout, connection
refused, 5xx) is retried with backoff; a permanent one (4xx, validation, bad credentials)
fails the order visibly with ``message`` as the reason staff read. Configuration errors are
their own class: the interface definition is wrong, and no retry can fix that.

An error of ours carries a ``code`` and its ``params`` (``ERRORS``): the attempt log and the
order's events store them and render the sentence in the reader's language
(``render_error``); ``message`` is the sentence in the active language (German in the worker),
for the log and for a page that shows the error at once (e.g. "Verbindung testen"). An error without a code
carries the lab's own words (or a text from outside, e.g. a validation message), shown as is.
"""

from django.utils import translation
from django.utils.translation import gettext_lazy as _

#: code -> sentence of an error of ours (``%(name)s`` filled from the error's params).
ERRORS = {
    "unexpected": _("Unerwarteter Fehler beim Senden (%(kind)s)."),
    "interrupted": _("Der Versand wurde unterbrochen (Worker nicht mehr erreichbar), bevor das Labor antwortete."),
    "programming_error": _("Programmfehler in der Schnittstelle (%(kind)s); bitte den Betreiber informieren."),
    "unknown_backend": _("Unbekannte Schnittstelle „%(key)s“."),
    "misconfigured": _("Die Schnittstelle „%(label)s“ ist nicht richtig eingerichtet: %(errors)s"),
    "no_items": _("Die Bestellung enthält keine Position."),
    "fields_refused": _("Die Schnittstelle „%(label)s“ kann diese Angaben nicht übermitteln (%(side)s): %(fields)s."),
    "scan_missing": _("Die Scan-Datei %(name)s fehlt im Speicher; bitte den Scan erneut hochladen."),
    "attachment_missing": _("Der Anhang %(name)s fehlt im Speicher; bitte die Datei erneut anhängen."),
    "storage_unreachable": _("Der Dateispeicher ist nicht erreichbar (%(kind)s)."),
    "invalid_order_id": _("Die Bestellung hat keine gültige Kennung (UUID)."),
    "invalid_cancellation_id": _("Die Stornierung hat keine gültige Kennung."),
    "invalid_message_id": _("Die Nachricht hat keine gültige Kennung (UUID)."),
    "opentrans_schema_missing": _("Das openTRANS-Schema unter %(path)s kann nicht geladen werden."),
    "opentrans_change_invalid": _("Das openTRANS-Dokument entspricht nicht dem Schema: %(error)s"),
    "opentrans_order_invalid": _("Die Bestellung entspricht nicht dem openTRANS-Schema: %(error)s"),
    "supplier_without_email": _("Der Lieferant „%(name)s“ hat keine Bestell-E-Mail-Adresse."),
    "supplier_by_interface": _(
        "Der Lieferant „%(name)s“ bestellt per Schnittstelle; der Standard-Bestellprozess kann ihn nicht bedienen."
    ),
    "supplier_without_email_answer": _(
        "Der Lieferant „%(name)s“ hat keine E-Mail-Adresse: bitte die Antwort telefonisch oder per Fax geben."
    ),
    "smtp_uncertain": _(
        "Die Verbindung zum E-Mail-Server brach nach dem Senden der Bestellung ab, bevor er sie "
        "bestätigte (%(kind)s)."
    ),
    "smtp_auth": _("Der E-Mail-Server hat die Anmeldung abgelehnt."),
    "smtp_recipient_refused": _("Der E-Mail-Server hat die Empfängeradresse %(to)s abgelehnt."),
    "smtp_busy": _("Der E-Mail-Server nimmt die Nachricht gerade nicht an."),
    "smtp_refused": _("Der E-Mail-Server hat %(what)s abgelehnt (%(code)s)."),
    "smtp_not_ready": _("Der E-Mail-Server ist vorübergehend nicht bereit (%(code)s)."),
    "smtp_unreachable": _("Der E-Mail-Server ist nicht erreichbar (%(kind)s)."),
    "smtp_not_sent": _("Die E-Mail wurde nicht versendet."),
    "lab_email_failed": _("Die E-Mail an das Labor konnte nicht gesendet werden (%(kind)s)."),
    "http_timeout": _("Das Labor hat nicht rechtzeitig geantwortet (Zeitüberschreitung nach %(s)s s)."),
    "http_invalid_url": _("Die Adresse der Schnittstelle ist ungültig."),
    "http_tls": _("Die sichere Verbindung (TLS) zum Labor ist fehlgeschlagen."),
    "http_connection_lost": _("Die Verbindung zum Labor brach ab, bevor es antwortete."),
    "http_unreachable": _("Das Labor ist nicht erreichbar (Verbindung fehlgeschlagen)."),
    "http_server_error": _("Das Labor meldet eine vorübergehende Störung (HTTP %(code)s)."),
    "http_credentials": _(
        "Das Labor hat die Zugangsdaten abgelehnt (HTTP %(code)s). Bitte die Zugangsdaten der Schnittstelle prüfen."
    ),
    "http_redirect": _("Das Labor leitet die Anfrage um (HTTP %(code)s). Bitte die Adresse der Schnittstelle prüfen."),
    "http_refused": _("Das Labor hat die Anfrage abgelehnt (HTTP %(code)s): %(text)s"),
    "http_refused.plain": _("Das Labor hat die Anfrage abgelehnt (HTTP %(code)s)."),
    "http_unreadable": _(
        "Das Labor hat unerwartet geantwortet (HTTP %(code)s); die Antwort ist nicht lesbar. "
        "Bitte die Adresse der Schnittstelle prüfen."
    ),
    "folder_create_failed": _("Der Ordner %(path)s kann nicht angelegt werden: %(error)s"),
    "folder_missing": _("Den Ordner %(path)s gibt es nicht."),
    "folder_not_writable": _("In den Ordner %(path)s kann nicht geschrieben werden."),
    "file_write_failed": _("Die Datei %(name)s konnte nicht geschrieben werden: %(error)s"),
    "sftp_host_key": _(
        "Der SFTP-Server %(address)s weist sich mit einem anderen Schlüssel aus als dem "
        "eingetragenen. Aus Sicherheitsgründen wird keine Verbindung aufgebaut; bitte den "
        "Serverschlüssel beim Labor erfragen und prüfen."
    ),
    "sftp_auth": _("Der SFTP-Server %(address)s hat die Anmeldung abgelehnt: Benutzername oder Passwort sind falsch."),
    "sftp_timeout": _("Der SFTP-Server %(address)s antwortet nicht (Zeitüberschreitung)."),
    "sftp_unreachable": _("Der SFTP-Server %(address)s ist nicht erreichbar: %(error)s"),
    "sftp_folder_missing": _("Den Ordner %(path)s gibt es auf dem SFTP-Server %(address)s nicht."),
    "sftp_folder_denied": _("Keine Berechtigung für den Ordner %(path)s auf dem SFTP-Server %(address)s."),
    "sftp_folder_error": _("Fehler im Ordner %(path)s auf dem SFTP-Server %(address)s: %(error)s"),
    "sftp_connection_lost": _("Die Verbindung zum SFTP-Server %(address)s ist abgebrochen: %(error)s"),
    "sftp_not_a_folder": _("%(path)s auf dem SFTP-Server %(address)s ist kein Ordner."),
    "program_start_failed": _("Das Programm %(path)s konnte nicht gestartet werden: %(error)s"),
    "program_timeout": _("Zeitlimit von %(seconds)s s überschritten; das Programm wurde beendet."),
    "portal_without_secret": _("Für das Portal ist kein gemeinsames Geheimnis hinterlegt."),
}


class _Words(dict):
    def __missing__(self, key):
        return "–"


def render_error(code, params=None, *, fallback="", language=None):
    """An error's sentence in the active language (or ``language``); ``fallback`` (the stored
    text) without a known code."""
    if not code or code not in ERRORS:
        return fallback
    if language:
        with translation.override(language):
            return render_error(code, params, fallback=fallback)
    return str(ERRORS[code]) % _Words(params if isinstance(params, dict) else {})


class BackendError(Exception):
    permanent = False
    #: The lab may have the order although we saw no answer (see ``DeliveryUncertain``).
    ambiguous = False

    def __init__(self, message="", *, code="", params=None, permanent=None, detail="", response=None, status_code=None):
        self.code = code
        self.params = {key: value if isinstance(value, int | float) else str(value) for key, value in (params or {}).items()}
        if code:
            message = render_error(code, self.params, fallback=message)
        super().__init__(message)
        self.message = str(message)
        if permanent is not None:
            self.permanent = permanent
        self.detail = detail
        self.response = response
        self.status_code = status_code

    def __str__(self):
        return self.message

    def as_data(self):
        """What the attempt log and events keep: the code, its params and the German text."""
        return {"code": self.code, "params": self.params, "text": self.message}


class TransientError(BackendError):
    """The lab could not be reached or had a passing fault: try again later."""

    permanent = False


class DeliveryUncertain(TransientError):
    """The order went out, but the lab's answer never came: it may already have the order.

    Raised only after the point where the lab could have taken the order (the e-mail's DATA,
    an HTTP request sent whose answer was lost). It is never repeated within the attempt;
    the dispatcher records the attempt as "möglicherweise bereits zugestellt" and sends the
    repeat later under the same ``idempotency_key`` so that the lab can drop the copy.
    """

    ambiguous = True

    def __init__(self, message="", *, idempotency_key="", **kwargs):
        super().__init__(message, **kwargs)
        self.idempotency_key = idempotency_key


class PermanentError(BackendError):
    """The lab refused the order: retrying the same order would not help."""

    permanent = True


class OrderRejected(PermanentError):
    """The order itself is not acceptable for this backend (missing or invalid data)."""


class ConfigurationError(BackendError):
    """The interface definition is wrong (missing option, bad URL, unknown backend)."""

    permanent = True


class BackendNotAvailable(ConfigurationError):
    """The backend's key is registered, but the interface is not available yet."""
