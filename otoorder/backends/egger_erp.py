"""Egger ERP Bestellung: openTRANS 2.1 ``ORDER`` straight into egger's ERP over HTTPS.

* send: the ``ORDER`` (``opentrans.build_order``) is POSTed to ``endpoint_url`` with basic
  auth and the order's UUID as ``Idempotency-Key``; validated against the operator's copy of
  the schema first when ``OTOORDER_OPENTRANS_XSD`` is set;
* answer: 2xx without body → *ordered*; 2xx with an ``ORDERRESPONSE`` → *confirmed* with its
  ``SUPPLIER_ORDER_ID`` as the lab's number;
* later: egger's ``ORDERRESPONSE`` and ``DISPATCHNOTIFICATION`` arrive on the signed callback
  endpoint; :meth:`EggerErpBackend.parse_callback` turns them into status updates;
* cancellation: an ``ORDERCHANGE`` (``opentrans.build_cancellation``) POSTed to the same
  endpoint with the cancellation's key as ``Idempotency-Key``; egger answers with an
  ``ORDERRESPONSE`` (remark ``cancellation`` = ``accepted``/``refused``) at once, or with an
  empty 2xx and later on the callback;
* a question (Rückfrage): an ``ORDERRESPONSE`` with the remark ``labQuestion`` on the callback
  → *on hold*; ``labStatus`` = ``in_production`` resumes. egger ERP has no message channel
  back: staff's answer goes by e-mail to egger's order address.

Wire format: ``docs/interfaces/egger_erp.md``.
"""

from datetime import date

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import opentrans
from .labstatus import CANCELLATION_ACCEPTED, CANCELLATION_REFUSED, StatusTable, StatusUpdate
from .options import Option
from .transports.http import (
    BASIC_AUTH_OPTIONS,
    BasicAuthHttpBackend,
    HttpRequest,
    endpoint_option,
    is_empty,
    json_message,
    response_text,
)
from .result import CancelResult, CancelStatus

#: openTRANS document type → our order status (the one status table of this lab).
STATUS_TABLE = StatusTable(
    {
        "ORDERRESPONSE": "confirmed",
        "DISPATCHNOTIFICATION": "shipped",
    }
)

XML_CONTENT_TYPE = "application/xml; charset=utf-8"
#: How much of egger's question or reason is kept (the order's message thread shows it).
LAB_TEXT_CHARS = 2000
#: ``labStatus`` remark of an ORDERRESPONSE → our order status (egger resumes after a question).
LAB_STATUSES = {"in_production": "in_production", "confirmed": "confirmed"}


class EggerErpBackend(BasicAuthHttpBackend):
    key = "egger_erp"
    label = "Egger ERP Bestellung"
    description = gettext_lazy(
        "Bestellung direkt in das ERP-System von egger als openTRANS-2.1-Auftrag (XML über HTTPS); "
        "Auftragsbestätigung und Lieferavis kommen über die Rückmelde-Adresse zurück."
    )
    options = (
        endpoint_option(gettext_lazy("Adresse des egger-ERP")),
        *BASIC_AUTH_OPTIONS,
        Option(
            "buyer_id",
            gettext_lazy("Kennung bei egger (Buyer-ID)"),
            help_text=gettext_lazy("Von egger vergebene Kennung Ihres Unternehmens für die ERP-Schnittstelle."),
        ),
        Option(
            "shared_secret",
            gettext_lazy("Gemeinsames Geheimnis für Rückmeldungen"),
            secret=True,
            help_text=gettext_lazy("Damit signiert egger Auftragsbestätigungen und Lieferavise an otoorder."),
        ),
    )
    supports_callback = True
    supports_cancellation = True
    status_table = STATUS_TABLE

    def lab_message(self, response):
        """egger answers errors as JSON or plain text; HTML error pages are not shown."""
        message = json_message(response)
        if message:
            return message
        if response.headers.get("Content-Type", "").startswith("text/plain"):
            return " ".join(response_text(response).split())
        return ""

    def build_payload(self, document):
        body = opentrans.build_order(
            document, buyer_id=self.config["buyer_id"], supplier_account=document.supplier_account
        )
        validated = opentrans.validate_if_configured(body)
        return HttpRequest(
            url=self.config["endpoint_url"],
            headers={"Content-Type": XML_CONTENT_TYPE, "Accept": "application/xml"},
            body=body,
            summary={
                "format": "openTRANS 2.1 ORDER",
                "order_number": document.order_number,
                "items": len(document.items),
                "bytes": len(body),
                "schema_validated": validated,
            },
        )

    def parse_result(self, response, payload, document):
        if is_empty(response):
            return self.answer_result(response, payload, document)
        try:
            answer = opentrans.parse_orderresponse(response.content)
        except opentrans.OpenTransError as exc:
            raise self.unreadable_answer(response, str(exc)) from exc
        if answer["order_id"] != document.order_number:
            raise self.unreadable_answer(
                response, f"ORDERRESPONSE for {answer['order_id']!r}, sent {document.order_number!r}"
            )
        data = {"delivery_date": answer["delivery_date"]} if answer["delivery_date"] else {}
        return self.answer_result(
            response,
            payload,
            document,
            reference=answer["supplier_order_id"],
            lab_status="ORDERRESPONSE",
            data=data,
        )

    # --- cancellation ---------------------------------------------------------------------

    def cancel(self, request):
        """The ORDERCHANGE that cancels the order; egger's ORDERRESPONSE or a pending answer."""
        body = opentrans.build_cancellation(
            request, buyer_id=self.config["buyer_id"], supplier_account=request.order.supplier_account
        )
        validated = opentrans.validate_if_configured(body)
        response = self.request(
            "POST",
            self.config["endpoint_url"],
            idempotency_key=request.idempotency_key,
            headers={"Content-Type": XML_CONTENT_TYPE, "Accept": "application/xml"},
            data=body,
        )
        summary = {
            "format": "openTRANS 2.1 ORDERCHANGE",
            "order_number": request.order.order_number,
            "orderchange_sequence_id": request.sequence,
            "idempotency_key": request.idempotency_key,
            "bytes": len(body),
            "schema_validated": validated,
            "status_code": response.status_code,
        }
        raw = response_text(response)
        if is_empty(response):
            return CancelResult(
                CancelStatus.PENDING,
                message=_("egger hat die Stornierung (ORDERCHANGE) erhalten; die Antwort folgt."),
                request_summary=summary,
                raw_response=raw,
            )
        try:
            answer = opentrans.parse_orderresponse(response.content)
        except opentrans.OpenTransError as exc:
            raise self.unreadable_answer(response, str(exc)) from exc
        if answer["order_id"] != request.order.order_number or not answer["cancellation"]:
            raise self.unreadable_answer(response, "ORDERRESPONSE does not answer this cancellation")
        lab_text = answer["cancellation_reason"][:LAB_TEXT_CHARS]
        if answer["cancellation"] == CANCELLATION_ACCEPTED:
            return CancelResult(
                CancelStatus.ACCEPTED,
                lab_message=lab_text,
                message=_("egger hat die Stornierung bestätigt."),
                request_summary=summary,
                raw_response=raw,
            )
        return CancelResult(
            CancelStatus.REFUSED,
            lab_message=lab_text,
            message=_refusal_message(lab_text),
            request_summary=summary,
            raw_response=raw,
        )

    # --- lab push -----------------------------------------------------------------------

    @classmethod
    def parse_callback(cls, body):
        """egger's ``ORDERRESPONSE`` or ``DISPATCHNOTIFICATION`` as status updates.

        Returns a list of ``{"order_number": <our ORDER_ID>, "update": StatusUpdate}``, one
        per order the document names (a dispatch notification may cover several). Raises
        ``opentrans.OpenTransError`` (a ``ValueError``) for anything else.
        """
        root = opentrans.parse_document(body)
        kind = opentrans.document_type(root)
        raw = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
        if kind == "ORDERRESPONSE":
            answer = opentrans.parse_orderresponse(root)
            special = _answer_update(answer, raw)
            if special is not None:
                return [{"order_number": answer["order_id"], "update": special}]
            message = _("Auftragsbestätigung von egger, Auftragsnummer %(ref)s.") % {
                "ref": answer["supplier_order_id"] or "-"
            }
            if answer["delivery_date"]:
                message += " " + _("Liefertermin: %(date)s.") % {"date": _shown_date(answer["delivery_date"])}
            update = StatusUpdate(
                status=STATUS_TABLE.normalise(kind),
                external_status=kind,
                external_reference=answer["supplier_order_id"],
                message=message,
                raw_response=raw,
                data={"delivery_date": answer["delivery_date"]} if answer["delivery_date"] else {},
            )
            return [{"order_number": answer["order_id"], "update": update}]
        if kind == "DISPATCHNOTIFICATION":
            notice = opentrans.parse_dispatchnotification(root)
            reference = notice["supplier_order_ids"][0] if len(notice["supplier_order_ids"]) == 1 else ""
            message = _("Versandt laut Lieferavis %(id)s von egger.") % {"id": notice["dispatchnotification_id"]}
            if notice["shipment_id"]:
                message += " " + _("Sendungsnummer: %(tracking)s.") % {"tracking": notice["shipment_id"]}
            update = StatusUpdate(
                status=STATUS_TABLE.normalise(kind),
                external_status=kind,
                external_reference=reference,
                tracking_number=notice["shipment_id"],
                message=message,
                raw_response=raw,
                data={
                    key: notice[key]
                    for key in ("dispatchnotification_id", "dispatchnotification_date", "tracking_url")
                    if notice[key]
                },
            )
            return [{"order_number": number, "update": update} for number in notice["order_ids"]]
        raise opentrans.OpenTransError(
            _("egger sendet %(kind)s; erwartet sind ORDERRESPONSE oder DISPATCHNOTIFICATION.") % {"kind": kind}
        )


def _refusal_message(lab_text):
    if lab_text:
        return _("egger lehnt die Stornierung ab: %(message)s") % {"message": lab_text[:300]}
    return _("egger lehnt die Stornierung ab.")


def _answer_update(answer, raw):
    """The ``StatusUpdate`` of an ORDERRESPONSE that answers a cancellation, asks a question or
    reports the production status; ``None`` for a plain order confirmation."""
    common = {"external_status": "ORDERRESPONSE", "external_reference": answer["supplier_order_id"], "raw_response": raw}
    if answer["cancellation"] == CANCELLATION_ACCEPTED:
        return StatusUpdate(
            status="cancelled",
            message=_("egger hat die Stornierung bestätigt."),
            cancellation=CANCELLATION_ACCEPTED,
            lab_text=answer["cancellation_reason"][:LAB_TEXT_CHARS],
            **common,
        )
    if answer["cancellation"] == CANCELLATION_REFUSED:
        lab_text = answer["cancellation_reason"][:LAB_TEXT_CHARS]
        # No status of its own: the order goes back to where it was before the request.
        return StatusUpdate(
            status=None,
            message=_refusal_message(lab_text),
            cancellation=CANCELLATION_REFUSED,
            lab_text=lab_text,
            **common,
        )
    if answer["lab_question"]:
        return StatusUpdate(
            status="on_hold",
            message=_("Rückfrage von egger."),
            lab_text=answer["lab_question"][:LAB_TEXT_CHARS],
            lab_message_id=answer["lab_question_id"][:100],
            **common,
        )
    status = LAB_STATUSES.get(answer["lab_status"])
    if status == "in_production":
        return StatusUpdate(status=status, message=_("Bei egger in Fertigung."), **common)
    return None


def _shown_date(value):
    """The lab's ISO date (``2027-01-15``, maybe with a time) as staff read dates in a sentence
    (15.01.2027 in German); anything else as the lab wrote it."""
    try:
        return date_format(date.fromisoformat(str(value)[:10]), "SHORT_DATE_FORMAT")
    except ValueError:
        return value
