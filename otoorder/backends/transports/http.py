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
from urllib.parse import quote

import requests
import urllib3.exceptions
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..base import BaseBackend
from ..exceptions import ConfigurationError, DeliveryUncertain, PermanentError, TransientError
from ..labstatus import StatusTable
from ..options import Option
from ..result import CancelResult, CancelStatus, DispatchResult, MessageResult, ResultStatus

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

    def request(self, method, url, *, idempotency_key=None, headers=None, answered=(), **kwargs):
        """Send one request; return the 2xx ``Response`` or raise the classified error.

        ``answered``: further status codes that are an answer of the lab's format rather than
        an error (a cancellation refused with 409), returned like a 2xx.
        """
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
            timeout = {"code": "http_timeout", "params": {"s": _seconds(self.timeout)}, "detail": type(exc).__name__}
            if idempotency_key and not isinstance(exc, requests.ConnectTimeout):
                raise DeliveryUncertain(idempotency_key=idempotency_key, **timeout) from exc
            raise TransientError(**timeout) from exc
        except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema) as exc:
            raise ConfigurationError(code="http_invalid_url", detail=type(exc).__name__) from exc
        except requests.exceptions.SSLError as exc:
            raise TransientError(code="http_tls", detail=type(exc).__name__) from exc
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            if idempotency_key and _may_have_arrived(exc):
                raise DeliveryUncertain(
                    code="http_connection_lost",
                    idempotency_key=idempotency_key,
                    detail=type(exc).__name__,
                ) from exc
            raise TransientError(code="http_unreachable", detail=type(exc).__name__) from exc
        except requests.RequestException as exc:
            raise TransientError(code="http_unreachable", detail=type(exc).__name__) from exc
        logger.info("%s %s -> HTTP %s (%s)", method, url, response.status_code, self.key)
        if response.status_code not in answered:
            self.raise_for_status(response)
        return response

    def raise_for_status(self, response):
        code = response.status_code
        if 200 <= code < 300:
            return
        raw = response_text(response)
        common = {"response": raw, "status_code": code}
        if code >= 500 or code == 429:
            raise TransientError(code="http_server_error", params={"code": code}, **common)
        if code in (401, 403):
            raise ConfigurationError(code="http_credentials", params={"code": code}, **common)
        if 300 <= code < 400:
            raise ConfigurationError(code="http_redirect", params={"code": code}, **common)
        message = self.lab_message(response)[:LAB_MESSAGE_CHARS]
        if message:
            raise PermanentError(code="http_refused", params={"code": code, "text": message}, **common)
        raise PermanentError(code="http_refused.plain", params={"code": code}, **common)

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
            code="http_unreadable",
            params={"code": response.status_code},
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
            lab_text=lab_message[:LAB_MESSAGE_CHARS] if status == ResultStatus.REJECTED else "",
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


class LabChannelMixin:
    """Cancellation and messages over HTTP for a lab module (before ``HttpBackend`` in the bases).

    * ``POST <endpoint>/<order_path>/<cancel_path>`` with ``Idempotency-Key:
      <request.idempotency_key>``; the lab answers with its word (``cancel_answers``) and its
      reason, 202 when its answer follows (pending where it reports by itself, else manual);
    * ``POST <endpoint>/<order_path>/<message_path>`` with ``Idempotency-Key: <message id>``.

    The bodies are JSON here; a lab module overrides the ``*_payload``/``read_*`` hooks for
    its own format. Failures are classified by ``HttpBackend.request`` as for ``send``.
    """

    supports_cancellation = True
    supports_lab_messages = True

    #: Path below the endpoint of one order (``{ref}``: the lab's number, else our UUID).
    order_path = "orders/{ref}"
    #: Below ``order_path``: where a cancellation request and a message are POSTed.
    cancel_path = "cancellation"
    message_path = "messages"
    #: The lab's answer word to a cancellation → ours (``status`` in its JSON answer).
    cancel_answers = {"cancelled": CancelStatus.ACCEPTED, "refused": CancelStatus.REFUSED}
    #: Status codes that carry the lab's refusal in its format instead of an error.
    refusal_statuses = (409,)

    @property
    def has_return_channel(self):
        """The lab reports later by itself (poll, callback): a cancellation may stay pending."""
        return bool(self.supports_status_poll or self.supports_callback or self.supports_inbox)

    def order_url(self, order_id, lab_reference, *path):
        ref = quote(lab_reference or order_id, safe="")
        return self.url(self.order_path.format(ref=ref), *path)

    def json_request(self, document, lab_reference, path, fields):
        """A JSON ``HttpRequest`` to ``path`` under the order's URL at the lab."""
        body = json_bytes(fields)
        return HttpRequest(
            url=self.order_url(document.order_id, lab_reference, path),
            headers={"Content-Type": "application/json; charset=utf-8"},
            body=body,
            summary={"bytes": len(body)},
        )

    def cancellation_payload(self, request):
        """The ``HttpRequest`` of a cancellation (JSON by default; XML labs override)."""
        return self.json_request(
            request.order,
            request.lab_reference,
            self.cancel_path,
            {
                "idempotency_key": request.idempotency_key,
                "order_id": request.order.order_id,
                "order_number": request.order.order_number,
                "lab_order_number": request.lab_reference,
                "sequence": request.sequence,
                "reason": request.reason,
                "requested_at": request.requested_at.isoformat(),
            },
        )

    def read_cancel_answer(self, response):
        """``(status word, lab's words)`` of a cancellation answer with a body (JSON by default)."""
        answer = self.read_json(response)
        return str(answer.get("status") or "").strip(), _message_in(answer)

    def message_payload(self, message):
        """The ``HttpRequest`` of staff's answer to a lab question (JSON by default)."""
        return self.json_request(
            message.order,
            message.lab_reference,
            self.message_path,
            {
                "message_id": message.message_id,
                "order_id": message.order.order_id,
                "order_number": message.order.order_number,
                "lab_order_number": message.lab_reference,
                "in_reply_to": message.in_reply_to,
                "author": message.author,
                "text": message.text,
                "sent_at": message.sent_at.isoformat(),
            },
        )

    def read_message_answer(self, response):
        """The lab's id of the message from its answer (JSON ``message_id`` or ``id``), or ""."""
        if is_empty(response):
            return ""
        answer = self.read_json(response)
        return str(answer.get("message_id") or answer.get("id") or "").strip()[:100]

    def cancel(self, request):
        """POST the cancellation with its ``idempotency_key``; the lab's answer as ``CancelResult``.

        2xx (or a ``refusal_statuses`` code) with the lab's word → accepted or refused; 202 or
        an empty 2xx → pending where the lab reports later by itself, otherwise manual (staff
        ask the lab). Failures are classified exactly as for ``send``.
        """
        payload = self.cancellation_payload(request)
        response = self.request(
            payload.method,
            payload.url,
            idempotency_key=request.idempotency_key,
            headers=payload.headers,
            data=payload.body,
            answered=self.refusal_statuses,
        )
        summary = {
            "method": payload.method,
            "url": payload.url,
            "idempotency_key": request.idempotency_key,
            "status_code": response.status_code,
            **payload.summary,
        }
        raw = response_text(response)
        refusal_status = response.status_code in self.refusal_statuses
        if refusal_status and is_empty(response):
            self.raise_for_status(response)
        if not refusal_status and (response.status_code == 202 or is_empty(response)):
            if self.has_return_channel:
                return CancelResult(
                    CancelStatus.PENDING,
                    message=_("Das Labor hat die Stornierung erhalten; seine Antwort folgt."),
                    request_summary=summary,
                    raw_response=raw,
                )
            return CancelResult(
                CancelStatus.MANUAL,
                message=_("Das Labor hat die Stornierung erhalten, aber nicht beantwortet; bitte beim Labor nachfragen."),
                request_summary=summary,
                raw_response=raw,
            )
        try:
            word, lab_message = self.read_cancel_answer(response)
        except PermanentError:
            if refusal_status:
                self.raise_for_status(response)  # a plain 409 error: the lab's message, permanent
            raise
        status = self.cancel_answers.get(word.lower())
        if status == CancelStatus.ACCEPTED and refusal_status:
            status = None  # "cancelled" with a conflict status is no answer of the format
        if status is None:
            if refusal_status:
                self.raise_for_status(response)
            raise self.unreadable_answer(response, f"cancellation answer {word!r}")
        lab_message = lab_message[:LAB_MESSAGE_CHARS]
        if status == CancelStatus.ACCEPTED:
            message = _("Das Labor hat die Stornierung bestätigt.")
        elif lab_message:
            message = _("Das Labor lehnt die Stornierung ab: %(message)s") % {"message": lab_message}
        else:
            message = _("Das Labor lehnt die Stornierung ab.")
        return CancelResult(status, lab_message=lab_message, message=message, request_summary=summary, raw_response=raw)

    def send_message(self, message):
        """POST staff's answer with the message's id as ``Idempotency-Key``."""
        payload = self.message_payload(message)
        response = self.request(
            payload.method,
            payload.url,
            idempotency_key=message.message_id,
            headers=payload.headers,
            data=payload.body,
        )
        reference = self.read_message_answer(response)
        return MessageResult(
            external_reference=reference,
            message=_("Antwort an das Labor übermittelt."),
            request_summary={
                "method": payload.method,
                "url": payload.url,
                "idempotency_key": message.message_id,
                "status_code": response.status_code,
                **payload.summary,
            },
            raw_response=response_text(response),
        )


class BasicAuthHttpBackend(HttpBackend):
    """An HTTP lab that authenticates with ``BASIC_AUTH_OPTIONS``."""

    def http_auth(self):
        return (self.config["username"], self.config["password"])
