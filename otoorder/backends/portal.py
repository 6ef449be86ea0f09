"""Browser portals of labs: the order is finished by staff in the lab's web portal.

* send: nothing goes over the network; the order becomes *awaiting_portal*;
* hand-off: staff press "Im Portal fortsetzen" and are redirected to ``portal_url`` with the
  order context in the query, signed with the definition's ``shared_secret`` and valid for
  ``ttl`` seconds (:meth:`PortalBackend.handoff_url`; a portal checks it with
  :func:`verify_handoff` or the recipe in the docs);
* back: the portal POSTs a signed JSON callback to ``/api/v1/callbacks/<definition id>/``
  with its order number, status and the confirmed earmould properties
  (:meth:`PortalBackend.parse_callback`), and sends staff back to ``return_url``.

Wire format: ``docs/interfaces/audia_easy_order_portal.md`` (the egger portal is the same).
"""

import hmac
import time
import uuid
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import signing, strictjson
from .base import ITEM_FIELDS as ITEM_FIELD_NAMES
from .exceptions import ConfigurationError
from .labstatus import StatusTable, StatusUpdate
from .options import Option
from .result import DispatchResult, ResultStatus
from .signing import SignatureError
from .transports.http import LAB_MESSAGE_CHARS, HttpBackend

#: Version of the hand-off query; a portal refuses versions it does not know.
HANDOFF_VERSION = "1"
#: Default validity of a hand-off link (seconds).
HANDOFF_TTL_SECONDS = 900
#: Name of the signature parameter; every other parameter is signed.
SIGNATURE_PARAMETER = "sig"
#: Item fields sent per ear as ``<side>_<field>``: every field of the specification, our
#: canonical codes (a portal shows its own texts; the German ``*_label`` fields stay home).
ITEM_FIELDS = tuple(
    name for name in ITEM_FIELD_NAMES if name not in ("side", "lab_codes") and not name.endswith("_label")
)
#: The lab's own code of a value travels as ``<side>_<field>_code`` (from its catalogue).
CODE_SUFFIX = "_code"
SIDES = ("right", "left")

#: The portals' status words → our order statuses (the one table of both portals).
STATUS_TABLE = StatusTable(
    {
        "ordered": "ordered",
        "confirmed": "confirmed",
        "in_production": "in_production",
        "shipped": "shipped",
        "rejected": "rejected_by_lab",
    }
)


class PortalUrlOption(Option):
    """A lab URL without query or fragment: the hand-off query is ours alone, all of it signed."""

    def clean(self, value):
        value = super().clean(value)
        parts = urlsplit(value)
        if parts.query or parts.fragment:
            raise ValidationError(
                gettext_lazy("Die Adresse des Portals darf keine Parameter (?…) oder Anker (#…) enthalten."),
                code="portal_query",
            )
        return value


PORTAL_OPTIONS = (
    PortalUrlOption(
        "portal_url",
        gettext_lazy("Adresse des Portals"),
        kind="url",
        help_text=gettext_lazy("Einstiegsseite der Portal-Übergabe, z. B. https://portal.labor.example/otoorder"),
    ),
    Option(
        "shared_secret",
        gettext_lazy("Gemeinsames Geheimnis"),
        secret=True,
        help_text=gettext_lazy(
            "Damit signiert otoorder die Übergabe an das Portal und das Portal seine Rückmeldungen an otoorder."
        ),
    ),
)


# --- the hand-off query -------------------------------------------------------------------


def canonical_query(params):
    """``name=value`` pairs sorted by name, RFC 3986 percent-encoded (UTF-8), joined by ``&``."""
    return urlencode(sorted(params.items()), quote_via=quote, safe="")


def handoff_signature(secret, expires, canonical):
    """HMAC-SHA256 hex of ``f"{expires}.{canonical}"`` (``signing.digest``)."""
    return signing.digest(secret, expires, canonical.encode("ascii"))


def ordered_sides(document):
    """The ears of the order, right before left (the same order in every hand-off)."""
    return [side for side in SIDES if side in document.sides]


def order_params(document):
    """The order context a portal receives (without the addresses and expiry of one link)."""
    params = {
        "version": HANDOFF_VERSION,
        "order_id": document.order_id,
        "order_number": document.order_number,
        "order_type": document.order_type,
        "priority": document.priority,
        "date_required": document.date_required.isoformat() if document.date_required else "",
        "account": document.supplier_account,
        "branch": document.branch.name,
        "customer_reference": document.customer_reference,
        "prescriber": document.prescriber,
        "original_order_number": document.original_order_number,
        "original_lab_order_number": document.original_lab_reference,
        "reason": document.reason,
        "reason_code": document.reason_code,
        "reason_category": document.reason_category,
        **complaint_params(document.complaint),
        "notes": document.notes,
        "sides": ",".join(ordered_sides(document)),
    }
    for item in document.items:
        for name in ITEM_FIELDS:
            params[f"{item.side}_{name}"] = _param_value(getattr(item, name))
        for name, code in item.lab_codes.items():
            params[f"{item.side}_{name}{CODE_SUFFIX}"] = _param_value(code)
    return {name: value for name, value in params.items() if value != ""}


def complaint_params(complaint):
    """The complaint of a remake as ``complaint_*`` parameters (none for other orders)."""
    if complaint is None:
        return {}
    return {
        "complaint_sides": ",".join(complaint.sides),
        "complaint_reason": complaint.reason_label,
        "complaint_description": complaint.description,
        "complaint_return_old_mould": _param_value(complaint.return_old_mould),
        "complaint_free_remake": "true" if complaint.free_remake else "false",
        "complaint_free_remake_until": complaint.free_remake_until.isoformat() if complaint.free_remake_until else "",
    }


def _param_value(value):
    if isinstance(value, bool):
        return "true" if value else ""  # a yes/no field is sent only when set
    return "" if value is None else str(value)


def handoff_params(document, *, return_url, callback_url, expires):
    """The whole signed query of one hand-off link; empty values are left out."""
    params = order_params(document)
    params.update({"return_url": return_url, "callback_url": callback_url, "expires": str(expires)})
    return {name: value for name, value in params.items() if value != ""}


def verify_handoff(secret, query, *, now=None):
    """Check a hand-off query as a portal would; returns its parameters or raises ``SignatureError``.

    ``query`` is the raw query string (without ``?``). Repeated parameters, a missing or wrong
    signature and an expired link are refused.
    """
    if not secret:
        raise SignatureError("Für diese Schnittstelle ist kein gemeinsames Geheimnis hinterlegt.")
    pairs = parse_qsl(query, keep_blank_values=True)
    params = dict(pairs)
    if len(params) != len(pairs):
        raise SignatureError("Ein Parameter der Übergabe kommt mehrfach vor.")
    received = params.pop(SIGNATURE_PARAMETER, "")
    try:
        expires = int(params["expires"])
    except (KeyError, ValueError):
        raise SignatureError("Die Übergabe hat keine gültige Ablaufzeit.") from None
    if not hmac.compare_digest(handoff_signature(secret, expires, canonical_query(params)), received):
        raise SignatureError("Die Signatur der Übergabe ist falsch.")
    if (time.time() if now is None else now) > expires:
        raise SignatureError("Die Übergabe ist abgelaufen.")
    return params


# --- the portal's callback ----------------------------------------------------------------


def _optional_text(data, name):
    value = data.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"'{name}' must be a string")
    return value.strip()


def _properties(data):
    """``{"right": {...}, "left": {...}}`` with scalar values, or ValueError."""
    properties = data.get("properties") or {}
    if not isinstance(properties, dict):
        raise ValueError("'properties' must be an object")
    for side, values in properties.items():
        if side not in SIDES:
            raise ValueError(f"'properties' has unknown side {side!r}")
        if not isinstance(values, dict) or not all(
            isinstance(value, (str, int, float, bool)) or value is None for value in values.values()
        ):
            raise ValueError(f"'properties.{side}' must be an object of plain values")
    return properties


class PortalBackend(HttpBackend):
    """Base of the browser-portal interfaces; a lab module sets ``key``, ``label`` and texts."""

    options = PORTAL_OPTIONS
    endpoint_option = "portal_url"
    status_table = STATUS_TABLE
    needs_browser_handoff = True
    supports_callback = True
    #: A portal the lab replaced; branch administration shows ``notice`` as a warning.
    legacy = False

    # --- send: the same pipeline, nothing goes over the network -------------------------

    def build_payload(self, document):
        """The order context the hand-off link will carry (``order_params``)."""
        return order_params(document)

    def transmit(self, payload, document):
        """Nothing to transmit: staff open the portal with the signed link later."""
        return None

    def parse_result(self, response, payload, document):
        portal = urlsplit(self.config["portal_url"])
        return DispatchResult(
            ResultStatus.AWAITING_PORTAL,
            message=_("Bitte die Bestellung im Portal „%(label)s“ abschließen: „Im Portal fortsetzen“ wählen.")
            % {"label": self.label},
            request_summary={
                "transport": "browser hand-off",
                "portal": f"{portal.scheme}://{portal.netloc}{portal.path}",
                "order_number": document.order_number,
                "items": len(document.items),
                "sides": ordered_sides(document),
            },
        )

    # --- the hand-off -------------------------------------------------------------------------

    def handoff_url(self, document, *, return_url, callback_url, now=None, ttl=HANDOFF_TTL_SECONDS):
        """The signed, expiring address that opens this order in the portal."""
        secret = self.config.get("shared_secret")
        if not secret:
            raise ConfigurationError(code="portal_without_secret")
        expires = int(time.time() if now is None else now) + int(ttl)
        canonical = canonical_query(
            handoff_params(document, return_url=return_url, callback_url=callback_url, expires=expires)
        )
        signature = handoff_signature(secret, expires, canonical)
        return f"{self.config['portal_url']}?{canonical}&{SIGNATURE_PARAMETER}={signature}"

    # --- the portal's callback ----------------------------------------------------------------

    @classmethod
    def parse_callback(cls, body):
        """The portal's JSON report as ``[{"order_id": <uuid>, "update": StatusUpdate}]``.

        Raises ``ValueError`` for anything but the documented object.
        """
        raw = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
        try:
            data = strictjson.loads(body)
        except ValueError as exc:  # also UnicodeDecodeError
            raise ValueError(f"the callback body is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise ValueError("the callback body is not a JSON object")
        order_id = data.get("order_id")
        try:
            order_id = str(uuid.UUID(order_id))
        except (TypeError, ValueError, AttributeError):
            raise ValueError("'order_id' must be the order's UUID") from None
        lab_status = _optional_text(data, "status")
        status = cls.status_table.normalise(lab_status)
        if status is None:
            raise ValueError(f"unknown or missing 'status' {lab_status!r}")
        reference = _optional_text(data, "order_number")
        if status == "confirmed" and not reference:
            raise ValueError("'order_number' is required with status 'confirmed'")
        tracking = _optional_text(data, "tracking_number")
        properties = _properties(data)
        update = StatusUpdate(
            status=status,
            external_status=lab_status,
            external_reference=reference,
            tracking_number=tracking,
            message=cls.callback_message(status, reference, tracking, _optional_text(data, "message")),
            # The portal's own words, shown as written with the event in the reader's language.
            lab_text=_optional_text(data, "message")[:LAB_MESSAGE_CHARS],
            raw_response=raw,
            data={"properties": properties} if properties else {},
        )
        return [{"order_id": order_id, "update": update}]

    @classmethod
    def callback_message(cls, status, reference, tracking, lab_message):
        """The event text staff read for a portal report (German)."""
        texts = {
            "ordered": _("Im Portal bestellt."),
            "confirmed": _("Im Portal bestätigt."),
            "in_production": _("Laut Portal in Fertigung."),
            "shipped": _("Laut Portal versandt."),
            "rejected_by_lab": _("Im Portal abgelehnt."),
        }
        parts = [f"{cls.label}: {texts[status]}"]
        if reference:
            parts.append(_("Auftragsnummer des Labors: %(reference)s.") % {"reference": reference})
        if tracking:
            parts.append(_("Sendungsnummer: %(tracking)s.") % {"tracking": tracking})
        if lab_message:
            parts.append(_("Meldung des Labors: %(message)s") % {"message": lab_message[:LAB_MESSAGE_CHARS]})
        return " ".join(parts)

    # --- "Verbindung testen" ------------------------------------------------------------------

    def check_connection(self):
        """GET the portal's address: any 2xx or redirect (e.g. to its login) means reachable."""
        try:
            response = self.request("GET", self.config["portal_url"])
        except ConfigurationError as exc:
            if exc.status_code and 300 <= exc.status_code < 400:
                return _("Das Portal ist erreichbar (HTTP %(code)s, Weiterleitung).") % {"code": exc.status_code}
            raise
        return _("Das Portal ist erreichbar (HTTP %(code)s).") % {"code": response.status_code}
