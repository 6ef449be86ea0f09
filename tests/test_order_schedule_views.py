"""ETA, overdue, at risk and tracking links on the order page and in the order lists; the staff
order list's filters (open, overdue, needs attention, supplier, search)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from otoorder.orders import services
from otoorder.orders.choices import OrderStatus
from otoorder.orders.models import EarmouldOrder
from tests import factories as f
from tests.factories import bte_item

pytestmark = pytest.mark.django_db
S = OrderStatus
DAY = timedelta(days=1)


@pytest.fixture
def client_alice(client, alice):
    client.force_login(alice)
    return client


def make(txn, supplier, user, **fields):
    order = services.place_order(
        transaction_obj=txn, company=supplier.company, supplier=supplier, items=[bte_item()], user=user
    )
    if fields:
        EarmouldOrder.objects.filter(pk=order.pk).update(**fields)
        order.refresh_from_db()
    return order


@pytest.fixture
def today():
    return timezone.localdate()


def test_order_page_shows_eta_overdue_with_days_late_and_the_tracking_link(client_alice, transaction_obj, dreve_supplier, alice, today):
    dreve_supplier.carrier = "dhl"
    dreve_supplier.save()
    order = make(transaction_obj, dreve_supplier, alice, status=S.CONFIRMED, eta=today - 3 * DAY, tracking_number="00340434 1")
    html = client_alice.get(reverse("orders:order_detail", args=[order.pk])).content.decode()
    assert 'id="order-schedule"' in html
    assert (today - 3 * DAY).strftime("%d.%m.%Y") in html
    assert "Überfällig seit 3 Tagen." in html
    assert 'href="https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode=00340434%201"' in html
    assert 'rel="noopener noreferrer"' in html


def test_order_page_shows_at_risk_in_words(client_alice, transaction_obj, dreve_supplier, alice, today):
    order = make(transaction_obj, dreve_supplier, alice, status=S.ORDERED, eta=today + 9 * DAY, date_required=today + 5 * DAY)
    html = client_alice.get(reverse("orders:order_detail", args=[order.pk])).content.decode()
    assert 'id="schedule-at-risk"' in html and "Gefährdet:" in html
    assert 'id="schedule-overdue"' not in html


def test_order_page_without_eta_says_when_it_comes(client_alice, transaction_obj, dreve_supplier, alice):
    order = make(transaction_obj, dreve_supplier, alice)
    html = client_alice.get(reverse("orders:order_detail", args=[order.pk])).content.decode()
    assert "sobald die Bestellung beim Labor ist" in html
    assert "Nordrhein-Westfalen" in html


def test_the_status_panel_links_the_tracking_number(client_alice, transaction_obj, dreve_supplier, alice):
    order = make(transaction_obj, dreve_supplier, alice, status=S.SHIPPED, tracking_number="1Z999", carrier="ups")
    # The live status check of the order page (its content region with the status panel).
    html = client_alice.get(reverse("orders:order_detail", args=[order.pk]), {"live": "0"}).content.decode()
    assert 'href="https://www.ups.com/track?loc=de_DE&amp;tracknum=1Z999"' in html


def test_order_list_and_customer_page_show_schedule_and_tracking(client_alice, transaction_obj, customer, dreve_supplier, alice, today):
    make(transaction_obj, dreve_supplier, alice, status=S.ORDERED, eta=today - DAY)
    make(transaction_obj, dreve_supplier, alice, status=S.ORDERED, eta=today + 8 * DAY, date_required=today + 2 * DAY)
    make(transaction_obj, dreve_supplier, alice, status=S.SHIPPED, eta=today - DAY, tracking_number="0123", carrier="dpd")
    for url in (reverse("orders:order_list"), reverse("transactions:customer_detail", args=[customer.pk])):
        html = client_alice.get(url).content.decode()
        assert "überfällig seit 1 Tag<" in html, url
        assert 'data-schedule="at_risk"' in html and ">gefährdet<" in html, url
        assert 'href="https://tracking.dpd.de/status/de_DE/parcel/0123"' in html, url
        assert html.count('data-schedule="overdue"') == 1, url


def test_order_list_queries_do_not_grow_with_the_orders(client_alice, transaction_obj, dreve_supplier, alice, today, django_assert_max_num_queries):
    make(transaction_obj, dreve_supplier, alice, status=S.ORDERED, eta=today - DAY, tracking_number="1", carrier="dhl")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client_alice.get(reverse("orders:order_list"))
    for _ in range(6):
        make(transaction_obj, dreve_supplier, alice, status=S.ORDERED, eta=today - DAY, tracking_number="2", carrier="gls")
    with django_assert_max_num_queries(len(one.captured_queries)):
        client_alice.get(reverse("orders:order_list"))


@pytest.fixture
def orders(transaction_obj, dreve_supplier, alice, today, mitte):
    egger = f.SupplierFactory(company=f.CompanyFactory(name="Egger"))
    return {
        "late": make(transaction_obj, dreve_supplier, alice, status=S.ORDERED, eta=today - DAY, external_reference="LAB-77"),
        "failed": make(transaction_obj, dreve_supplier, alice, status=S.FAILED),
        "fine": make(transaction_obj, egger, alice, status=S.CONFIRMED, eta=today + DAY, tracking_number="TRK-5"),
        "closed": make(transaction_obj, egger, alice, status=S.CLOSED),
        "egger": egger,
    }


def listed(client, **params):
    response = client.get(reverse("orders:order_list"), params)
    assert response.status_code == 200
    return {order.pk for order in response.context["page"].object_list}


def test_order_list_filters(client_alice, orders, customer):
    o = orders
    # The worklist shows the open orders unless asked for every status.
    assert listed(client_alice) == {o["late"].pk, o["failed"].pk, o["fine"].pk}
    assert listed(client_alice, status="all") == {o["late"].pk, o["failed"].pk, o["fine"].pk, o["closed"].pk}
    assert listed(client_alice, status="open") == {o["late"].pk, o["failed"].pk, o["fine"].pk}
    assert listed(client_alice, status="closed") == {o["closed"].pk}
    assert listed(client_alice, overdue="on") == {o["late"].pk}
    assert listed(client_alice, needs_attention="on") == {o["late"].pk, o["failed"].pk}
    assert listed(client_alice, supplier=str(o["egger"].pk), status="all") == {o["fine"].pk, o["closed"].pk}
    assert listed(client_alice, supplier=str(o["egger"].pk), status="open") == {o["fine"].pk}
    assert listed(client_alice, q="lab-77") == {o["late"].pk}
    assert listed(client_alice, q="trk-5") == {o["fine"].pk}
    assert listed(client_alice, q=o["failed"].number.lower()[1:]) == {o["failed"].pk}
    assert len(listed(client_alice, q=f"mustermann {customer.customer_number}", status="all")) == 4
    assert listed(client_alice, q="erika nobody") == set()


def test_bad_filters_are_explained_and_the_others_apply(client_alice, orders):
    response = client_alice.get(reverse("orders:order_list"), {"q": "x" * 101, "status": "nonsense"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="filter-errors"' in html and "höchstens 100 Zeichen" in html and "gültige Auswahl" in html
    # Both fields are left out: the open orders, as without filters.
    assert len(response.context["page"].object_list) == 3


def test_pages_keep_the_filters(client_alice, transaction_obj, dreve_supplier, alice, today):
    for _ in range(51):
        make(transaction_obj, dreve_supplier, alice, status=S.ORDERED, eta=today - DAY)
    html = client_alice.get(reverse("orders:order_list"), {"overdue": "on", "status": "open"}).content.decode()
    assert "overdue=on&amp;status=open&amp;page=2" in html


def test_another_branchs_supplier_filter_shows_nothing_of_theirs(client, bob, orders):
    client.force_login(bob)
    assert listed(client, supplier=str(orders["egger"].pk)) == set()
    assert listed(client, q="LAB-77") == set()
