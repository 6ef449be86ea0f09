"""Audia Easy Order: the order as XML over HTTPS; the answer brings audia's order number and
the earmould properties as audia confirms them ("Bestelldaten").

* ``POST <endpoint_url>/orders`` with ``Content-Type: application/xml``, HTTP basic auth and
  ``Idempotency-Key: <order uuid>``; the same key is the ``<IdempotencyKey>`` element;
* answer ``<EasyOrderResponse>`` with ``<OrderNumber>`` and ``<Bestelldaten>`` → *confirmed*,
  the properties per ear in ``DispatchResult.data["properties"]``; an empty 2xx → *ordered*;
* error answers ``<EasyOrderError><Message>…</Message></EasyOrderError>`` (or JSON);
* ``POST <endpoint_url>/orders/<ref>/cancellation`` with ``<EasyOrderCancellation>``
  (Idempotency-Key: the cancellation's key) → ``<EasyOrderCancellationResponse>`` with
  ``<Status>cancelled|refused</Status>`` and audia's ``<Message>``;
* ``POST <endpoint_url>/orders/<ref>/messages`` with ``<EasyOrderMessage>`` (Idempotency-Key:
  the message's id): staff's answer to a question audia asked by phone or mail;
* ``GET <endpoint_url>/ping`` for "Verbindung testen".

Wire format: ``docs/interfaces/audia_easy_order.md``.
"""

import re

from django.utils.translation import gettext_lazy
from lxml import etree

from .labstatus import StatusTable
from .transports.http import (
    BASIC_AUTH_OPTIONS,
    BasicAuthHttpBackend,
    HttpRequest,
    LabChannelMixin,
    endpoint_option,
    json_message,
)

FORMAT_VERSION = "1"
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
XML_CONTENT_TYPE = "application/xml; charset=utf-8"

#: audia's statuses → our order statuses.
STATUS_TABLE = StatusTable(
    {
        "received": "ordered",
        "accepted": "confirmed",
        "in_production": "in_production",
        "shipped": "shipped",
        "rejected": "rejected_by_lab",
    }
)

#: Our order fields → elements of ``<EasyOrder>`` (empty values are left out).
ORDER_ELEMENTS = (
    ("order_number", "OrderNumber"),
    ("order_type", "OrderType"),
    ("priority", "Priority"),
    ("supplier_account", "CustomerAccount"),
    ("customer_reference", "CustomerReference"),
    ("prescriber", "Prescriber"),
    ("notes", "Notes"),
    ("original_order_number", "OriginalOrder"),
    ("original_lab_reference", "OriginalLabOrderNumber"),
    ("reason", "Reason"),
    ("reason_code", "ReasonCode"),
    ("reason_category", "ReasonCategory"),
)
#: Our item fields → elements of ``<Item>``, with the field holding the German label.
ITEM_ELEMENTS = (
    ("product_family", "ProductFamily", "product_family_label"),
    ("style", "Style", "style_label"),
    ("material", "Material", "material_label"),
    ("colour", "Colour", None),
    ("vent_type", "VentType", "vent_type_label"),
    ("vent_diameter_mm", "VentDiameterMm", None),
    ("tube", "Tube", "tube_label"),
    ("receiver_power", "ReceiverPower", None),
    ("receiver_length", "ReceiverLength", None),
    ("receiver_type", "ReceiverType", None),
    ("shore_hardness", "ShoreHardness", None),
    ("surface_finish", "SurfaceFinish", "surface_finish_label"),
    ("acoustic_modification", "AcousticModification", "acoustic_modification_label"),
    ("canal_length", "CanalLength", "canal_length_label"),
    ("protection_filter", "ProtectionFilter", "protection_filter_label"),
    ("extraction_cord", "ExtractionCord", None),
    ("engraving", "Engraving", None),
    ("quantity", "Quantity", None),
    ("impression", "Impression", None),
    ("notes", "Notes", None),
)
#: The impression of an ear: ``<Impression kind=…>`` carries these as child elements.
IMPRESSION_ELEMENTS = (
    ("impression_reference", "BoxLabel"),
    ("impression_tracking_number", "TrackingNumber"),
    ("scan_file_name", "ScanFile"),
    ("scan_format", "ScanFormat"),
    ("scan_sha256", "ScanSha256"),
)


def _parser():
    # A lab's answer is untrusted: no DTDs, no entities, no network, no huge trees.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _add(parent, tag, value, **attributes):
    if value is None or value == "":
        return None
    element = etree.SubElement(parent, tag, {k: str(v) for k, v in attributes.items() if v})
    # A stray control character in a note or reason must not break the document.
    element.text = _XML_ILLEGAL.sub("", str(value))
    return element


def order_xml(document):
    """The ``<EasyOrder>`` document as UTF-8 bytes."""
    root = etree.Element("EasyOrder", version=FORMAT_VERSION)
    _add(root, "IdempotencyKey", document.order_id)
    for field, tag in ORDER_ELEMENTS[:3]:
        _add(root, tag, getattr(document, field))
    _add(root, "CreatedAt", document.created_at.isoformat())
    _add(root, "DateRequired", document.date_required.isoformat() if document.date_required else "")
    for field, tag in ORDER_ELEMENTS[3:]:
        _add(root, tag, getattr(document, field))
    _add_complaint(root, document.complaint)
    branch = etree.SubElement(root, "Branch")
    _add(branch, "Name", document.branch.name)
    for line in document.branch.address_lines:
        _add(branch, "AddressLine", line)
    _add(branch, "Email", document.branch.email)
    _add(branch, "Phone", document.branch.phone)
    items = etree.SubElement(root, "Items")
    for item in document.items:
        element = etree.SubElement(items, "Item", side=item.side, sideLabel=item.side_label)
        codes = item.lab_codes
        for field, tag, label_field in ITEM_ELEMENTS:
            value = getattr(item, field)
            if isinstance(value, bool):
                value = "true" if value else ""
            # ``code``: the lab's own code of the value, from its catalogue.
            _add(
                element, tag, value, label=getattr(item, label_field) if label_field else "", code=codes.get(field, "")
            )
        _add_impression(element, item)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _add_complaint(root, complaint):
    """``<Complaint>`` of a remake: the complained ears, reason, description, old mould, and
    our free-remake proposal (``freeRemake`` true/false, ``until`` its last day)."""
    if complaint is None:
        return
    element = etree.SubElement(root, "Complaint")
    _add(element, "Sides", ",".join(complaint.sides))
    _add(element, "Reason", complaint.reason_label, code=complaint.reason_code)
    _add(element, "Description", complaint.description)
    _add(element, "ReturnOldMould", "true" if complaint.return_old_mould else "false")
    _add(
        element,
        "FreeRemakeProposed",
        "true" if complaint.free_remake else "false",
        until=complaint.free_remake_until.isoformat() if complaint.free_remake_until else "",
    )


def _add_impression(element, item):
    if not item.impression_kind:
        return
    attributes = {"kind": item.impression_kind}
    if item.impression_kind_label:
        attributes["label"] = item.impression_kind_label
    impression = etree.SubElement(element, "ImpressionDetails", attributes)
    for field, tag in IMPRESSION_ELEMENTS:
        _add(impression, tag, getattr(item, field))


def _snake(tag):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", tag).lower()


def _text(root, tag):
    element = root.find(tag)
    return (element.text or "").strip() if element is not None else ""


def properties_of(root):
    """``<Bestelldaten>`` → ``{side: {property: value}}``; element names become snake_case."""
    properties = {}
    for ear in root.iterfind("Bestelldaten/Ear"):
        side = (ear.get("side") or "").strip()
        if not side:
            continue
        properties[side] = {
            _snake(child.tag): (child.text or "").strip() for child in ear if isinstance(child.tag, str)
        }
    return properties


class AudiaEasyOrderBackend(LabChannelMixin, BasicAuthHttpBackend):
    key = "audia_easy_order"
    label = "Audia Easy Order"
    description = gettext_lazy(
        "Bestellung über audia Easy Order (XML über HTTPS); die Antwort bringt die "
        "Auftragsnummer und die Bestelldaten der Otoplastik."
    )
    options = (
        endpoint_option(help_text=gettext_lazy("Basisadresse von Easy Order, z. B. https://easyorder.audia.example/api")),
        *BASIC_AUTH_OPTIONS,
    )
    status_table = STATUS_TABLE

    def http_headers(self):
        return {"Accept": "application/xml"}

    def lab_message(self, response):
        """audia answers errors as ``<EasyOrderError><Message>``; JSON is understood too."""
        root = self.parse_xml(response)
        if root is not None and root.tag == "EasyOrderError":
            return _text(root, "Message")
        return json_message(response)

    def parse_xml(self, response):
        try:
            return etree.fromstring(response.content, parser=_parser())
        except etree.XMLSyntaxError:
            return None

    def build_payload(self, document):
        body = order_xml(document)
        return HttpRequest(
            url=self.url("orders"),
            headers={"Content-Type": XML_CONTENT_TYPE},
            body=body,
            summary={"bytes": len(body), "items": len(document.items)},
        )

    def cancellation_payload(self, request):
        root = etree.Element("EasyOrderCancellation", version=FORMAT_VERSION)
        _add(root, "IdempotencyKey", request.idempotency_key)
        _add(root, "OrderId", request.order.order_id)
        _add(root, "OrderNumber", request.order.order_number)
        _add(root, "LabOrderNumber", request.lab_reference)
        _add(root, "Sequence", request.sequence)
        _add(root, "RequestedAt", request.requested_at.isoformat())
        _add(root, "Reason", request.reason)
        body = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
        return HttpRequest(
            url=self.order_url(request.order.order_id, request.lab_reference, self.cancel_path),
            headers={"Content-Type": XML_CONTENT_TYPE},
            body=body,
            summary={"bytes": len(body)},
        )

    def read_cancel_answer(self, response):
        root = self.parse_xml(response)
        if root is None or root.tag != "EasyOrderCancellationResponse":
            raise self.unreadable_answer(response, "no EasyOrderCancellationResponse")
        return _text(root, "Status"), _text(root, "Message")

    def message_payload(self, message):
        root = etree.Element("EasyOrderMessage", version=FORMAT_VERSION)
        _add(root, "MessageId", message.message_id)
        _add(root, "OrderId", message.order.order_id)
        _add(root, "OrderNumber", message.order.order_number)
        _add(root, "LabOrderNumber", message.lab_reference)
        _add(root, "InReplyTo", message.in_reply_to)
        _add(root, "Author", message.author)
        _add(root, "SentAt", message.sent_at.isoformat())
        _add(root, "Text", message.text)
        body = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
        return HttpRequest(
            url=self.order_url(message.order.order_id, message.lab_reference, self.message_path),
            headers={"Content-Type": XML_CONTENT_TYPE},
            body=body,
            summary={"bytes": len(body)},
        )

    def read_message_answer(self, response):
        if not response.content.strip():
            return ""
        root = self.parse_xml(response)
        if root is None or root.tag != "EasyOrderMessageResponse":
            raise self.unreadable_answer(response, "no EasyOrderMessageResponse")
        return _text(root, "MessageId")[:100]

    def parse_result(self, response, payload, document):
        if not response.content.strip():
            return self.answer_result(response, payload, document)
        root = self.parse_xml(response)
        if root is None or root.tag != "EasyOrderResponse":
            raise self.unreadable_answer(response, "no EasyOrderResponse")
        properties = properties_of(root)
        return self.answer_result(
            response,
            payload,
            document,
            reference=_text(root, "OrderNumber"),
            lab_status=_text(root, "Status"),
            lab_message=_text(root, "Message"),
            data={"properties": properties} if properties else {},
        )
