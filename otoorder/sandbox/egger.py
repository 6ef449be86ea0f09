"""egger's side of the ERP interface: read the ``ORDER``, write the openTRANS 2.1 answers.

The sandbox answers an ``ORDER`` with an empty 202 and later pushes an ``ORDERRESPONSE``
(its order number and a delivery date) and a ``DISPATCHNOTIFICATION`` (shipment number) to
otoorder's signed callback endpoint. An ``ORDERCHANGE`` (cancellation) is answered at once
with an ``ORDERRESPONSE`` whose remark ``cancellation`` says ``accepted`` or ``refused``; a
question is an ``ORDERRESPONSE`` with the remark ``labQuestion``. Every document is valid
against the official schema (tested).
"""

from datetime import datetime, timedelta, timezone

from lxml import etree

from otoorder.backends.opentrans import (
    BMECAT_NS,
    OPENTRANS_NS,
    ORDER_CHANGE_CANCELLATION,
    REMARK_CANCELLATION,
    REMARK_CANCELLATION_KEY,
    REMARK_CANCELLATION_REASON,
    REMARK_LAB_QUESTION,
    REMARK_LAB_QUESTION_ID,
    REMARK_LAB_STATUS,
    REMARK_ORDER_CHANGE,
    REMARK_ORDER_UUID,
)

NSMAP = {None: OPENTRANS_NS, "bmecat": BMECAT_NS}
_NS = {"ot": OPENTRANS_NS, "bmecat": BMECAT_NS}
SUPPLIER_ID = "egger-sandbox"


class NotAnOrder(ValueError):
    pass


def read_order(body):
    """``{"order_id", "order_uuid", "buyer_id", "items", "notes"}`` of an openTRANS ``ORDER``."""
    return _read(body, "ORDER")


def read_orderchange(body):
    """An ``ORDERCHANGE``: the fields of :func:`read_order` plus ``sequence``, ``key``,
    ``reason`` and ``cancellation`` (whether it cancels the whole order)."""
    return _read(body, "ORDERCHANGE")


def document_kind(body):
    """``ORDER``, ``ORDERCHANGE``, … of an openTRANS body, or "" when it is none."""
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError:
        return ""
    qname = etree.QName(root)
    return qname.localname if qname.namespace == OPENTRANS_NS else ""


def _parser():
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _read(body, kind):
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as exc:
        raise NotAnOrder(f"not XML: {exc}") from exc
    if root.tag != f"{{{OPENTRANS_NS}}}{kind}":
        raise NotAnOrder(f"not an openTRANS 2.1 {kind}")
    info = root.find(f"ot:{kind}_HEADER/ot:{kind}_INFO", _NS)
    order_id = (info.findtext("ot:ORDER_ID", "", _NS) if info is not None else "").strip()
    if not order_id:
        raise NotAnOrder("ORDER_ID missing")
    remarks = {}
    for remark in info.iterfind("ot:REMARKS", _NS):
        remarks.setdefault(remark.get("type"), (remark.text or "").strip())
    buyer = (info.findtext("ot:ORDER_PARTIES_REFERENCE/bmecat:BUYER_IDREF", "", _NS) or "").strip()
    list_tag = "ORDER_ITEM_LIST" if kind == "ORDER" else "ORDERCHANGE_ITEM_LIST"
    items = len(root.findall(f"ot:{list_tag}/ot:ORDER_ITEM", _NS))
    read = {
        "order_id": order_id,
        "order_uuid": remarks.get(REMARK_ORDER_UUID, ""),
        "buyer_id": buyer,
        "items": items,
        "notes": remarks.get("general", ""),
    }
    if kind == "ORDERCHANGE":
        read.update(
            sequence=(info.findtext("ot:ORDERCHANGE_SEQUENCE_ID", "", _NS) or "").strip(),
            key=remarks.get(REMARK_CANCELLATION_KEY, ""),
            reason=remarks.get(REMARK_CANCELLATION_REASON, ""),
            cancellation=remarks.get(REMARK_ORDER_CHANGE, "") == ORDER_CHANGE_CANCELLATION,
        )
    return read


def _add(parent, tag, text=None, **attrs):
    namespace, _sep, name = tag.rpartition(":")
    qualified = f"{{{BMECAT_NS if namespace == 'bmecat' else OPENTRANS_NS}}}{name}"
    element = etree.SubElement(parent, qualified, attrs)
    if text is not None:
        element.text = str(text)
    return element


def _now():
    return datetime.now(timezone.utc).replace(microsecond=0)


def _party(parties, party_id, role, name):
    party = _add(parties, "PARTY")
    _add(party, "bmecat:PARTY_ID", party_id, type="supplier_specific")
    _add(party, "PARTY_ROLE", role)
    address = _add(party, "ADDRESS")
    _add(address, "bmecat:NAME", name)


def _item(item, number, quantity="1"):
    """The common head of an answer's line: number, product, one piece (0: cancelled)."""
    _add(item, "LINE_ITEM_ID", number)
    product = _add(item, "PRODUCT_ID")
    _add(product, "bmecat:SUPPLIER_PID", f"OTO-{number}", type="supplier_specific")
    _add(product, "bmecat:DESCRIPTION_SHORT", "Otoplastik")
    _add(item, "QUANTITY", quantity)
    _add(item, "bmecat:ORDER_UNIT", "C62")
    return item


def orderresponse(order, supplier_order_id, *, now=None, delivery_days=7, sequence="", remarks=(), quantity="1"):
    """The order confirmation of ``order`` (a :func:`read_order` dict) as UTF-8 bytes.

    ``sequence`` (an ``ORDERCHANGE_SEQUENCE_ID``) makes it the answer to a change;
    ``remarks`` are further ``(type, text)`` remarks (cancellation answer, question, status).
    """
    now = now or _now()
    root = etree.Element(f"{{{OPENTRANS_NS}}}ORDERRESPONSE", nsmap=NSMAP, version="2.1")
    info = _add(_add(root, "ORDERRESPONSE_HEADER"), "ORDERRESPONSE_INFO")
    _add(info, "ORDER_ID", order["order_id"])
    _add(info, "ORDERRESPONSE_DATE", now.isoformat())
    _add(info, "SUPPLIER_ORDER_ID", supplier_order_id)
    if sequence:
        _add(info, "ORDERCHANGE_SEQUENCE_ID", sequence)
    if delivery_days is not None:
        delivery = _add(info, "DELIVERY_DATE")
        day = (now + timedelta(days=delivery_days)).date().isoformat()
        _add(delivery, "DELIVERY_START_DATE", day)
        _add(delivery, "DELIVERY_END_DATE", day)
    parties = _add(info, "PARTIES")
    _party(parties, order["buyer_id"] or "buyer", "buyer", "Kunde")
    _party(parties, SUPPLIER_ID, "supplier", "egger Sandbox")
    references = _add(info, "ORDER_PARTIES_REFERENCE")
    _add(references, "bmecat:BUYER_IDREF", order["buyer_id"] or "buyer", type="supplier_specific")
    _add(references, "bmecat:SUPPLIER_IDREF", SUPPLIER_ID, type="supplier_specific")
    if order["order_uuid"]:
        _add(info, "REMARKS", order["order_uuid"], type=REMARK_ORDER_UUID)
    for remark_type, text in remarks:
        if text:
            _add(info, "REMARKS", text, type=remark_type)
    items = _add(root, "ORDERRESPONSE_ITEM_LIST")
    for number in range(1, max(order["items"], 1) + 1):
        _item(_add(items, "ORDERRESPONSE_ITEM"), number, quantity)
    _add(_add(root, "ORDERRESPONSE_SUMMARY"), "TOTAL_ITEM_NUM", order["items"])
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def cancellation_answer(change, supplier_order_id, *, accepted, reason="", now=None):
    """The ``ORDERRESPONSE`` answering an ``ORDERCHANGE`` (a :func:`read_orderchange` dict)."""
    return orderresponse(
        change,
        supplier_order_id,
        now=now,
        delivery_days=None,
        sequence=change["sequence"] or "1",
        remarks=((REMARK_CANCELLATION, "accepted" if accepted else "refused"), (REMARK_CANCELLATION_REASON, reason)),
        quantity="0" if accepted else "1",
    )


def question(order, supplier_order_id, text, question_id, *, now=None):
    """An ``ORDERRESPONSE`` that puts ``order`` on hold with a question (Rückfrage)."""
    return orderresponse(
        order,
        supplier_order_id,
        now=now,
        delivery_days=None,
        remarks=((REMARK_LAB_QUESTION, text), (REMARK_LAB_QUESTION_ID, question_id)),
    )


def resumed(order, supplier_order_id, *, now=None):
    """An ``ORDERRESPONSE`` saying the order is in production again (after an answer)."""
    return orderresponse(order, supplier_order_id, now=now, remarks=((REMARK_LAB_STATUS, "in_production"),))


def dispatchnotification(order, supplier_order_id, shipment_id, *, now=None):
    """The shipping notice of ``order`` with tracking number ``shipment_id``."""
    now = now or _now()
    buyer = order["buyer_id"] or "buyer"
    root = etree.Element(f"{{{OPENTRANS_NS}}}DISPATCHNOTIFICATION", nsmap=NSMAP, version="2.1")
    info = _add(_add(root, "DISPATCHNOTIFICATION_HEADER"), "DISPATCHNOTIFICATION_INFO")
    _add(info, "DISPATCHNOTIFICATION_ID", f"LA-{supplier_order_id}")
    _add(info, "DISPATCHNOTIFICATION_DATE", now.isoformat())
    parties = _add(info, "PARTIES")
    _party(parties, buyer, "buyer", "Kunde")
    _party(parties, buyer, "delivery", "Kunde")
    _party(parties, SUPPLIER_ID, "supplier", "egger Sandbox")
    _add(info, "bmecat:SUPPLIER_IDREF", SUPPLIER_ID, type="supplier_specific")
    _add(info, "bmecat:BUYER_IDREF", buyer, type="supplier_specific")
    _add(_add(info, "SHIPMENT_PARTIES_REFERENCE"), "DELIVERY_IDREF", buyer, type="supplier_specific")
    _add(info, "SHIPMENT_ID", shipment_id)
    items = _add(root, "DISPATCHNOTIFICATION_ITEM_LIST")
    count = max(order["items"], 1)
    for number in range(1, count + 1):
        item = _item(_add(items, "DISPATCHNOTIFICATION_ITEM"), number)
        reference = _add(item, "ORDER_REFERENCE")
        _add(reference, "ORDER_ID", order["order_id"])
        _add(reference, "LINE_ITEM_ID", number)
        supplier_reference = _add(item, "SUPPLIER_ORDER_REFERENCE")
        _add(supplier_reference, "SUPPLIER_ORDER_ID", supplier_order_id)
        _add(supplier_reference, "SUPPLIER_ORDER_ITEM_ID", number)
        _add(_add(item, "SHIPMENT_PARTIES_REFERENCE"), "DELIVERY_IDREF", buyer, type="supplier_specific")
    _add(_add(root, "DISPATCHNOTIFICATION_SUMMARY"), "TOTAL_ITEM_NUM", count)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
