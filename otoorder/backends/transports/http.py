"""The HTTP transport: one ``requests.Session`` per backend instance, and one mapping of
HTTP outcomes to our error classes.

============================  =====================  =========================================
outcome                       error                  why
============================  =====================  =========================================
connection refused, DNS, TLS  ``TransientError``     the lab may be back in a minute
connect timeout               ``TransientError``     same (the lab has nothing)
read timeout, line broken     ``DeliveryUncertain``  the lab may have the order: retried later
after the request went out                           under the same ``Idempotency-Key``
5xx, 429                      ``TransientError``     the lab's own passing fault or throttling
401, 403                      ``ConfigurationError`` wrong credentials: no retry can fix them
3xx                           ``ConfigurationError`` the endpoint URL is wrong (never followed)
other 4xx                     ``PermanentError``     the lab refused; its message is shown
============================  =====================  =========================================

Every error keeps the lab's answer (truncated) as ``response`` for the attempt log. A lab
module subclasses :class:`HttpBackend` and only builds an :class:`HttpRequest` in
``build_payload`` and reads the ``requests.Response`` in ``parse_result``.
"""

import json
import logging
from dataclasses import dataclass, field
from functools import cached_property

import requests
import urllib3.exceptions
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..base import BaseBackend
from ..exceptions import ConfigurationError, DeliveryUncertain, PermanentError, TransientError
from ..labstatus import StatusTable
from ..options import Option
from ..result import DispatchResult, ResultStatus

logger = logging.getLogger(__name__)

#: How much of a lab's answer is kept on an error or in the attempt log.
RESPONSE_KEEP_CHARS = 4000
#: How much of a lab's own error message is shown to staff.
LAB_MESSAGE_CHARS = 300
#: Keys under which labs put a readable error message in a JSON body.
MESSAGE_KEYS = ("message", "error", "detail", "fehler", "meldung", "error_description")


@dataclass(frozen=True)
class HttpRequest:
    """What a lab module wants sent; the transport adds auth, timeouts and the idempotency key."""

    url: str
    method: str = "POST"
    headers: dict = field(default_factory=dict)
    #: A finished body (JSON or XML bytes) ...
    body: bytes | None = None
    #: ... or multipart parts as ``requests`` takes them: ``[(name, (filename, bytes, type))]``.
    files: list | None = None
    #: What the attempt log shows of the request (no personal data).
    summary: dict = field(default_factory=dict)


def response_text(response, limit=RESPONSE_KEEP_CHARS):
    """The lab's answer as text for logs and errors, cut at ``limit`` characters."""
    if response is None:
        return ""
    try:
        text = response.text
    except (UnicodeDecodeError, LookupError):
        text = response.content.decode("utf-8", errors="replace")
    return text if len(text) <= limit else text[:limit] + " …"


def is_empty(response):
    return not response.content.strip()


def json_message(response):
    """The lab's readable message from a JSON error body, or ``""``."""
    try:
        body = response.json()
    except ValueError:
        return ""
    return _message_in(body)


def _message_in(body):
    if isinstance(body, str):
        return body.strip()
    if isinstance(body, dict):
        for key in MESSAGE_KEYS:
            if key in body:
                found = _message_in(body[key])
                if found:
                    return found
    if isinstance(body, list) and body:
        return "; ".join(filter(None, (_message_in(entry) for entry in body[:5])))
    return ""


def endpoint_option(label=gettext_lazy("Adresse der Schnittstelle"), help_text=""):
    """The base address every HTTP lab has (https, or http to loopback only)."""
    return Option("endpoint_url", label, kind="url", help_text=help_text)


#: User name and password of HTTP basic auth; the password is write-only.
BASIC_AUTH_OPTIONS = (
    Option("username", gettext_lazy("Benutzername")),
    Option("password", gettext_lazy("Passwort"), secret=True),
)


class HttpBackend(BaseBackend):
    """Base of the backends that talk to a lab over HTTP(S)."""

    #: Every HTTP lab has its base address under this option name.
    endpoint_option = "endpoint_url"
    #: Header that carries the order's UUID on every order request.
    idempotency_header = "Idempotency-Key"
    #: ``check_connection`` GETs this path below the endpoint; any 2xx means reachable.
    ping_path = "ping"
    #: The lab's statuses → our order statuses (one table per lab module).
    status_table = StatusTable({})

    # --- hooks of the lab modules ---------------------------------------------------------

    def http_auth(self):
        """A ``requests`` auth object (e.g. ``(username, password)`` for basic auth), or None."""
        return None

    def http_headers(self):
        """Headers sent with every request of this backend (e.g. ``Authorization``)."""
        return {}

    def lab_message(self, response):
        """The lab's readable error message in an error answer; JSON by default."""
        return json_message(response)

    # --- the transport ----------------------------------------------------------------------

    @cached_property
    def session(self):
        session = requests.Session()
        # Never take proxies or credentials from the environment: the configured lab only.
        session.trust_env = False
        session.auth = self.http_auth()
        session.headers.update({"User-Agent": f"otoorder/{self.key}", **self.http_headers()})
        return session

    def url(self, *path):
        base = self.config[self.endpoint_option].rstrip("/")
        return "/".join([base, *(part.strip("/") for part in path)])

    def request(self, method, url, *, idempotency_key=None, headers=None, **kwargs):
        """Send one request; return the 2xx ``Response`` or raise the classified error."""
        headers = dict(headers or {})
        if idempotency_key:
            headers[self.idempotency_header] = idempotency_key
        try:
            response = self.session.request(
                method,
                url,
                headers=headers,
                timeout=(self.timeout, self.timeout),
                allow_redirects=False,
                **kwargs,
            )
        except requests.Timeout as exc:
            message = _("Das Labor hat nicht rechtzeitig geantwortet (Zeitüberschreitung nach %(s)s s).") % {
                "s": _seconds(self.timeout)
            }
            if idempotency_key and not isinstance(exc, requests.ConnectTimeout):
                raise DeliveryUncertain(message, idempotency_key=idempotency_key, detail=type(exc).__name__) from exc
            raise TransientError(message, detail=type(exc).__name__) from exc
        except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema) as exc:
            raise ConfigurationError(
                _("Die Adresse der Schnittstelle ist ungültig."), detail=type(exc).__name__
            ) from exc
        except requests.exceptions.SSLError as exc:
            raise TransientError(
                _("Die sichere Verbindung (TLS) zum Labor ist fehlgeschlagen."), detail=type(exc).__name__
            ) from exc
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            if idempotency_key and _may_have_arrived(exc):
                raise DeliveryUncertain(
                    _("Die Verbindung zum Labor brach ab, bevor es antwortete."),
                    idempotency_key=idempotency_key,
                    detail=type(exc).__name__,
                ) from exc
            raise TransientError(
                _("Das Labor ist nicht erreichbar (Verbindung fehlgeschlagen)."), detail=type(exc).__name__
            ) from exc
        except requests.RequestException as exc:
            raise TransientError(
                _("Das Labor ist nicht erreichbar (Verbindung fehlgeschlagen)."), detail=type(exc).__name__
            ) from exc
        logger.info("%s %s -> HTTP %s (%s)", method, url, response.status_code, self.key)
        self.raise_for_status(response)
        return response

    def raise_for_status(self, response):
        code = response.status_code
        if 200 <= code < 300:
            return
        raw = response_text(response)
        common = {"response": raw, "status_code": code}
        if code >= 500 or code == 429:
            raise TransientError(
                _("Das Labor meldet eine vorübergehende Störung (HTTP %(code)s).") % {"code": code}, **common
            )
        if code in (401, 403):
            raise ConfigurationError(
                _("Das Labor hat die Zugangsdaten abgelehnt (HTTP %(code)s). Bitte die Zugangsdaten der Schnittstelle prüfen.")
                % {"code": code},
                **common,
            )
        if 300 <= code < 400:
            raise ConfigurationError(
                _("Das Labor leitet die Anfrage um (HTTP %(code)s). Bitte die Adresse der Schnittstelle prüfen.")
                % {"code": code},
                **common,
            )
        message = self.lab_message(response)[:LAB_MESSAGE_CHARS]
        if message:
            text = _("Das Labor hat die Anfrage abgelehnt (HTTP %(code)s): %(message)s") % {
                "code": code,
                "message": message,
            }
        else:
            text = _("Das Labor hat die Anfrage abgelehnt (HTTP %(code)s).") % {"code": code}
        raise PermanentError(text, **common)

    # --- the pipeline step ----------------------------------------------------------------

    def transmit(self, payload, document):
        """POST (or whatever the lab module chose) the payload with the order's UUID as key."""
        return self.request(
            payload.method,
            payload.url,
            idempotency_key=document.order_id,
            headers=payload.headers,
            data=payload.body,
            files=payload.files,
        )

    def request_summary(self, payload, document, response):
        """The attempt log's view of the request: addresses and sizes, never personal data."""
        return {
            "method": payload.method,
            "url": payload.url,
            "idempotency_key": document.order_id,
            "status_code": response.status_code,
            **payload.summary,
        }

    def unreadable_answer(self, response, reason=""):
        """A 2xx the lab's format does not allow: fail visibly (likely a wrong endpoint URL)."""
        return PermanentError(
            _("Das Labor hat unerwartet geantwortet (HTTP %(code)s); die Antwort ist nicht lesbar. Bitte die Adresse der Schnittstelle prüfen.")
            % {"code": response.status_code},
            detail=reason,
            response=response_text(response),
            status_code=response.status_code,
        )

    def read_json(self, response):
        """The 2xx answer's JSON object, or raise ``unreadable_answer``."""
        try:
            body = response.json()
        except ValueError as exc:
            raise self.unreadable_answer(response, "no JSON") from exc
        if not isinstance(body, dict):
            raise self.unreadable_answer(response, "JSON is not an object")
        return body


    def answer_result(self, response, payload, document, *, reference="", lab_status="", lab_message="", data=None):
        """The ``DispatchResult`` of an accepted send, through the lab's status table."""
        status = self.status_table.result_status(lab_status, has_reference=bool(reference))
        if status == ResultStatus.REJECTED:
            message = _("Das Labor hat die Bestellung abgelehnt.")
            if lab_message:
                message = _("Das Labor hat die Bestellung abgelehnt: %(message)s") % {
                    "message": lab_message[:LAB_MESSAGE_CHARS]
                }
        elif status == ResultStatus.CONFIRMED:
            message = _("Vom Labor bestätigt, Auftragsnummer des Labors: %(reference)s.") % {"reference": reference}
        else:
            message = _("Vom Labor angenommen; die Auftragsnummer des Labors folgt.")
        return DispatchResult(
            status,
            external_reference=reference,
            external_status=lab_status,
            message=message,
            request_summary=self.request_summary(payload, document, response),
            raw_response=response_text(response),
            data=data or {},
        )

    def check_connection(self):
        self.request("GET", self.url(self.ping_path))
        return _("Das Labor ist erreichbar und hat die Zugangsdaten angenommen.")


def _may_have_arrived(exc):
    """False only when no connection to the lab was made (refused, DNS, connect timeout)."""
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, urllib3.exceptions.MaxRetryError):
        reason = reason.reason
    return not isinstance(reason, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError))


def json_bytes(data):
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _seconds(value):
    return f"{value:g}"


class BasicAuthHttpBackend(HttpBackend):
    """An HTTP lab that authenticates with ``BASIC_AUTH_OPTIONS``."""

    def http_auth(self):
        return (self.config["username"], self.config["password"])
