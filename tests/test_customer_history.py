"""The customer's per-ear history, re-order and remake: services, views and query counts."""

import pytest
from django.urls import reverse

from otoorder.desk.views import HISTORY_STEP
from otoorder.orders import lifecycle
from otoorder.vocabulary import ImpressionKind
from otoorder.orders.models import EarmouldOrder, Impression
from otoorder.transactions.models import Transaction
from tests import factories as f
from tests.lifecycle_fixtures import client_alice, client_bob, dreve_template, dreve_txn, ordered_order  # noqa: F401

pytestmark = pytest.mark.django_db


def detail_url(customer):
    return reverse("transactions:customer_detail", kwargs={"pk": customer.pk})


def reorder_url(customer):
    return reverse("transactions:customer_reorder", kwargs={"pk": customer.pk})


@pytest.fixture
def previous(dreve_txn, dreve_supplier, alice, customer):
    """A binaural order: right BTE with a scan, left RIC with a physical impression."""
    scan = Impression.objects.create(customer=customer, side="right", kind=ImpressionKind.SCAN, reference="Scan R")
    box = Impression.objects.create(customer=customer, side="left", reference="Box L")
    items = [
        f.bte_item("right", impression=scan.pk, colour="rot", engraving="R"),
        f.ric_item("left", impression=box.pk, receiver_type="Phonak M", shore_hardness=40),
    ]
    return ordered_order(dreve_txn, dreve_supplier, alice, items=items, priority="express")


def test_last_items_skip_failed_and_cancelled_orders(previous, dreve_txn, dreve_supplier, alice):
    from otoorder.orders.services import cancel, place_order

    newer = place_order(
        transaction_obj=dreve_txn, company=dreve_supplier.company, supplier=dreve_supplier,
        items=[f.bte_item("right", colour="grün")], user=alice,
    )
    cancel(newer, user=alice)
    last = lifecycle.last_items(previous.customer)
    assert {side: item.order for side, item in last.items()} == {"right": previous, "left": previous}


def test_reorder_initial_prefills_every_field_and_reuses_the_scan(previous, customer):
    prefill = lifecycle.reorder_initial(customer, ["right", "left"])
    assert prefill["supplier"] == previous.supplier and prefill["company"] == previous.company
    assert prefill["header"] == {"order_type": "reorder_from_scan"}
    right, left = prefill["ears"]["right"], prefill["ears"]["left"]
    assert (right["colour"], right["engraving"], right["tube"], right["order"]) == ("rot", "R", "standard_2_1", True)
    assert (left["receiver_type"], left["receiver_power"], left["receiver_length"], left["shore_hardness"]) == (
        "Phonak M", "M", 2, 40
    )
    assert left["impression"] == str(previous.items.get(side="left").impression_id)
    physical_only = lifecycle.reorder_initial(customer, ["left"])
    assert physical_only["header"] == {"order_type": "new"}


def test_reorder_both_ears_in_one_post_and_one_submit(client_alice, previous, customer, dreve_supplier):
    response = client_alice.post(reorder_url(customer), {"side": "both"})
    assert response.status_code == 302
    form_url = response["Location"]
    assert form_url.startswith(reverse("transactions:follow_up_order", kwargs={"pk": customer.pk}))
    page = client_alice.get(form_url)
    # Nothing is started before the order is submitted.
    assert list(Transaction.objects.all()) == [previous.transaction]
    forms = page.context["forms"]
    assert forms.header.initial["order_type"] == "reorder_from_scan"
    assert [e.initial["order"] for e in forms.ears] == [True, True]
    # Submitting the prefilled form as the browser would: the fields' initial values.
    data = {"company": str(dreve_supplier.company.pk), "supplier": str(dreve_supplier.pk)}
    for name, field in forms.header.fields.items():
        if name not in data:
            value = forms.header[name].value()
            data[name] = "" if value is None else str(value)
    for e in forms.ears:
        for name in e.fields:
            value = e[name].value()
            if name in ("order", "extraction_cord"):
                if value:
                    data[e.add_prefix(name)] = "on"
            else:
                data[e.add_prefix(name)] = "" if value is None else str(value)
    response = client_alice.post(form_url, data)
    assert response.status_code == 302, response.context["forms"].ears[1].errors
    new = EarmouldOrder.objects.exclude(pk=previous.pk).get()
    txn = Transaction.objects.exclude(pk=previous.transaction_id).get()
    assert (new.supplier, new.order_type, new.transaction) == (previous.supplier, "reorder_from_scan", txn)
    assert new.step == txn.order_service_step and txn.template == previous.transaction.template
    old_items = {i.side: i for i in previous.items.all()}
    for item in new.items.all():
        old = old_items[item.side]
        for name in ("product_family", "style", "material", "colour", "vent_type", "vent_diameter_mm", "tube",
                     "receiver_power", "receiver_length", "receiver_type", "shore_hardness", "engraving", "impression"):
            assert getattr(item, name) == getattr(old, name), name
    # The old order is untouched: a new earmould never overwrites one.
    assert previous.items.count() == 2 and EarmouldOrder.objects.filter(pk=previous.pk, status="ordered").exists()


def test_reorder_one_ear(client_alice, previous, customer):
    response = client_alice.post(reorder_url(customer), {"side": "left"})
    forms = client_alice.get(response["Location"]).context["forms"]
    assert [bool(e.initial and e.initial.get("order")) for e in forms.ears] == [False, True]
    assert forms.header.initial["order_type"] == "new"


def test_reorder_without_earlier_earmould_is_a_message(client_alice, customer, template):
    response = client_alice.post(reorder_url(customer), {"side": "both"}, follow=True)
    assert "noch keine Otoplastik" in response.content.decode()
    assert Transaction.objects.count() == 0


def test_bob_cannot_reorder_for_mitte(client_bob, previous, customer):
    assert client_bob.post(reorder_url(customer), {"side": "both"}).status_code == 404
    assert client_bob.get(detail_url(customer)).status_code == 404


def test_remake_from_the_order_page_links_the_original(client_alice, previous):
    response = client_alice.post(reverse("orders:order_remake", kwargs={"pk": previous.pk}))
    assert "remake=" in response["Location"]
    forms = client_alice.get(response["Location"]).context["forms"]
    assert forms.header.initial["order_type"] == "remake"
    assert forms.header.initial["original_order"] == str(previous.pk)


def test_history_per_ear_newest_first_with_remake_link_and_dates(client_alice, previous, dreve_txn, dreve_supplier, alice, customer):
    lifecycle.receive(previous, user=alice, serials={"right": "SN-R-1", "left": "SN-L-1"})
    lifecycle.fit(previous, user=alice)
    remake = ordered_order(
        dreve_txn, dreve_supplier, alice, items=[f.bte_item("right")],
        order_type="remake", original_order=previous.pk, reason="pfeift",
    )
    response = client_alice.get(detail_url(customer))
    page = response.content.decode()
    right = [item.order for item in dict((s, i) for s, _t, i in response.context["history"])["right"]]
    assert right == [remake, previous]
    assert "SN-R-1" in page and "SN-L-1" in page and "pfeift" in page
    assert "Gewährleistung bis" in page and 'id="reorder-both"' in page
    assert page.index(remake.number) < page.index("SN-R-1")


def _orders(count, dreve_txn, dreve_supplier, alice):
    for index in range(count):
        order = ordered_order(dreve_txn, dreve_supplier, alice)
        if index % 2:
            lifecycle.receive(order, user=alice, serials={"right": f"R{index}"}, without_serial=["left"])


@pytest.mark.parametrize("count", [1, 50])
def test_customer_page_queries_do_not_grow_with_history(
    client_alice, dreve_txn, dreve_supplier, alice, customer, count, django_assert_max_num_queries
):
    _orders(count, dreve_txn, dreve_supplier, alice)
    # 13: the page's own 11, the bell's unread count in the navigation (notifications) and
    # the version of the live status (otoorder/orders/live.py).
    with django_assert_max_num_queries(13):
        response = client_alice.get(detail_url(customer))
    assert response.status_code == 200
    assert len(dict((s, i) for s, _t, i in response.context["history"])["left"]) == min(count, HISTORY_STEP)


def test_a_long_history_shows_the_newest_earmoulds_and_more_on_request(
    client_alice, dreve_txn, dreve_supplier, alice, customer, django_assert_max_num_queries
):
    _orders(HISTORY_STEP + 3, dreve_txn, dreve_supplier, alice)
    newest = list(customer.orders.order_by("-created_at").values_list("number", flat=True))
    response = client_alice.get(detail_url(customer))
    page = response.content.decode()
    shown = [item.order.number for item in dict((s, i) for s, _t, i in response.context["history"])["right"]]
    assert shown == newest[:HISTORY_STEP]
    assert f'href="?verlauf={2 * HISTORY_STEP}#history-right"' in page and 'id="history-more-left"' in page
    with django_assert_max_num_queries(13):
        response = client_alice.get(detail_url(customer), {"verlauf": 2 * HISTORY_STEP})
    shown = [item.order.number for item in dict((s, i) for s, _t, i in response.context["history"])["right"]]
    assert shown == newest and 'id="history-more-right"' not in response.content.decode()
    # Out of range or not a number: the first part again, never an error.
    for value in ("abc", "-5", "99999999"):
        assert client_alice.get(detail_url(customer), {"verlauf": value}).status_code == 200


def test_reorder_offers_the_newest_reorderable_earmould_beyond_the_shown_part(
    client_alice, previous, dreve_txn, dreve_supplier, alice, customer
):
    from otoorder.orders.services import cancel, place_order

    for _ in range(HISTORY_STEP + 1):
        newer = place_order(
            transaction_obj=dreve_txn, company=dreve_supplier.company, supplier=dreve_supplier,
            items=[f.bte_item("right"), f.ric_item("left")], user=alice,
        )
        cancel(newer, user=alice)
    response = client_alice.get(detail_url(customer))
    assert previous not in [item.order for _s, _t, items in response.context["history"] for item in items]
    assert {side: item.order for side, item in response.context["reorderable"].items()} == {"right": previous, "left": previous}
    assert 'id="reorder-both"' in response.content.decode()
