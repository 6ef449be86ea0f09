"""Dreve SmartOrder: the order as JSON over HTTPS, API key, status by polling.

* ``POST <endpoint_url>/orders`` with ``Authorization: Bearer <api_key>`` and
  ``Idempotency-Key: <order uuid>``; an empty 2xx means *ordered*, a 2xx with
  ``{"order_number": …, "status": …}`` means *confirmed*;
* ``GET <endpoint_url>/orders/<order_number>`` reports the lab's status, normalised
  through ``STATUS_TABLE``: ``on_hold`` with the lab's ``question`` (Rückfrage),
  ``cancelled``, and ``cancellation: refused`` with ``cancellation_message``; and
  ``impressions_received`` (the ears whose physical impression reached the lab);
* ``POST <endpoint_url>/orders/<ref>/cancellation`` (Idempotency-Key: the cancellation's
  key) → ``{"status": "cancelled"}``, ``{"status": "refused", "message": …}`` or 202 (the
  answer follows in the status poll);
* ``POST <endpoint_url>/orders/<ref>/messages`` (Idempotency-Key: the message's id): staff's
  answer to a question;
* ``GET <endpoint_url>/ping`` for "Verbindung testen".

Wire format: ``docs/interfaces/dreve_smartorder.md``.
"""

from dataclasses import asdict
from urllib.parse import quote

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .labstatus import CANCELLATION_ACCEPTED, CANCELLATION_REFUSED, ComplaintDecision, StatusTable, StatusUpdate
from .options import Option
from .transports.http import (
    LAB_MESSAGE_CHARS,
    HttpBackend,
    HttpRequest,
    LabChannelMixin,
    endpoint_option,
    json_bytes,
    response_text,
)

FORMAT_VERSION = "1"

#: Dreve's statuses → our order statuses; the one place that says what Dreve means.
STATUS_TABLE = StatusTable(
    {
        "pending": "ordered",
        "received": "confirmed",
        "accepted": "confirmed",
        "in_production": "in_production",
        "shipped": "shipped",
        "rejected": "rejected_by_lab",
        "on_hold": "on_hold",
        "cancelled": "cancelled",
    }
)
#: How much of a lab's question or reason is kept (the order's message thread shows it).
LAB_TEXT_CHARS = 2000


def order_body(document):
    """The JSON object Dreve receives (every field of the document except the supplier)."""
    return {
        "format_version": FORMAT_VERSION,
        "order_id": document.order_id,
        "order_number": document.order_number,
        "order_type": document.order_type,
        "priority": document.priority,
        "created_at": document.created_at.isoformat(),
        "date_required": document.date_required.isoformat() if document.date_required else None,
        "account_number": document.supplier_account,
        "customer_reference": document.customer_reference,
        "prescriber": document.prescriber,
        "notes": document.notes,
        "original_order_number": document.original_order_number,
        "original_lab_order_number": document.original_lab_reference,
        "reason": document.reason,
        "reason_code": document.reason_code,
        "reason_category": document.reason_category,
        "complaint": document.complaint.as_dict() if document.complaint else None,
        "branch": {
            "name": document.branch.name,
            "address_lines": list(document.branch.address_lines),
            "email": document.branch.email,
            "phone": document.branch.phone,
        },
        "items": [asdict(item) for item in document.items],
    }


class DreveSmartOrderBackend(LabChannelMixin, HttpBackend):
    key = "dreve_smartorder"
    label = "Dreve SmartOrder"
    description = gettext_lazy(
        "Bestellung über die SmartOrder-Schnittstelle von Dreve (JSON über HTTPS); "
        "der Fertigungsstand wird beim Labor abgefragt."
    )
    options = (
        endpoint_option(help_text=gettext_lazy("Basisadresse von SmartOrder, z. B. https://smartorder.dreve.example/api/v1")),
        Option("api_key", gettext_lazy("API-Schlüssel"), secret=True),
    )
    supports_status_poll = True
    status_table = STATUS_TABLE

    def http_headers(self):
        return {"Authorization": f"Bearer {self.config['api_key']}", "Accept": "application/json"}

    def build_payload(self, document):
        body = json_bytes(order_body(document))
        return HttpRequest(
            url=self.url("orders"),
            headers={"Content-Type": "application/json; charset=utf-8"},
            body=body,
            summary={"bytes": len(body), "items": len(document.items)},
        )

    def parse_result(self, response, payload, document):
        if response.content.strip():
            answer = self.read_json(response)
            reference = str(answer.get("order_number") or "").strip()
            lab_status = str(answer.get("status") or "").strip()
            lab_message = str(answer.get("message") or "").strip()
        else:
            reference = lab_status = lab_message = ""
        return self.answer_result(
            response, payload, document, reference=reference, lab_status=lab_status, lab_message=lab_message
        )

    def poll_status(self, external_reference):
        """The lab's current status of one order (our ``external_reference``), normalised."""
        response = self.request("GET", self.url("orders", quote(external_reference, safe="")))
        answer = self.read_json(response)
        lab_status = str(answer.get("status") or "").strip()
        tracking = str(answer.get("tracking_number") or "").strip()
        status = STATUS_TABLE.normalise(lab_status)
        lab_text, lab_message_id, cancellation = "", "", ""
        if status == "on_hold":
            lab_text = _text(answer.get("question"), LAB_TEXT_CHARS)
            lab_message_id = _text(answer.get("question_id"), 100)
        elif status == "cancelled":
            cancellation = CANCELLATION_ACCEPTED
            lab_text = _text(answer.get("cancellation_message"), LAB_TEXT_CHARS)
        elif _text(answer.get("cancellation"), 20).lower() == CANCELLATION_REFUSED:
            cancellation = CANCELLATION_REFUSED
            lab_text = _text(answer.get("cancellation_message") or answer.get("message"), LAB_TEXT_CHARS)
        message = _status_message(status, lab_status, tracking, _text(answer.get("message"), LAB_MESSAGE_CHARS))
        if cancellation == CANCELLATION_REFUSED:
            refusal = _("Das Labor lehnt die Stornierung ab.")
            if lab_text:
                refusal = _("Das Labor lehnt die Stornierung ab: %(message)s") % {"message": lab_text[:LAB_MESSAGE_CHARS]}
            message = f"{refusal} {message}"
        return StatusUpdate(
            status=status,
            external_status=lab_status,
            external_reference=str(answer.get("order_number") or external_reference),
            tracking_number=tracking,
            message=message,
            raw_response=response_text(response),
            data={"carrier": answer["carrier"]} if answer.get("carrier") else {},
            cancellation=cancellation,
            lab_text=lab_text,
            lab_message_id=lab_message_id,
            impressions_received=_sides(answer.get("impressions_received")),
            complaint_decision=_decision(answer.get("complaint_decision")),
        )


def _decision(value):
    """``complaint_decision`` of a remake: ``{"outcome", "amount", "message"}`` (amount in EUR)."""
    if not isinstance(value, dict):
        return None
    return ComplaintDecision.read(value.get("outcome"), value.get("amount"), value.get("message"))


def _sides(value):
    """The ears of ``impressions_received`` (a list of ``"right"``/``"left"``); anything else is ignored."""
    if not isinstance(value, list):
        return ()
    return tuple(side for side in ("right", "left") if side in {str(v).strip().lower() for v in value[:4] if isinstance(v, str)})


def _text(value, limit):
    """A lab's free text as a bounded string (a number or null in its JSON included)."""
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value).strip()[:limit]


def _status_message(status, lab_status, tracking, lab_message):
    if status is None:
        return _("Unbekannter Status des Labors „%(status)s“; die Bestellung bleibt unverändert.") % {
            "status": lab_status or "-"
        }
    if status == "shipped" and tracking:
        return _("Vom Labor versandt, Sendungsnummer %(tracking)s.") % {"tracking": tracking}
    if status == "rejected_by_lab" and lab_message:
        return _("Vom Labor abgelehnt: %(message)s") % {"message": lab_message[:300]}
    messages = {
        "ordered": _("Das Labor hat die Bestellung erhalten."),
        "confirmed": _("Vom Labor bestätigt."),
        "in_production": _("Beim Labor in Fertigung."),
        "shipped": _("Vom Labor versandt."),
        "rejected_by_lab": _("Vom Labor abgelehnt."),
        "on_hold": _("Rückfrage des Labors."),
        "cancelled": _("Vom Labor storniert."),
    }
    return messages[status]
