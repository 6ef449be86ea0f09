"""Live status of the order page, the order list and the customer page (otoorder/orders/live.py).

A page that shows an open order polls its own URL with ``?live=<version>``: 304 and one query
of ours while nothing changed, 200 with the page's content region when something did; other
branches get 404 as for the page; the number of queries of a check does not grow with the
order's history or the list's length.
"""

import html
import re

import pytest
from django.urls import reverse

from otoorder.backends.labstatus import StatusUpdate
from otoorder.orders import lifecycle
from otoorder.orders.choices import EventSource, OrderStatus
from otoorder.orders.lab_updates import apply_status_update
from otoorder.orders.models import OrderEvent
from tests import factories as f
from tests.lifecycle_fixtures import client_alice, client_bob, dreve_template, dreve_txn, ordered_order, walk  # noqa: F401

pytestmark = pytest.mark.django_db

#: A check's queries: the session and the user of the login, and the one of the live status.
LOGIN_QUERIES = 2
CHECK_QUERIES = LOGIN_QUERIES + 1

LIVE_URL = re.compile(r'id="live-region" hx-get="([^"]+)" hx-trigger="every (\d+)ms, live-check"')


def live_url(response):
    """The status check URL of a rendered page or region (``None`` when it does not poll)."""
    text = response.content.decode()
    assert 'id="live-region"' in text
    match = LIVE_URL.search(text)
    return html.unescape(match.group(1)) if match else None


def order_url(order):
    return reverse("orders:order_detail", kwargs={"pk": order.pk})


def customer_url(customer):
    return reverse("transactions:customer_detail", kwargs={"pk": customer.pk})


def lab_reports(order, status, **fields):
    assert apply_status_update(order, StatusUpdate(status=status, external_status=status, **fields))


@pytest.fixture
def order(dreve_txn, dreve_supplier, alice):
    return ordered_order(dreve_txn, dreve_supplier, alice)


# --- the order page --------------------------------------------------------------------------


def test_order_page_check_answers_304_until_the_lab_reports(client_alice, order, django_assert_num_queries):
    page = client_alice.get(order_url(order))
    check = live_url(page)
    assert check.startswith(f"{order_url(order)}?live=") and 'id="live-hint"' in page.text
    assert "{#" not in page.text and "#}" not in page.text  # no template comment leaks

    with django_assert_num_queries(CHECK_QUERIES):
        unchanged = client_alice.get(check)
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert "no-store" in unchanged["Cache-Control"]

    lab_reports(order, OrderStatus.CONFIRMED, external_reference="LAB-4711")
    changed = client_alice.get(check)
    assert changed.status_code == 200 and "no-store" in changed["Cache-Control"]
    text = changed.content.decode()
    assert text.lstrip().startswith('<div id="live-region"') and "<html" not in text
    assert 'data-status="confirmed"' in text and "LAB-4711" in text
    assert 'id="lifecycle-area"' in text and 'id="order-history"' in text  # the whole region
    new_check = live_url(changed)
    assert new_check != check
    assert client_alice.get(new_check).status_code == 304


def test_shipment_brings_tracking_and_the_goods_receipt_form(client_alice, order):
    check = live_url(client_alice.get(order_url(order)))
    lab_reports(order, OrderStatus.SHIPPED, tracking_number="00340434161094042557", data={"carrier": "DHL"})
    region = client_alice.get(check)
    assert region.status_code == 200
    assert 'data-status="shipped"' in region.text
    assert re.search(r'<a href="https://www\.dhl\.de/[^"]*00340434161094042557"', region.text)
    assert 'id="receive-order"' in region.text


def test_an_event_alone_changes_the_version(client_alice, order):
    """A history line written without saving the order (a lab's unknown status word) shows too."""
    check = live_url(client_alice.get(order_url(order)))
    OrderEvent.objects.create(order=order, source=EventSource.LAB, message="Statusmeldung des Labors: Kleber trocknet")
    region = client_alice.get(check)
    assert region.status_code == 200 and "Kleber trocknet" in region.text


@pytest.mark.parametrize("events", [1, 40])
def test_order_check_queries_do_not_grow_with_the_history(client_alice, order, events, django_assert_num_queries):
    for index in range(events):
        OrderEvent.objects.create(order=order, source=EventSource.LAB, message=f"Meldung {index}")
    check = live_url(client_alice.get(order_url(order)))
    with django_assert_num_queries(CHECK_QUERIES):
        assert client_alice.get(check).status_code == 304


def test_a_settled_order_does_not_poll_and_the_last_answer_stops_polling(client_alice, order, alice):
    check = live_url(client_alice.get(order_url(order)))
    walk(order, OrderStatus.SHIPPED)
    lifecycle.receive(order, user=alice, without_serial=["right", "left"])
    region = client_alice.get(check)
    assert region.status_code == 200 and 'data-status="received"' in region.text
    assert live_url(region) is None and "hx-get" not in region.text.split(">", 1)[0]
    page = client_alice.get(order_url(order))
    assert live_url(page) is None and 'id="live-hint"' not in page.text


def test_in_flight_orders_poll_at_their_own_interval(client_alice, dreve_txn, dreve_supplier, alice, settings):
    from otoorder.orders.services import place_order

    settings.OTOORDER_LIVE = {"INTERVAL": 7, "IN_FLIGHT_INTERVAL": 1.5, "HIDDEN_INTERVAL": 90}
    queued = place_order(
        transaction_obj=dreve_txn, company=dreve_supplier.company, supplier=dreve_supplier,
        items=[f.bte_item("right")], user=alice,
    )
    text = client_alice.get(order_url(queued)).text
    assert 'hx-trigger="every 1500ms, live-check"' in text and 'data-live-hidden-ms="90000"' in text
    walk(queued, OrderStatus.SENDING, OrderStatus.ORDERED)
    assert 'hx-trigger="every 7000ms, live-check"' in client_alice.get(order_url(queued)).text


@pytest.mark.parametrize("value", ["", "x", "0" * 21, "ä" * 5000, "<script>"])
def test_any_version_that_is_not_the_current_one_gets_the_region(client_alice, order, value):
    response = client_alice.get(order_url(order), {"live": value})
    assert response.status_code == 200 and 'id="live-region"' in response.text
    assert "<script>" not in response.text


def test_other_branches_get_404_for_the_check(client_alice, client, bob, order):
    check = live_url(client_alice.get(order_url(order)))
    client.force_login(bob)
    assert client.get(check).status_code == 404
    assert client.get(order_url(order), {"live": "0"}).status_code == 404
    assert client.get(customer_url(order.customer), {"live": "0"}).status_code == 404
    client.logout()
    anonymous = client.get(check)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]


# --- the order list --------------------------------------------------------------------------


def test_order_list_check(client_alice, order, dreve_txn, dreve_supplier, alice, django_assert_num_queries):
    list_url = reverse("orders:order_list")
    check = live_url(client_alice.get(list_url))
    assert check.startswith(f"{list_url}?") and "page=1" in check
    with django_assert_num_queries(CHECK_QUERIES):
        assert client_alice.get(check).status_code == 304

    lab_reports(order, OrderStatus.CONFIRMED)
    region = client_alice.get(check)
    assert region.status_code == 200 and 'data-status="confirmed"' in region.text and order.number in region.text
    check = live_url(region)
    assert client_alice.get(check).status_code == 304

    newer = ordered_order(dreve_txn, dreve_supplier, alice)  # a colleague's new order joins the page
    region = client_alice.get(check)
    assert region.status_code == 200 and newer.number in region.text


def test_order_list_check_keeps_the_filter_and_queries_stay_constant(
    client_alice, order, dreve_txn, dreve_supplier, alice, django_assert_num_queries
):
    for _ in range(12):
        ordered_order(dreve_txn, dreve_supplier, alice)
    check = live_url(client_alice.get(reverse("orders:order_list"), {"status": "ordered"}))
    assert "status=ordered" in check
    with django_assert_num_queries(CHECK_QUERIES):
        assert client_alice.get(check).status_code == 304
    lab_reports(order, OrderStatus.CONFIRMED)  # leaves the filter
    region = client_alice.get(check)
    assert region.status_code == 200 and order.number not in region.text


def test_order_list_without_open_orders_does_not_poll(client_alice, order, alice):
    walk(order, OrderStatus.SHIPPED)
    lifecycle.receive(order, user=alice, without_serial=["right", "left"])
    assert live_url(client_alice.get(reverse("orders:order_list"))) is None


def test_order_list_check_shows_no_other_branch(client, bob, order):
    client.force_login(bob)
    response = client.get(reverse("orders:order_list"), {"live": "0"})
    assert response.status_code == 200 and order.number not in response.text


@pytest.mark.parametrize("page", ["0", "-3", "abc", "9" * 40, "2"])
def test_order_list_check_with_any_page_answers(client_alice, order, page):
    response = client_alice.get(reverse("orders:order_list"), {"page": page, "live": "0"})
    assert response.status_code == 200 and order.number in response.text


# --- the customer page -----------------------------------------------------------------------


def test_customer_page_check(client_alice, order, customer, django_assert_num_queries):
    check = live_url(client_alice.get(customer_url(customer)))
    assert check.startswith(f"{customer_url(customer)}?live=")
    with django_assert_num_queries(CHECK_QUERIES):
        assert client_alice.get(check).status_code == 304
    lab_reports(order, OrderStatus.SHIPPED, tracking_number="00340434161094042557")
    region = client_alice.get(check)
    assert region.status_code == 200
    assert 'id="ear-history"' in region.text and 'data-status="shipped"' in region.text
    assert client_alice.get(live_url(region)).status_code == 304


@pytest.mark.parametrize("orders", [1, 20])
def test_customer_check_queries_do_not_grow(client_alice, customer, dreve_txn, dreve_supplier, alice, orders, django_assert_num_queries):
    for _ in range(orders):
        ordered_order(dreve_txn, dreve_supplier, alice)
    check = live_url(client_alice.get(customer_url(customer)))
    with django_assert_num_queries(CHECK_QUERIES):
        assert client_alice.get(check).status_code == 304


def test_customer_without_open_orders_does_not_poll(client_alice, customer):
    page = client_alice.get(customer_url(customer))
    assert page.status_code == 200 and live_url(page) is None
    # A check for a visible customer without orders answers, and does not start polling.
    region = client_alice.get(customer_url(customer), {"live": "0"})
    assert region.status_code == 200 and live_url(region) is None


def test_order_list_check_keeps_every_filter_and_no_link_carries_the_version(client_alice, order):
    # Part of the number: the whole number would open the order (as a scanned label does).
    query = {"q": order.number[1:], "status": "ordered", "overdue": "", "needs_attention": ""}
    check = live_url(client_alice.get(reverse("orders:order_list"), query))
    assert f"q={order.number[1:]}" in check and "status=ordered" in check
    region = client_alice.get(check)
    assert region.status_code == 304
    region = client_alice.get(check.replace("live=", "live=0"))
    assert region.status_code == 200 and order.number in region.text
    assert "live" not in region.context["filter_query"] and f"q={order.number[1:]}" in region.context["filter_query"]


def test_a_lab_question_arrives_and_is_read_only_where_seen(client_alice, order):
    """The message panel follows like every panel; a check from a hidden tab brings it without
    marking the lab's question read, a visible one marks it read as opening the page does."""
    from otoorder.orders.models import OrderMessage

    check = live_url(client_alice.get(order_url(order)))
    lab_reports(order, OrderStatus.ON_HOLD, lab_text="Bitte die Abformung links prüfen.")
    hidden = client_alice.get(check, headers={"X-Otoorder-Tab": "hidden"})
    assert hidden.status_code == 200
    assert 'id="messages-panel"' in hidden.text and "Bitte die Abformung links prüfen." in hidden.text
    question = OrderMessage.objects.get(order=order)
    assert question.read_at is None
    visible = client_alice.get(check, headers={"X-Otoorder-Tab": "visible"})
    assert visible.status_code == 200
    question.refresh_from_db()
    assert question.read_at is not None
