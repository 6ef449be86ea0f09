"""A complaint's remake on its way to the lab and the lab's decision coming back (issue [7]).

The order document of a remake carries the original's lab number, the reason's code and
category and the complaint (one query more than any order's document); a lab's decision,
reported with its status (``StatusUpdate.complaint_decision``), becomes an event of the remake
and, through the orders app's signal, decides the complaint with its cost bearer and amount.
"""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from otoorder.backends.labstatus import ComplaintDecision, StatusUpdate
from otoorder.complaints import services
from otoorder.complaints.choices import ComplaintStatus, CostBearer, Outcome
from otoorder.orders.choices import EventSource
from otoorder.orders.documents import build_document
from otoorder.orders.event_texts import event_text
from otoorder.orders.lab_updates import apply_status_update
from otoorder.orders.signals import lab_complaint_decision
from tests.complaint_fixtures import delivered, delivered_order  # noqa: F401
from tests.lifecycle_fixtures import TO_ORDERED, dreve_template, dreve_txn, ordered_order, walk  # noqa: F401

pytestmark = pytest.mark.django_db

FREE = ComplaintDecision(outcome="free_remake", amount="0.00", lab_text="Kostenlos im Rahmen der Gewährleistung.")
CHARGED = ComplaintDecision(outcome="charged_remake", amount="45.00", lab_text="Außerhalb der Frist: 45,00 EUR.")


def complaint_with_remake(order, user, **kwargs):
    order.external_reference = "DRV-20261120-AB12"
    order.save(update_fields=["external_reference"])
    values = dict(sides=["right"], reason="feedback", description="pfeift beim Kauen", return_old_mould=True)
    complaint = services.raise_complaint(order, user=user, create_remake=True, **values | kwargs)
    walk(complaint.remake_order, *TO_ORDERED)  # the remake reached the lab
    return complaint


def codes(order):
    return [event.data.get("code") for event in order.events.order_by("created_at", "pk")]


def test_the_remake_document_carries_the_lab_number_the_reason_code_and_the_complaint(delivered_order, alice):
    complaint = complaint_with_remake(delivered_order, alice)
    document = build_document(complaint.remake_order)
    assert document.order_type == "remake"
    assert document.original_order_number == delivered_order.number
    assert document.original_lab_reference == "DRV-20261120-AB12"
    assert (document.reason_code, document.reason_category, document.reason_category_label) == (
        "feedback",
        "fit",
        "Passform",
    )
    c = document.complaint
    assert (c.sides, c.sides_label, c.reason_code, c.reason_label) == (("right",), "rechts", "feedback", "Rückkopplung")
    assert (c.description, c.return_old_mould) == ("pfeift beim Kauen", True)
    assert c.free_remake is True and c.free_remake_until == complaint.free_remake_until
    assert c.free_remake_until > timezone.localdate()


def test_the_complaint_costs_the_document_one_query(delivered_order, alice):
    complaint = complaint_with_remake(delivered_order, alice)
    with CaptureQueriesContext(connection) as plain:
        assert build_document(delivered_order).complaint is None
    with CaptureQueriesContext(connection) as remake:
        assert build_document(complaint.remake_order).complaint is not None
    assert len(remake) <= len(plain) + 1, [q["sql"] for q in remake.captured_queries]


def test_outside_the_window_the_document_says_so(dreve_txn, dreve_supplier, alice):
    order = delivered(dreve_txn, dreve_supplier, alice, days_ago=200)
    complaint = complaint_with_remake(order, alice, return_old_mould=False)
    document = build_document(complaint.remake_order)
    assert document.complaint.free_remake is False
    assert document.complaint.return_old_mould is False
    assert document.complaint.free_remake_until < timezone.localdate()


def report(order, decision, status="confirmed", external_status="received"):
    return apply_status_update(
        order,
        StatusUpdate(status=status, external_status=external_status, external_reference="DRV-9", complaint_decision=decision),
    )


def test_a_free_remake_decided_by_the_lab_decides_the_complaint_once(delivered_order, alice):
    complaint = complaint_with_remake(delivered_order, alice)
    remake = complaint.remake_order

    assert report(remake, FREE) is True
    complaint.refresh_from_db()
    remake.refresh_from_db()
    assert complaint.status == ComplaintStatus.DECIDED and complaint.decided_at is not None
    assert (complaint.outcome, complaint.cost_bearer, complaint.amount) == (Outcome.FREE_REMAKE, CostBearer.LAB, Decimal("0.00"))
    assert (remake.cost_bearer, remake.cost_amount) == (CostBearer.LAB, Decimal("0.00"))
    event = remake.events.get(data__code="lab_complaint_decision")
    assert event.source == EventSource.LAB
    assert event.data["params"] == {
        "outcome": "free_remake",
        "amount": "0.00",
        "variant": "amount",
        "lab_text": "Kostenlos im Rahmen der Gewährleistung.",
    }
    assert event_text(event) == (
        "Entscheidung des Labors zur Reklamation dieser Nachfertigung: kostenlose Nachfertigung, Betrag 0,00 EUR. "
        "„Kostenlos im Rahmen der Gewährleistung.“"
    )
    decided = delivered_order.events.get(data__code="complaint_decided")
    assert decided.source == EventSource.LAB
    assert decided.data["params"]["cost_bearer"] == "lab"

    # Every later poll repeats the decision: the same report changes nothing, a new status
    # is applied without a second decision.
    assert report(remake, FREE) is False
    assert report(remake, FREE, status="in_production", external_status="in_production") is True
    assert codes(remake).count("lab_complaint_decision") == 1
    assert codes(delivered_order).count("complaint_decided") == 1
    remake.refresh_from_db()
    assert remake.status == "in_production"


def test_a_charged_remake_keeps_the_cost_bearer_staff_chose(dreve_txn, dreve_supplier, alice):
    order = delivered(dreve_txn, dreve_supplier, alice, days_ago=200)
    complaint = complaint_with_remake(order, alice)
    complaint.cost_bearer = CostBearer.CUSTOMER
    complaint.save(update_fields=["cost_bearer"])
    remake = complaint.remake_order

    report(remake, CHARGED)
    complaint.refresh_from_db()
    remake.refresh_from_db()
    assert (complaint.outcome, complaint.cost_bearer, complaint.amount) == (
        Outcome.CHARGED_REMAKE,
        CostBearer.CUSTOMER,
        Decimal("45.00"),
    )
    assert (remake.cost_bearer, remake.cost_amount) == (CostBearer.CUSTOMER, Decimal("45.00"))


def test_a_charged_remake_is_paid_by_the_chain_by_default(dreve_txn, dreve_supplier, alice):
    order = delivered(dreve_txn, dreve_supplier, alice, days_ago=200)
    complaint = complaint_with_remake(order, alice)
    report(complaint.remake_order, CHARGED)
    complaint.refresh_from_db()
    assert (complaint.status, complaint.cost_bearer, complaint.amount) == (
        ComplaintStatus.DECIDED,
        CostBearer.CHAIN,
        Decimal("45.00"),
    )


def test_the_hook_leaves_a_complaint_that_is_done_and_orders_without_complaint(delivered_order, alice):
    complaint = complaint_with_remake(delivered_order, alice)
    services.decide(complaint, user=alice, outcome="credit", cost_bearer="lab", amount="12.00")
    services.close(complaint, user=alice)
    remake = complaint.remake_order

    lab_complaint_decision.send(sender=type(remake), order=remake, decision=CHARGED, source=EventSource.LAB)
    complaint.refresh_from_db()
    assert (complaint.status, complaint.outcome, complaint.amount) == (ComplaintStatus.DONE, "credit", Decimal("12.00"))

    # The complained order itself is no complaint's remake: nothing to decide.
    lab_complaint_decision.send(sender=type(remake), order=delivered_order, decision=CHARGED, source=EventSource.LAB)
    assert codes(delivered_order).count("complaint_decided") == 1


def test_the_hook_decides_the_complaint_of_the_remake(delivered_order, alice):
    complaint = complaint_with_remake(delivered_order, alice)
    lab_complaint_decision.send(
        sender=type(complaint.remake_order), order=complaint.remake_order, decision=CHARGED, source=EventSource.LAB
    )
    complaint.refresh_from_db()
    assert (complaint.status, complaint.outcome, complaint.cost_bearer, complaint.amount) == (
        ComplaintStatus.DECIDED,
        Outcome.CHARGED_REMAKE,
        CostBearer.CHAIN,
        Decimal("45.00"),
    )


@pytest.mark.parametrize(
    "outcome, amount, expected",
    [
        ("free_remake", None, ComplaintDecision("free_remake")),
        ("Charged_Remake", "45", ComplaintDecision("charged_remake", "45.00")),
        ("charged_remake", "45,5", ComplaintDecision("charged_remake", "45.50")),
        ("charged_remake", "-1", ComplaintDecision("charged_remake")),
        ("charged_remake", "1e9", ComplaintDecision("charged_remake")),
        ("charged_remake", "NaN", ComplaintDecision("charged_remake")),
        ("charged_remake", True, ComplaintDecision("charged_remake")),
        ("charged_remake", {"x": 1}, ComplaintDecision("charged_remake")),
        ("maybe", "45.00", None),
        (None, "45.00", None),
        (["free_remake"], None, None),
    ],
)
def test_a_labs_decision_is_read_within_bounds(outcome, amount, expected):
    assert ComplaintDecision.read(outcome, amount) == expected


def test_a_labs_words_are_kept_bounded():
    decision = ComplaintDecision.read("rejected", None, "x" * 5000)
    assert len(decision.lab_text) == 2000
    assert ComplaintDecision.read("rejected", None, 42).lab_text == ""
