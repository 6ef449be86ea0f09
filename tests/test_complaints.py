"""The complaint as a case (issue [7]): reasons per chain, raising with validation and the
free-remake proposal, the remake order linked both ways, decision with cost bearer, events."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from otoorder.complaints import services, window
from otoorder.complaints.choices import ComplaintStatus, CostBearer, Outcome, ReasonCategory
from otoorder.complaints.models import Complaint, ComplaintReason
from otoorder.orders.choices import OrderType
from otoorder.orders.event_texts import event_text
from otoorder.orders.lifecycle import InvalidTransition
from tests import factories as f
from tests.complaint_fixtures import JPEG, PNG, delivered, delivered_order  # noqa: F401
from tests.lifecycle_fixtures import dreve_template, dreve_txn, ordered_order  # noqa: F401

pytestmark = pytest.mark.django_db


def codes(order):
    return [event.data.get("code") for event in order.events.order_by("created_at", "pk")]


def test_every_chain_has_the_standard_reasons(chain):
    reasons = ComplaintReason.objects.filter(chain=chain)
    assert {r.code: r.category for r in reasons} == {
        "fit_pressure": ReasonCategory.FIT,
        "feedback": ReasonCategory.FIT,
        "retention": ReasonCategory.FIT,
        "material_breakage": ReasonCategory.MATERIAL,
        "wrong_execution": ReasonCategory.MATERIAL,
        "loss": ReasonCategory.MATERIAL,
    }
    assert reasons.get(code="fit_pressure").label == "passt nicht / drückt"


def test_raise_records_the_case_photos_and_an_event(delivered_order, alice):
    photos = [SimpleUploadedFile("a.png", PNG, "image/png"), SimpleUploadedFile("b.jpg", JPEG, "image/jpeg")]
    complaint = services.raise_complaint(
        delivered_order, user=alice, sides=["left", "right"], reason="feedback", description="pfeift",
        return_old_mould=True, uploads=photos,
    )
    assert complaint.sides == ["right", "left"]
    assert complaint.status == ComplaintStatus.OPEN
    assert complaint.free_remake is True
    assert complaint.free_remake_until == timezone.localdate(delivered_order.received_at) + timedelta(days=90)
    assert [p.content_type for p in complaint.photos.all()] == ["image/png", "image/jpeg"]
    assert complaint.remake_order is None
    assert codes(delivered_order)[-1] == "complaint_raised"
    event = delivered_order.events.order_by("-created_at").first()
    assert event_text(event) == "Reklamation erfasst (rechts, links): Rückkopplung."


@pytest.mark.parametrize(
    "sides, reason, message_field",
    [([], "feedback", "sides"), (["middle"], "feedback", "sides"), (["right"], "nonsense", "reason")],
)
def test_invalid_input_is_refused_in_german(delivered_order, alice, sides, reason, message_field):
    with pytest.raises(ValidationError) as exc:
        services.raise_complaint(delivered_order, user=alice, sides=sides, reason=reason)
    assert message_field in exc.value.message_dict
    assert not Complaint.objects.exists()


def test_a_side_the_order_does_not_hold_is_refused(dreve_txn, dreve_supplier, alice):
    order = ordered_order(dreve_txn, dreve_supplier, alice, items=[f.bte_item("right")])
    from otoorder.orders import lifecycle

    order = lifecycle.receive(order, user=alice, without_serial=("right",))
    with pytest.raises(ValidationError) as exc:
        services.raise_complaint(order, user=alice, sides=["left"], reason="feedback")
    assert "Ohr" in exc.value.message_dict["sides"][0]


def test_photos_are_checked_by_content(delivered_order, alice):
    fake = SimpleUploadedFile("photo.jpg", b"%PDF-1.4 not a photo", "image/jpeg")
    with pytest.raises(ValidationError) as exc:
        services.raise_complaint(delivered_order, user=alice, sides=["right"], reason="feedback", uploads=[fake])
    assert exc.value.message_dict["photos"] == ["Als Foto sind nur JPEG- und PNG-Dateien erlaubt."]


def test_an_inactive_reason_or_another_chains_reason_is_refused(delivered_order, alice):
    ComplaintReason.objects.filter(code="loss").update(active=False)
    other = f.ChainFactory(name="Andere Kette")
    foreign = ComplaintReason.objects.get(chain=other, code="feedback")
    for reason in ("loss", foreign):
        with pytest.raises(ValidationError):
            services.raise_complaint(delivered_order, user=alice, sides=["right"], reason=reason)


def test_an_order_not_delivered_cannot_be_complained(dreve_txn, dreve_supplier, alice):
    order = ordered_order(dreve_txn, dreve_supplier, alice)
    with pytest.raises(InvalidTransition):
        services.raise_complaint(order, user=alice, sides=["right"], reason="feedback")


def test_the_window_inside_at_its_last_day_and_outside(dreve_txn, dreve_supplier, alice):
    order = delivered(dreve_txn, dreve_supplier, alice, days_ago=0)
    received = timezone.localdate(order.received_at)
    last = received + timedelta(days=90)
    assert window.proposal(order, ReasonCategory.FIT, today=last).free is True
    assert window.proposal(order, ReasonCategory.FIT, today=last + timedelta(days=1)).free is False
    material = window.proposal(order, ReasonCategory.MATERIAL, today=last + timedelta(days=1))
    assert material.free is True and material.until.year == received.year + 1


def test_outside_the_window_no_free_remake_is_proposed(dreve_txn, dreve_supplier, alice):
    order = delivered(dreve_txn, dreve_supplier, alice, days_ago=120)
    complaint = services.raise_complaint(order, user=alice, sides=["right"], reason="fit_pressure")
    assert complaint.free_remake is False


def test_the_remake_order_is_linked_both_ways(delivered_order, alice):
    complaint = services.raise_complaint(
        delivered_order, user=alice, sides=["left"], reason="fit_pressure", description="drückt", create_remake=True
    )
    remake = complaint.remake_order
    assert remake.order_type == OrderType.REMAKE
    assert remake.original_order == delivered_order
    assert remake.reason == "passt nicht / drückt: drückt"
    assert (remake.reason_code, remake.reason_category) == ("fit_pressure", "fit")
    assert list(remake.items.values_list("side", flat=True)) == ["left"]
    assert complaint.status == ComplaintStatus.REPORTED
    assert list(delivered_order.follow_ups.all()) == [remake]
    assert codes(delivered_order)[-2:] == ["complaint_raised", "complaint_remake_ordered"]


def test_decide_records_the_cost_bearer_and_amount_then_close(delivered_order, alice):
    complaint = services.raise_complaint(delivered_order, user=alice, sides=["right"], reason="loss")
    services.report(complaint, user=alice)
    complaint = services.decide(
        complaint, user=alice, outcome=Outcome.CHARGED_REMAKE, cost_bearer=CostBearer.CUSTOMER, amount="45,50"
    )
    complaint.refresh_from_db()
    assert (complaint.status, complaint.cost_bearer, complaint.amount) == (
        ComplaintStatus.DECIDED, CostBearer.CUSTOMER, Decimal("45.50"),
    )
    event = delivered_order.events.order_by("-created_at").first()
    assert event_text(event) == (
        "Entscheidung des Labors zur Reklamation: kostenpflichtige Nachfertigung, Kosten trägt: Kunde, Betrag 45,50 EUR."
    )
    services.close(complaint, user=alice)
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.DONE
    assert codes(delivered_order)[-4:] == ["complaint_raised", "complaint_reported", "complaint_decided", "complaint_closed"]
    with pytest.raises(InvalidTransition):
        services.decide(complaint, user=alice, outcome=Outcome.CREDIT, cost_bearer=CostBearer.LAB)


@pytest.mark.parametrize("amount", ["abc", "-1", "1e9", "NaN"])
def test_decide_refuses_a_bad_amount(delivered_order, alice, amount):
    complaint = services.raise_complaint(delivered_order, user=alice, sides=["right"], reason="loss")
    with pytest.raises(ValidationError) as exc:
        services.decide(complaint, user=alice, outcome="credit", cost_bearer="lab", amount=amount)
    assert "amount" in exc.value.message_dict


def test_complaints_are_scoped_to_the_branch(delivered_order, alice, bob, dave):
    services.raise_complaint(delivered_order, user=alice, sides=["right"], reason="loss")
    assert Complaint.objects.visible_to(alice).count() == 1
    assert Complaint.objects.visible_to(bob).count() == 0
    assert Complaint.objects.visible_to(dave).count() == 1
