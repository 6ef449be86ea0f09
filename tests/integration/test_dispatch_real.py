"""Orders travel for real: test process → Redis → Celery worker subprocess → SMTP lab.

Each test starts its own worker against pytest-django's PostgreSQL test database and an
aiosmtpd lab on 127.0.0.1; nothing of our own is patched.
"""

import io

import pytest
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


def test_email_order_is_sent_by_the_worker_with_the_pdf(start_worker, smtp_lab, transaction_obj, dreve, dreve_supplier, alice):
    start_worker(email_url=smtp_lab.url)

    order = place(transaction_obj, dreve_supplier, alice)

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
