"""openTRANS 2.1 documents of the egger ERP interface: build ``ORDER``, read the answers.

Pure functions over lxml; no HTTP, no ORM. ``build_order`` writes an ``ORDER`` that is valid
against the official openTRANS 2.1 schema (the tests validate every document against it; the
schema itself is not part of the project). Where our earmould order has no standard element,
the document uses what the schema offers for free data: typed ``REMARKS`` on the header
(order UUID, order type, priority, customer reference, prescriber) and ``PRODUCT_FEATURES``
on each item (side and the item specification). Wire format: ``docs/interfaces/egger_erp.md``.
"""

import re
from functools import lru_cache

from django.conf import settings
from django.utils.translation import gettext as _
from lxml import etree

from .exceptions import ConfigurationError, OrderRejected

OPENTRANS_NS = "http://www.opentrans.org/XMLSchema/2.1"
BMECAT_NS = "http://www.bmecat.org/bmecat/2005"
NSMAP = {None: OPENTRANS_NS, "bmecat": BMECAT_NS}
XSD_SETTING = "OTOORDER_OPENTRANS_XSD"

#: ``REMARKS type=…`` of the order header; the names are part of the wire format. The schema
#: allows ``\w`` only (XSD's ``\w`` excludes "_" and "-"), hence camelCase.
REMARK_ORDER_UUID = "orderUuid"
REMARK_ORDER_TYPE = "orderType"
REMARK_PRIORITY = "priority"
REMARK_CUSTOMER_REFERENCE = "customerReference"
REMARK_PRESCRIBER = "prescriber"
REMARK_ORIGINAL_ORDER = "originalOrder"
REMARK_REASON = "reason"
#: A remake from a complaint: the lab's number of the original order, the reason's code and
#: category, and the complaint (ears, description, old mould back, our free-remake proposal).
REMARK_ORIGINAL_LAB_ORDER = "originalLabOrder"
REMARK_REASON_CODE = "reasonCode"
REMARK_REASON_CATEGORY = "reasonCategory"
REMARK_COMPLAINT_SIDES = "complaintSides"
REMARK_COMPLAINT_DESCRIPTION = "complaintDescription"
REMARK_RETURN_OLD_MOULD = "returnOldMould"
REMARK_FREE_REMAKE = "freeRemakeProposed"
REMARK_FREE_REMAKE_UNTIL = "freeRemakeUntil"
#: ORDERCHANGE: what the change is (``cancellation``: the whole order) and its idempotency key.
REMARK_ORDER_CHANGE = "orderChange"
REMARK_CANCELLATION_KEY = "cancellationKey"
ORDER_CHANGE_CANCELLATION = "cancellation"
#: ORDERCHANGE: our reason; ORDERRESPONSE: the lab's reason (a refusal's words).
REMARK_CANCELLATION_REASON = "cancellationReason"
#: ORDERRESPONSE answering an ORDERCHANGE: ``accepted`` or ``refused`` (our documented assumption).
REMARK_CANCELLATION = "cancellation"
CANCELLATION_ANSWERS = ("accepted", "refused")
#: ORDERRESPONSE carrying a lab question (Rückfrage): its text and the lab's id of it.
REMARK_LAB_QUESTION = "labQuestion"
REMARK_LAB_QUESTION_ID = "labQuestionId"
#: ORDERRESPONSE: the lab's production status (``in_production`` when it resumes after a question).
REMARK_LAB_STATUS = "labStatus"

#: Item fields sent as ``FEATURE`` (code name → (value attribute, label attribute, unit)).
ITEM_FEATURES = (
    ("side", "side", "side_label", None),
    ("product_family", "product_family", "product_family_label", None),
    ("style", "style", "style_label", None),
    ("material", "material", "material_label", None),
    ("colour", "colour", None, None),
    ("vent_type", "vent_type", "vent_type_label", None),
    ("vent_diameter", "vent_diameter_mm", None, "MMT"),
    ("tube", "tube", "tube_label", None),
    ("receiver_power", "receiver_power", None, None),
    ("receiver_length", "receiver_length", None, None),
    ("receiver_type", "receiver_type", None, None),
    ("shore_a_hardness", "shore_hardness", None, None),
    ("surface_finish", "surface_finish", "surface_finish_label", None),
    ("acoustic_modification", "acoustic_modification", "acoustic_modification_label", None),
    ("canal_length", "canal_length", "canal_length_label", None),
    ("protection_filter", "protection_filter", "protection_filter_label", None),
    ("extraction_cord", "extraction_cord", None, None),
    ("engraving", "engraving", None, None),
    ("impression", "impression", None, None),
    ("impression_kind", "impression_kind", "impression_kind_label", None),
    ("impression_box_label", "impression_reference", None, None),
    ("impression_tracking_number", "impression_tracking_number", None, None),
    ("scan_file", "scan_file_name", None, None),
    ("scan_format", "scan_format", None, None),
)

# Characters XML 1.0 cannot carry at all; a stray one in a note must not break the order.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ZIP_CITY = re.compile(r"^(\d{4,5})\s+(.+)$")


class OpenTransError(ValueError):
    """An answer that is not a readable openTRANS document of the expected kind."""


def _q(tag):
    """Qualified name: ``bmecat:X`` in the BMEcat namespace, anything else in openTRANS."""
    if tag.startswith("bmecat:"):
        return f"{{{BMECAT_NS}}}{tag[7:]}"
    return f"{{{OPENTRANS_NS}}}{tag}"


def _clean(value, max_length=None):
    text = _XML_ILLEGAL.sub("", str(value)).strip()
    if max_length is not None:
        text = text[:max_length].rstrip()
    return text


def _add(parent, tag, value=None, max_length=None, **attrs):
    element = etree.SubElement(parent, _q(tag), {k: v for k, v in attrs.items() if v})
    if value is not None:
        element.text = _clean(value, max_length)
    return element


def _iso_datetime(value):
    return value.isoformat(timespec="seconds")


# --- ORDER ------------------------------------------------------------------------------


def build_order(document, *, buyer_id, supplier_account):
    """The openTRANS 2.1 ``ORDER`` for ``document`` as UTF-8 bytes.

    ``buyer_id`` is the ID egger gave our company for the ERP interface, ``supplier_account``
    the ordering branch's customer number at egger (empty: the buyer ID stands in).
    """
    root = etree.Element(_q("ORDER"), nsmap=NSMAP, version="2.1", type="standard")
    header = _add(root, "ORDER_HEADER")
    control = _add(header, "CONTROL_INFO")
    _add(control, "GENERATOR_INFO", "otoorder")
    info = _add(header, "ORDER_INFO")
    _add(info, "ORDER_ID", document.order_number, 250)
    _add(info, "ORDER_DATE", _iso_datetime(document.created_at))
    if document.date_required:
        delivery = _add(info, "DELIVERY_DATE", type="optional")
        _add(delivery, "DELIVERY_START_DATE", document.date_required.isoformat())
        _add(delivery, "DELIVERY_END_DATE", document.date_required.isoformat())
    _add_parties(info, document, buyer_id=buyer_id, supplier_account=supplier_account)
    for remark_type, value in (
        (REMARK_ORDER_UUID, document.order_id),
        (REMARK_ORDER_TYPE, document.order_type),
        (REMARK_PRIORITY, document.priority),
        (REMARK_CUSTOMER_REFERENCE, document.customer_reference),
        (REMARK_PRESCRIBER, document.prescriber),
        (REMARK_ORIGINAL_ORDER, document.original_order_number),
        (REMARK_ORIGINAL_LAB_ORDER, document.original_lab_reference),
        (REMARK_REASON, document.reason),
        (REMARK_REASON_CODE, document.reason_code),
        (REMARK_REASON_CATEGORY, document.reason_category),
        *complaint_remarks(document.complaint),
        ("general", document.notes),
    ):
        if _clean(value):
            _add(info, "REMARKS", value, type=remark_type)
    items = _add(root, "ORDER_ITEM_LIST")
    for number, item in enumerate(document.items, start=1):
        _add_item(items, number, item)
    summary = _add(root, "ORDER_SUMMARY")
    _add(summary, "TOTAL_ITEM_NUM", str(len(document.items)))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def complaint_remarks(complaint):
    """``(type, value)`` remarks of a remake's complaint (none for other orders)."""
    if complaint is None:
        return []
    return [
        (REMARK_COMPLAINT_SIDES, ",".join(complaint.sides)),
        (REMARK_COMPLAINT_DESCRIPTION, complaint.description),
        (REMARK_RETURN_OLD_MOULD, "true" if complaint.return_old_mould else "false"),
        (REMARK_FREE_REMAKE, "true" if complaint.free_remake else "false"),
        (REMARK_FREE_REMAKE_UNTIL, complaint.free_remake_until.isoformat() if complaint.free_remake_until else ""),
    ]


def _add_parties(info, document, *, buyer_id, supplier_account):
    """``LANGUAGE``, ``PARTIES`` and ``ORDER_PARTIES_REFERENCE`` of an ORDER or ORDERCHANGE header."""
    buyer_ref = _clean(supplier_account or buyer_id, 250)
    supplier_ref = _clean(document.supplier.name, 250) or "supplier"
    _add(info, "bmecat:LANGUAGE", "deu", default="true")
    parties = _add(info, "PARTIES")
    _add_party(parties, document.branch, "buyer", buyer_ref, extra_id=buyer_id)
    _add_party(parties, document.supplier, "supplier", supplier_ref, id_type="buyer_specific")
    _add_party(parties, document.branch, "delivery", buyer_ref)
    references = _add(info, "ORDER_PARTIES_REFERENCE")
    _add(references, "bmecat:BUYER_IDREF", buyer_ref, type="supplier_specific")
    _add(references, "bmecat:SUPPLIER_IDREF", supplier_ref, type="buyer_specific")
    shipment = _add(references, "SHIPMENT_PARTIES_REFERENCE")
    _add(shipment, "DELIVERY_IDREF", buyer_ref, type="supplier_specific")


# --- ORDERCHANGE ------------------------------------------------------------------------


def build_cancellation(request, *, buyer_id, supplier_account):
    """The openTRANS 2.1 ``ORDERCHANGE`` that cancels the whole order of ``request``.

    ``request`` is a ``CancellationDocument``. Every line of the order is repeated with
    ``QUANTITY`` 0 (openTRANS cancels a line by changing its quantity to zero);
    ``ORDERCHANGE_SEQUENCE_ID`` counts the order's change requests; typed ``REMARKS`` say
    that the change is a cancellation, carry its idempotency key and our reason.
    """
    document = request.order
    root = etree.Element(_q("ORDERCHANGE"), nsmap=NSMAP, version="2.1")
    header = _add(root, "ORDERCHANGE_HEADER")
    _add(_add(header, "CONTROL_INFO"), "GENERATOR_INFO", "otoorder")
    info = _add(header, "ORDERCHANGE_INFO")
    _add(info, "ORDER_ID", document.order_number, 250)
    _add(info, "ORDERCHANGE_DATE", _iso_datetime(request.requested_at))
    _add(info, "ORDER_DATE", _iso_datetime(document.created_at))
    if _clean(request.lab_reference):
        _add(info, "SUPPLIER_ORDER_ID", request.lab_reference, 250)
    _add(info, "ORDERCHANGE_SEQUENCE_ID", str(max(int(request.sequence), 1)))
    _add_parties(info, document, buyer_id=buyer_id, supplier_account=supplier_account)
    for remark_type, value in (
        (REMARK_ORDER_CHANGE, ORDER_CHANGE_CANCELLATION),
        (REMARK_ORDER_UUID, document.order_id),
        (REMARK_CANCELLATION_KEY, request.idempotency_key),
        (REMARK_CANCELLATION_REASON, request.reason),
    ):
        if _clean(value):
            _add(info, "REMARKS", value, type=remark_type)
    items = _add(root, "ORDERCHANGE_ITEM_LIST")
    for number, item in enumerate(document.items, start=1):
        _add_item(items, number, item, quantity=0)
    summary = _add(root, "ORDERCHANGE_SUMMARY")
    _add(summary, "TOTAL_ITEM_NUM", str(len(document.items)))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _add_party(parties, party, role, party_id, *, id_type="supplier_specific", extra_id=""):
    element = _add(parties, "PARTY")
    _add(element, "bmecat:PARTY_ID", party_id, 250, type=id_type)
    if extra_id and _clean(extra_id) != party_id:
        _add(element, "bmecat:PARTY_ID", extra_id, 250, type="buyerId")
    _add(element, "PARTY_ROLE", role)
    address = _add(element, "ADDRESS")
    if _clean(party.name):
        _add(address, "bmecat:NAME", party.name, 50)
    lines = [line for line in party.address_lines if _clean(line) and _clean(line) != _clean(party.name)]
    zip_city = _ZIP_CITY.match(_clean(lines[-1])) if lines else None
    if zip_city:
        lines = lines[:-1]
    for line in lines[:1]:
        _add(address, "bmecat:STREET", line, 50)
    if zip_city:
        _add(address, "bmecat:ZIP", zip_city.group(1))
        _add(address, "bmecat:CITY", zip_city.group(2), 50)
    if _clean(party.phone):
        _add(address, "bmecat:PHONE", party.phone, 30, type="office")
    if _clean(party.fax):
        _add(address, "bmecat:FAX", party.fax, 30, type="office")
    if _clean(party.email):
        _add(address, "bmecat:EMAIL", party.email, 100)


def _feature_value(item, attr):
    value = getattr(item, attr)
    if isinstance(value, bool):
        # A yes/no field is sent only when set (an extraction cord is ordered, not "not ordered").
        return "true" if value else ""
    return _clean(value, 60)


def _add_item(items, number, item, *, quantity=None):
    element = _add(items, "ORDER_ITEM")
    _add(element, "LINE_ITEM_ID", str(number))
    product = _add(element, "PRODUCT_ID")
    codes = item.lab_codes
    main = ("product_family", "style", "material")
    if any(field in codes for field in main):
        # The lab's own article code: its codes where its catalogue names them, ours otherwise.
        supplier_pid = "-".join(codes.get(field) or getattr(item, field) for field in main if getattr(item, field))
        _add(product, "bmecat:SUPPLIER_PID", supplier_pid, 32, type="supplier_specific")
    code = "-".join(part for part in (item.product_family, item.style, item.material) if part)
    if code:
        _add(product, "bmecat:BUYER_PID", code, 50, type="otoorder")
    title = ", ".join(
        part for part in (item.product_family_label, item.style_label, item.material_label) if part
    )
    _add(product, "bmecat:DESCRIPTION_SHORT", f"Otoplastik {item.side_label}" + (f": {title}" if title else ""), 150)
    features = _add(element, "PRODUCT_FEATURES")
    for name, value_attr, label_attr, unit in ITEM_FEATURES:
        value = _feature_value(item, value_attr)
        if not value:
            continue
        lab_code = _clean(codes.get(value_attr) or "", 60)
        feature = _add(features, "FEATURE")
        _add(feature, "bmecat:FNAME", name)
        # The lab reads its own code; our canonical value stays in FDESCR for the record.
        _add(feature, "bmecat:FVALUE", lab_code or value)
        if unit:
            _add(feature, "bmecat:FUNIT", unit)
        if lab_code and lab_code != value:
            _add(feature, "bmecat:FDESCR", value, 250)
        label = _clean(getattr(item, label_attr), 250) if label_attr else ""
        if value_attr == "scan_format" and item.scan_sha256:
            label = f"SHA-256 {item.scan_sha256}"
        if label and label != value:
            _add(feature, "bmecat:FVALUE_DETAILS", label)
    _add(element, "QUANTITY", str(item.quantity if quantity is None else quantity))
    _add(element, "bmecat:ORDER_UNIT", "C62")
    if _clean(item.notes):
        _add(element, "REMARKS", item.notes, type="general")


# --- schema validation ------------------------------------------------------------------


def configured_xsd_path():
    """The operator's copy of the openTRANS schema (setting ``OTOORDER_OPENTRANS_XSD``), or "" when validation is off."""
    return getattr(settings, XSD_SETTING)


@lru_cache(maxsize=4)
def load_schema(path):
    try:
        return etree.XMLSchema(etree.parse(str(path)))
    except (OSError, etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:
        raise ConfigurationError(code="opentrans_schema_missing", params={"path": path}, detail=str(exc)) from exc


def schema_errors(xml, path):
    """Messages of every schema violation of ``xml`` (empty: valid)."""
    schema = load_schema(str(path))
    if schema.validate(etree.fromstring(xml, _parser())):
        return []
    return [f"{error.line}: {error.message}" for error in schema.error_log]


def validate_if_configured(xml):
    """Validate against ``OTOORDER_OPENTRANS_XSD`` when the operator set it; refuse if invalid."""
    path = configured_xsd_path()
    if not path:
        return False
    errors = schema_errors(xml, path)
    if errors:
        raise OrderRejected(
            code="opentrans_change_invalid" if b"ORDERCHANGE" in xml[:400] else "opentrans_order_invalid",
            params={"error": errors[0]},
            detail="\n".join(errors),
        )
    return True


# --- answers ----------------------------------------------------------------------------


def _parser():
    # Lab answers are untrusted: no entities, no DTDs from the network, no huge trees.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def parse_document(xml):
    """The root element of an openTRANS answer; ``OpenTransError`` if unreadable."""
    if isinstance(xml, str):
        xml = xml.encode("utf-8")
    try:
        root = etree.fromstring(xml, _parser())
    except etree.XMLSyntaxError as exc:
        raise OpenTransError(_("Die Antwort ist kein lesbares XML: %(error)s") % {"error": exc}) from exc
    if etree.QName(root).namespace != OPENTRANS_NS:
        raise OpenTransError(_("Die Antwort ist kein openTRANS-2.1-Dokument."))
    return root


def document_type(root):
    """``ORDERRESPONSE``, ``DISPATCHNOTIFICATION``, … (the root's local name)."""
    return etree.QName(root).localname


def _text(element, path):
    found = element.find(path, {"ot": OPENTRANS_NS, "bmecat": BMECAT_NS})
    return (found.text or "").strip() if found is not None else ""


def _texts(element, path):
    values = []
    for found in element.iterfind(path, {"ot": OPENTRANS_NS, "bmecat": BMECAT_NS}):
        value = (found.text or "").strip()
        if value and value not in values:
            values.append(value)
    return values


def _expect(root, kind):
    if document_type(root) != kind:
        raise OpenTransError(
            _("Erwartet wurde %(expected)s, erhalten %(got)s.") % {"expected": kind, "got": document_type(root)}
        )


def parse_orderresponse(xml):
    """The order confirmation: our order number, the lab's number, the confirmed date."""
    root = xml if isinstance(xml, etree._Element) else parse_document(xml)
    _expect(root, "ORDERRESPONSE")
    info = root.find("ot:ORDERRESPONSE_HEADER/ot:ORDERRESPONSE_INFO", {"ot": OPENTRANS_NS})
    if info is None or not _text(info, "ot:ORDER_ID"):
        raise OpenTransError(_("Der Auftragsbestätigung fehlt die Bestellnummer (ORDER_ID)."))
    return {
        "type": "ORDERRESPONSE",
        "order_id": _text(info, "ot:ORDER_ID"),
        "supplier_order_id": _text(info, "ot:SUPPLIER_ORDER_ID"),
        "orderresponse_date": _text(info, "ot:ORDERRESPONSE_DATE"),
        "delivery_date": _text(info, "ot:DELIVERY_DATE/ot:DELIVERY_START_DATE"),
        "delivery_end_date": _text(info, "ot:DELIVERY_DATE/ot:DELIVERY_END_DATE"),
        "order_uuid": _remark(info, REMARK_ORDER_UUID),
        "orderchange_sequence_id": _text(info, "ot:ORDERCHANGE_SEQUENCE_ID"),
        "cancellation": _cancellation_answer(root, info),
        "cancellation_reason": _remark(info, REMARK_CANCELLATION_REASON),
        "lab_question": _remark(info, REMARK_LAB_QUESTION),
        "lab_question_id": _remark(info, REMARK_LAB_QUESTION_ID),
        "lab_status": _remark(info, REMARK_LAB_STATUS).lower(),
    }


def _cancellation_answer(root, info):
    """``accepted``/``refused`` when the ORDERRESPONSE answers a cancellation, else "".

    The typed remark ``cancellation`` says it; without it, an answer to an ORDERCHANGE
    (``ORDERCHANGE_SEQUENCE_ID``) whose lines all have quantity 0 accepts, any other refuses.
    """
    word = _remark(info, REMARK_CANCELLATION).lower()
    if word in CANCELLATION_ANSWERS:
        return word
    if not _text(info, "ot:ORDERCHANGE_SEQUENCE_ID"):
        return ""
    quantities = _texts_all(root, "ot:ORDERRESPONSE_ITEM_LIST/ot:ORDERRESPONSE_ITEM/ot:QUANTITY")
    try:
        return "accepted" if quantities and all(float(value) == 0 for value in quantities) else "refused"
    except ValueError:
        return "refused"


def _texts_all(element, path):
    return [(found.text or "").strip() for found in element.iterfind(path, {"ot": OPENTRANS_NS, "bmecat": BMECAT_NS})]


def parse_dispatchnotification(xml):
    """The shipping notice: the orders shipped, the shipment (tracking) ID, the date."""
    root = xml if isinstance(xml, etree._Element) else parse_document(xml)
    _expect(root, "DISPATCHNOTIFICATION")
    info = root.find("ot:DISPATCHNOTIFICATION_HEADER/ot:DISPATCHNOTIFICATION_INFO", {"ot": OPENTRANS_NS})
    if info is None:
        raise OpenTransError(_("Der Lieferavis fehlt der Kopf (DISPATCHNOTIFICATION_INFO)."))
    items = "ot:DISPATCHNOTIFICATION_ITEM_LIST/ot:DISPATCHNOTIFICATION_ITEM"
    order_ids = _texts(root, f"{items}/ot:ORDER_REFERENCE/ot:ORDER_ID")
    if not order_ids:
        raise OpenTransError(_("Die Lieferavis nennt keine Bestellnummer (ORDER_REFERENCE/ORDER_ID)."))
    return {
        "type": "DISPATCHNOTIFICATION",
        "dispatchnotification_id": _text(info, "ot:DISPATCHNOTIFICATION_ID"),
        "dispatchnotification_date": _text(info, "ot:DISPATCHNOTIFICATION_DATE"),
        "order_ids": order_ids,
        "supplier_order_ids": _texts(root, f"{items}/ot:SUPPLIER_ORDER_REFERENCE/ot:SUPPLIER_ORDER_ID"),
        "shipment_id": _text(info, "ot:SHIPMENT_ID"),
        "tracking_url": _text(info, "ot:TRACKING_TRACING_URL"),
        "delivery_date": _text(info, "ot:DELIVERY_DATE/ot:DELIVERY_START_DATE"),
    }


def _remark(info, remark_type):
    for remark in info.iterfind("ot:REMARKS", {"ot": OPENTRANS_NS}):
        if remark.get("type") == remark_type:
            return (remark.text or "").strip()
    return ""
