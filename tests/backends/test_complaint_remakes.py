"""A remake from a complaint in every interface's own format: the lab's number of the original
order, the reason's code and category, and the complaint (ears, description, old mould back,
our free-remake proposal). The standard PDF has a "Reklamation" section, its e-mail says so."""

import json
from dataclasses import replace
from datetime import date
from io import BytesIO

import pytest
from lxml import etree
from pypdf import PdfReader

from otoorder.backends import opentrans, portal
from otoorder.backends.audia_easy_order import order_xml
from otoorder.backends.document import ComplaintDocument
from otoorder.backends.dreve_smartorder import DreveSmartOrderBackend
from otoorder.backends.dreve_smartorder import order_body as dreve_body
from otoorder.backends.hoerluchs_partner import order_body as hoerluchs_body
from otoorder.backends.labstatus import ComplaintDecision
from otoorder.backends.otofaktur_otoport import build_order_xml
from otoorder.backends.pdf import render_order_form
from otoorder.backends.standard import StandardBackend
from tests.documents import RIGHT_BTE, order_document
from tests.labs.http_lab import Reply
from tests.schemas import opentrans_xsd

NS = {"ot": opentrans.OPENTRANS_NS}
COMPLAINT = ComplaintDocument(
    sides=("right",),
    sides_label="rechts",
    reason_code="feedback",
    reason_label="Rückkopplung",
    description="pfeift beim Kauen",
    return_old_mould=True,
    free_remake=True,
    free_remake_until=date(2027, 2, 18),
)


def remake(complaint=COMPLAINT, **overrides):
    values = dict(
        order_type="remake",
        order_type_label="Reklamation/Nachfertigung",
        items=(RIGHT_BTE,),
        original_order_number="OT-2026-000007",
        original_lab_reference="DRV-20261120-AB12",
        reason="Rückkopplung: pfeift beim Kauen",
        reason_code="feedback",
        reason_category="fit",
        reason_category_label="Passform",
        complaint=complaint,
    )
    return order_document(**values | overrides)


def test_dreve_json_carries_the_lab_number_the_code_and_the_complaint():
    body = dreve_body(remake())
    assert body["original_order_number"] == "OT-2026-000007"
    assert body["original_lab_order_number"] == "DRV-20261120-AB12"
    assert (body["reason_code"], body["reason_category"]) == ("feedback", "fit")
    assert body["complaint"] == {
        "sides": ["right"],
        "sides_label": "rechts",
        "reason_code": "feedback",
        "reason_label": "Rückkopplung",
        "description": "pfeift beim Kauen",
        "return_old_mould": True,
        "free_remake": True,
        "free_remake_until": "2027-02-18",
    }
    json.dumps(body)  # the wire format: JSON as it is
    assert dreve_body(order_document())["complaint"] is None


def test_hoerluchs_json_in_its_words():
    body = hoerluchs_body(remake(complaint=replace(COMPLAINT, free_remake=False)))
    assert body["ursprungsauftrag_labor"] == "DRV-20261120-AB12"
    assert (body["grund_code"], body["grund_kategorie"]) == ("feedback", "fit")
    assert body["reklamation"] == {
        "seiten": ["right"],
        "grund_code": "feedback",
        "grund_text": "Rückkopplung",
        "beschreibung": "pfeift beim Kauen",
        "alte_otoplastik_zurueck": True,
        "kostenlose_nachfertigung": False,
        "kostenlos_bis": "2027-02-18",
    }
    assert hoerluchs_body(order_document())["reklamation"] is None


def test_audia_easy_order_xml():
    root = etree.fromstring(order_xml(remake()))
    assert root.findtext("OriginalOrder") == "OT-2026-000007"
    assert root.findtext("OriginalLabOrderNumber") == "DRV-20261120-AB12"
    assert (root.findtext("ReasonCode"), root.findtext("ReasonCategory")) == ("feedback", "fit")
    complaint = root.find("Complaint")
    assert complaint.findtext("Sides") == "right"
    assert complaint.find("Reason").get("code") == "feedback" and complaint.findtext("Reason") == "Rückkopplung"
    assert complaint.findtext("Description") == "pfeift beim Kauen"
    assert complaint.findtext("ReturnOldMould") == "true"
    proposal = complaint.find("FreeRemakeProposed")
    assert (proposal.text, proposal.get("until")) == ("true", "2027-02-18")
    # The complaint comes before the branch, as the header fields do.
    assert [child.tag for child in root].index("Complaint") < [child.tag for child in root].index("Branch")
    assert etree.fromstring(order_xml(order_document())).find("Complaint") is None


def test_opentrans_remarks_are_valid_against_the_official_schema():
    schema = etree.XMLSchema(etree.parse(str(opentrans_xsd())))
    tree = etree.fromstring(opentrans.build_order(remake(), buyer_id="AKU-1", supplier_account="EG-4711"))
    assert schema.validate(tree), [f"{e.line}: {e.message}" for e in schema.error_log]
    remarks = {r.get("type"): r.text for r in tree.iterfind("ot:ORDER_HEADER/ot:ORDER_INFO/ot:REMARKS", NS)}
    assert remarks["originalOrder"] == "OT-2026-000007"
    assert remarks["originalLabOrder"] == "DRV-20261120-AB12"
    assert (remarks["reasonCode"], remarks["reasonCategory"]) == ("feedback", "fit")
    assert remarks["complaintSides"] == "right"
    assert remarks["complaintDescription"] == "pfeift beim Kauen"
    assert (remarks["returnOldMould"], remarks["freeRemakeProposed"]) == ("true", "true")
    assert remarks["freeRemakeUntil"] == "2027-02-18"


def test_otoport_file():
    root = etree.fromstring(build_order_xml(remake()))
    assert root.findtext("original-lab-order-number") == "DRV-20261120-AB12"
    assert (root.findtext("reason-code"), root.findtext("reason-category")) == ("feedback", "fit")
    complaint = root.find("complaint")
    assert complaint.find("sides").get("label") == "rechts"
    assert complaint.find("reason").get("code") == "feedback"
    assert complaint.findtext("return-old-mould") == "true"
    assert complaint.find("free-remake-proposed").get("until") == "2027-02-18"
    assert etree.fromstring(build_order_xml(order_document())).find("complaint") is None


def test_portal_hand_off_parameters():
    params = portal.order_params(remake())
    assert params["original_lab_order_number"] == "DRV-20261120-AB12"
    assert (params["reason_code"], params["reason_category"]) == ("feedback", "fit")
    assert params["complaint_sides"] == "right"
    assert params["complaint_reason"] == "Rückkopplung"
    assert params["complaint_description"] == "pfeift beim Kauen"
    assert params["complaint_return_old_mould"] == "true"
    assert (params["complaint_free_remake"], params["complaint_free_remake_until"]) == ("true", "2027-02-18")
    assert not any(name.startswith("complaint_") for name in portal.order_params(order_document()))


def test_command_line_order_file():
    data = json.loads(json.dumps(remake().as_dict()))
    assert data["original_lab_reference"] == "DRV-20261120-AB12"
    assert (data["reason_code"], data["reason_category"], data["reason_category_label"]) == ("feedback", "fit", "Passform")
    assert data["complaint"]["free_remake_until"] == "2027-02-18"
    assert data["complaint"]["sides"] == ["right"]
    assert order_document().as_dict()["complaint"] is None


def pdf_text(pdf):
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)


def test_standard_pdf_has_the_complaint_section_in_german():
    text = " ".join(pdf_text(render_order_form(remake())).split())
    section = text[text.index("Reklamation Reklamationsgrund") :]
    assert "Reklamationsgrund Rückkopplung (feedback)" in section
    assert "Kategorie Passform" in section
    assert "Reklamierte Seite(n) rechts" in section
    assert "Beschreibung pfeift beim Kauen" in section
    assert "Ihre Auftragsnummer der ursprünglichen Bestellung DRV-20261120-AB12" in section
    assert "Alte Otoplastik geht an Sie zurück ja" in section
    assert "bis 18.02.2027" in section
    assert section.index("Reklamationsgrund") < section.index("Ohr: rechts")


@pytest.mark.parametrize(
    "free, until, expected",
    [
        (False, date(2026, 10, 1), "nein, die Frist für kostenlose Nachfertigung endete am 01.10.2026"),
        (False, None, "nein, außerhalb der Frist für kostenlose Nachfertigung"),
    ],
)
def test_standard_pdf_outside_the_window(free, until, expected):
    complaint = replace(COMPLAINT, free_remake=free, free_remake_until=until, return_old_mould=False)
    text = " ".join(pdf_text(render_order_form(remake(complaint=complaint))).split())
    assert expected in text
    assert "Alte Otoplastik geht an Sie zurück nein" in text


def test_a_plain_order_has_no_complaint_section():
    text = pdf_text(render_order_form(order_document()))
    assert "Reklamationsgrund" not in text


def test_standard_email_body_names_the_complaint():
    payload = StandardBackend({}).build_payload(remake(supplier_order_method="email"))
    body = payload["message"].body
    assert body.startswith(
        "Reklamation: Nachfertigung (rechts) wegen „Rückkopplung“ (Grund feedback) zu Ihrem Auftrag "
        "DRV-20261120-AB12 (unsere Bestellung OT-2026-000007)."
    )
    assert "Innerhalb der Frist für kostenlose Nachfertigung (bis 18.02.2027)." in body
    assert "Die alte Otoplastik geht an Sie zurück." in body
    plain = StandardBackend({}).build_payload(order_document(supplier_order_method="email"))
    assert "Reklamation" not in plain["message"].body


# --- the lab's decision comes back with its status (Dreve's poll) -----------------------------


def dreve(lab):
    return DreveSmartOrderBackend({"endpoint_url": f"{lab.url}/api/v1", "api_key": "k"})


def test_dreve_poll_reads_the_labs_decision_on_the_complaint(http_lab):
    http_lab.script(
        Reply.json(
            {
                "order_number": "D-7",
                "status": "accepted",
                "complaint_decision": {"outcome": "charged_remake", "amount": 45, "message": "außerhalb der Frist"},
            }
        )
    )
    update = dreve(http_lab).poll_status("D-7")
    assert update.status == "confirmed"
    assert update.complaint_decision == ComplaintDecision("charged_remake", "45.00", "außerhalb der Frist")


@pytest.mark.parametrize("decision", [None, "free_remake", {"outcome": "vielleicht"}, ["free_remake"]])
def test_dreve_poll_ignores_a_decision_it_cannot_read(http_lab, decision):
    http_lab.script(Reply.json({"order_number": "D-7", "status": "accepted", "complaint_decision": decision}))
    assert dreve(http_lab).poll_status("D-7").complaint_decision is None
