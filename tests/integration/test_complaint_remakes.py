"""Acceptance of issue [7]: a complaint and its remake reach an HTTP lab and the e-mail lab
with the original's lab number and the reason code, and the HTTP lab's decision comes back.

A real Celery worker subprocess (through Redis) sends both; Dreve SmartOrder is played by the
loopback HTTP lab, the standard process's e-mail lab by aiosmtpd. alice raises the complaint
through ``POST /api/v1/orders/{id}/complaints/`` with ``create_remake`` on a delivered order
whose original the lab had confirmed with its own number. Nothing of our own is patched.
"""

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from pypdf import PdfReader

from otoorder.backends.labstatus import StatusUpdate
from otoorder.complaints.models import Complaint
from otoorder.orders import lifecycle
from otoorder.orders.choices import EventSource, OrderStatus
from otoorder.orders.lab_updates import apply_status_update
from otoorder.orders.models import EarmouldOrder
from otoorder.orders.services import place_order
from otoorder.orders.tasks import poll_labs
from tests.labs.http_lab import Reply

from .conftest import both_ears, wait_for, wait_for_status
from .labkit import (
    admin_api,  # noqa: F401 - fixture
    configure,
    lab_peer,  # noqa: F401 - fixture
    lab_supplier,
    place,
    staff_api,  # noqa: F401 - fixture
    wait_for_order,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

DREVE_PATH = "/smartorder/api/v1/orders"
DREVE_ORIGINAL = "SO-2026-0042"
DREVE_REMAKE = "SO-2026-0099"
EMAIL_LAB_NUMBER = "EM-LAB-7781"
DESCRIPTION = "pfeift beim Kauen"


def deliver(order, user, days_ago=10):
    """The earmoulds arrived at the branch (Wareneingang) ``days_ago`` days ago."""
    order = EarmouldOrder.objects.get(pk=order.pk)
    return lifecycle.receive(
        order, user=user, without_serial=("right", "left"), received_at=timezone.now() - timedelta(days=days_ago)
    )


def complain(staff_api, order):
    """alice: feedback on the right ear, the old mould goes back, a remake ordered."""
    response = staff_api.post(
        f"orders/{order.pk}/complaints/",
        {"sides": ["right"], "reason": "feedback", "description": DESCRIPTION, "return_old_mould": True, "create_remake": True},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["free_remake"]["free"] is True
    return Complaint.objects.get(pk=body["id"]), body["remake_order"]["id"]


def pdf_text(message):
    (attachment,) = [part for part in message.iter_attachments() if part.get_content_type() == "application/pdf"]
    reader = PdfReader(io.BytesIO(attachment.get_content()))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def test_the_remake_reaches_the_http_lab_with_the_lab_number_and_the_reason_code_and_its_decision_comes_back(
    start_worker, smtp_lab, lab_peer, admin_api, staff_api, transaction_obj, mitte, alice
):
    start_worker(email_url=smtp_lab.url)
    supplier = lab_supplier("Dreve", mitte, "D-1001")
    configure(
        admin_api, "dreve_smartorder", supplier, {"endpoint_url": f"{lab_peer.url}/smartorder/api/v1", "api_key": "k-1"}
    )
    lab_peer.script(
        Reply.json({"order_number": DREVE_ORIGINAL, "status": "accepted"}, status=201),
        Reply.json({"order_number": DREVE_REMAKE, "status": "accepted"}, status=201),
        method="POST",
        path=DREVE_PATH,
    )
    created = place(staff_api, transaction_obj, supplier)
    wait_for_order(staff_api, created["id"], "confirmed")
    original = deliver(EarmouldOrder.objects.get(pk=created["id"]), alice)
    assert original.external_reference == DREVE_ORIGINAL

    complaint, remake_id = complain(staff_api, original)
    wait_for_order(staff_api, remake_id, "confirmed")

    first, second = (request.json() for request in lab_peer.requests_to(DREVE_PATH, "POST"))
    assert first["order_type"] == "new" and first["complaint"] is None
    assert second["order_type"] == "remake"
    assert second["original_order_number"] == original.number
    assert second["original_lab_order_number"] == DREVE_ORIGINAL
    assert (second["reason_code"], second["reason_category"]) == ("feedback", "fit")
    assert [item["side"] for item in second["items"]] == ["right"]
    assert second["complaint"] == {
        "sides": ["right"],
        "sides_label": "rechts",
        "reason_code": "feedback",
        "reason_label": "Rückkopplung",
        "description": DESCRIPTION,
        "return_old_mould": True,
        "free_remake": True,
        "free_remake_until": complaint.free_remake_until.isoformat(),
    }

    # Dreve decides with its status: a free remake under its warranty.
    lab_peer.script(
        Reply.json(
            {
                "order_number": DREVE_REMAKE,
                "status": "in_production",
                "complaint_decision": {"outcome": "free_remake", "message": "Kostenlos (Gewährleistung)."},
            }
        ),
        method="GET",
        path=f"{DREVE_PATH}/{DREVE_REMAKE}",
    )
    poll_labs.delay()
    detail = wait_for_order(staff_api, remake_id, "in_production")
    assert "lab_complaint_decision" in [event["code"] for event in detail["events"]]

    def decided():
        complaint.refresh_from_db()
        return complaint.status == "decided"

    wait_for(decided, timeout=10, message="the complaint to be decided by the lab")
    assert (complaint.outcome, complaint.cost_bearer, complaint.amount) == ("free_remake", "lab", None)
    assert EarmouldOrder.objects.get(pk=remake_id).cost_bearer == "lab"


def test_the_remake_reaches_the_email_lab_with_the_complaint_section_in_its_pdf(
    start_worker, smtp_lab, staff_api, transaction_obj, dreve_supplier, alice
):
    start_worker(email_url=smtp_lab.url)
    order = place_order(
        transaction_obj=transaction_obj, company=dreve_supplier.company, supplier=dreve_supplier, items=both_ears(), user=alice
    )
    order = wait_for_status(order, OrderStatus.ORDERED)
    # The lab's confirmation mail names its order number; staff record it.
    apply_status_update(order, StatusUpdate(status="confirmed", external_reference=EMAIL_LAB_NUMBER), source=EventSource.STAFF)
    original = deliver(order, alice)

    complaint, remake_id = complain(staff_api, original)
    remake = wait_for_status(EarmouldOrder.objects.get(pk=remake_id), OrderStatus.ORDERED)

    (message,) = [m for m in smtp_lab.accepted if str(remake.pk) in m["Message-ID"]]
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert body.startswith(
        f"Reklamation: Nachfertigung (rechts) wegen „Rückkopplung“ (Grund feedback) zu Ihrem Auftrag "
        f"{EMAIL_LAB_NUMBER} (unsere Bestellung {original.number})."
    )
    until = complaint.free_remake_until.strftime("%d.%m.%Y")
    assert f"Innerhalb der Frist für kostenlose Nachfertigung (bis {until})." in body
    assert "Die alte Otoplastik geht an Sie zurück." in body

    text = pdf_text(message)
    section = text[text.index("Reklamation Reklamationsgrund") : text.index("Ohr: rechts")]
    assert "Reklamationsgrund Rückkopplung (feedback)" in section
    assert "Kategorie Passform" in section
    assert "Reklamierte Seite(n) rechts" in section
    assert f"Beschreibung {DESCRIPTION}" in section
    assert f"Ihre Auftragsnummer der ursprünglichen Bestellung {EMAIL_LAB_NUMBER}" in section
    assert f"Unsere ursprüngliche Bestellung {original.number}" in section
    assert "Alte Otoplastik geht an Sie zurück ja" in section
    assert f"Kostenlose Nachfertigung vorgeschlagen ja, innerhalb der Frist für kostenlose Nachfertigung bis {until}" in section
    assert "Ohr: links" not in text  # only the complained ear is remade
