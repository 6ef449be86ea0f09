"""Orders travel for real: test process → Redis → Celery worker subprocess → SMTP lab.

Each test starts its own worker against pytest-django's PostgreSQL test database and an
aiosmtpd lab on 127.0.0.1; nothing of our own is patched.
"""

import io
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from pypdf import PdfReader

from otoorder.orders import services
from otoorder.orders.choices import AttemptOutcome, OrderStatus
from otoorder.orders.models import EarmouldOrder
from suppliers.models import OrderMethod
from tests import factories as f

from .conftest import SmtpLab, both_ears, free_port, wait_for, wait_for_status

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def place(transaction_obj, supplier, user, items=None):
    """Order through the standard process: no interface definition, the supplier chosen (R4)."""
    return services.place_order(
        transaction_obj=transaction_obj, company=supplier.company, supplier=supplier, items=items or both_ears(), user=user
    )


def pdf_text(message):
    (attachment,) = [part for part in message.iter_attachments() if part.get_content_type() == "application/pdf"]
    reader = PdfReader(io.BytesIO(attachment.get_content()))
    return "\n".join(page.extract_text() for page in reader.pages)


def statuses(order):
    return list(order.events.order_by("created_at", "id").values_list("to_status", flat=True))


def messages_for(lab, order):
    return [m for m in lab.accepted if str(order.pk) in m["Message-ID"]]


def api_session(live_server, username="alice"):
    """A ``requests`` session with a token from ``POST /api/v1/auth/token/``."""
    session = requests.Session()
    response = session.post(
        f"{live_server.url}/api/v1/auth/token/", json={"username": username, "password": f.PASSWORD}, timeout=10
    )
    assert response.status_code == 200, response.text
    session.headers["Authorization"] = f"Token {response.json()['token']}"
    return session


def test_order_placed_through_the_api_is_sent_by_the_worker_with_the_pdf(
    live_server, start_worker, smtp_lab, transaction_obj, dreve_supplier, alice
):
    start_worker(email_url=smtp_lab.url)
    api = api_session(live_server)

    response = api.post(
        f"{live_server.url}/api/v1/orders/",
        json={
            "transaction": str(transaction_obj.pk),
            "company": str(dreve_supplier.company_id),
            "supplier": str(dreve_supplier.pk),
            "items": both_ears(),
        },
        timeout=10,
    )

    assert response.status_code == 201, response.text
    created = response.json()
    order = EarmouldOrder.objects.get(pk=created["id"])
    wait_for_status(order, OrderStatus.ORDERED)
    (message,) = smtp_lab.accepted
    assert order.number in message["Subject"]
    assert "K-4711" in message["Subject"]
    assert str(order.pk) in message["Message-ID"]
    assert message["To"] == "bestellung@dreve.test"
    text = pdf_text(message)
    assert order.number in text
    assert "K-4711" in text
    assert "Ohr: rechts" in text and "Ohr: links" in text
    assert statuses(order) == [OrderStatus.QUEUED, OrderStatus.SENDING, OrderStatus.ORDERED]
    (attempt,) = order.attempts.all()
    assert attempt.outcome == AttemptOutcome.ORDERED
    assert order.ordered_at is not None
    # The API tells the same story.
    detail = api.get(f"{live_server.url}/api/v1/orders/{order.pk}/", timeout=10).json()
    assert detail["status"] == "ordered"
    assert [event["to_status"] for event in detail["events"]] == ["queued", "sending", "ordered"]
    assert [a["outcome"] for a in detail["attempts"]] == ["ordered"]


def test_concurrent_api_submissions_all_succeed_and_are_each_sent_once(
    live_server, start_worker, smtp_lab, transaction_obj, dreve_supplier, alice
):
    start_worker(email_url=smtp_lab.url, concurrency=2)
    # One token per user (a new login ends the previous token): eight connections share it.
    token = api_session(live_server).headers["Authorization"]
    sessions = [requests.Session() for _ in range(8)]
    for session in sessions:
        session.headers["Authorization"] = token
    body = {
        "transaction": str(transaction_obj.pk),
        "company": str(dreve_supplier.company_id),
        "supplier": str(dreve_supplier.pk),
        "items": both_ears(),
    }
    barrier = threading.Barrier(len(sessions))

    def submit(session):
        barrier.wait(timeout=10)
        return session.post(f"{live_server.url}/api/v1/orders/", json=body, timeout=20)

    with ThreadPoolExecutor(len(sessions)) as pool:
        responses = list(pool.map(submit, sessions))

    assert [r.status_code for r in responses] == [201] * len(sessions), [r.text[:200] for r in responses]
    orders = [EarmouldOrder.objects.get(pk=r.json()["id"]) for r in responses]
    assert len({order.number for order in orders}) == len(orders)
    for order in orders:
        wait_for_status(order, OrderStatus.ORDERED)
        assert len(messages_for(smtp_lab, order)) == 1
    assert len(smtp_lab.accepted) == len(orders)


def test_print_supplier_waits_for_manual_order_and_sends_no_mail(start_worker, smtp_lab, transaction_obj, mitte, alice):
    company = f.CompanyFactory(name="Labor Druckform")
    supplier = f.SupplierFactory(company=company, order_method=OrderMethod.PRINT, order_email="")
    f.SupplierAccountFactory(branch=mitte, supplier=supplier, account_number="P-100")
    start_worker(email_url=smtp_lab.url)

    order = place(transaction_obj, supplier, alice)

    wait_for_status(order, OrderStatus.AWAITING_MANUAL)
    assert smtp_lab.accepted == [] and smtp_lab.refused == []
    (attempt,) = order.attempts.all()
    assert attempt.outcome == AttemptOutcome.AWAITING_MANUAL
    assert attempt.request_summary["pdf_bytes"] > 1000


def test_transient_refusals_are_retried_until_accepted(start_worker, smtp_lab, transaction_obj, dreve, dreve_supplier, alice):
    smtp_lab.answer_next("451", "451")
    start_worker(email_url=smtp_lab.url)

    order = place(transaction_obj, dreve_supplier, alice)

    wait_for_status(order, OrderStatus.ORDERED)
    assert len(smtp_lab.refused) == 2
    assert len(messages_for(smtp_lab, order)) == len(smtp_lab.accepted) == 1
    outcomes = list(order.attempts.values_list("number", "outcome"))
    assert outcomes == [
        (1, AttemptOutcome.TRANSIENT_ERROR),
        (2, AttemptOutcome.TRANSIENT_ERROR),
        (3, AttemptOutcome.ORDERED),
    ]


def test_permanent_refusal_fails_readably_and_resend_delivers_once(
    start_worker, smtp_lab, transaction_obj, dreve, dreve_supplier, alice
):
    smtp_lab.answer_next("550")
    start_worker(email_url=smtp_lab.url)

    order = place(transaction_obj, dreve_supplier, alice)

    wait_for_status(order, OrderStatus.FAILED)
    assert "abgelehnt" in order.failure_reason and "550" in order.failure_reason
    assert smtp_lab.accepted == []
    assert order.attempts.count() == 1

    # The lab's mail system is fixed (its script is empty: it accepts); staff resend.
    services.resend(order, user=alice)

    wait_for_status(order, OrderStatus.ORDERED)
    assert len(smtp_lab.accepted) == 1
    assert str(order.pk) in smtp_lab.accepted[0]["Message-ID"]
    assert list(order.attempts.values_list("outcome", flat=True)) == [
        AttemptOutcome.PERMANENT_ERROR,
        AttemptOutcome.ORDERED,
    ]
    assert statuses(order)[-3:] == [OrderStatus.QUEUED, OrderStatus.SENDING, OrderStatus.ORDERED]


def test_smtp_server_down_then_up_delivers_once(start_worker, transaction_obj, dreve, dreve_supplier, alice):
    lab = SmtpLab(port=free_port())  # not started: nothing listens on its port yet
    start_worker(email_url=lab.url)

    order = place(transaction_obj, dreve_supplier, alice)

    wait_for(lambda: order.attempts.filter(outcome=AttemptOutcome.TRANSIENT_ERROR).exists(), message="a failed attempt")
    assert "nicht erreichbar" in order.attempts.first().error
    lab.start()
    try:
        wait_for_status(order, OrderStatus.ORDERED)
        assert len(lab.accepted) == 1
        assert order.attempts.filter(outcome=AttemptOutcome.ORDERED).count() == 1
        assert EarmouldOrder.objects.get(pk=order.pk).dispatch.state == "done"
    finally:
        lab.stop()
