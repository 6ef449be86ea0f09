"""The free-remake window where staff see it: the per-ear history, the API order and the
remake form's warning (view and API)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from otoorder.orders import lifecycle
from otoorder.orders.models import EarmouldOrder
from tests import factories as f
from tests.lifecycle_fixtures import client_alice, dreve_template, dreve_txn, ordered_order  # noqa: F401

pytestmark = pytest.mark.django_db


def delivered(order, days_ago):
    """``order`` received ``days_ago`` days before today (noon, local time)."""
    moment = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=days_ago)
    EarmouldOrder.objects.filter(pk=order.pk).update(received_at=moment, status="received")
    order.refresh_from_db()
    return order


def days(n):
    return (timezone.localdate() + timedelta(days=n)).strftime("%d.%m.%Y")


def history_text(client, customer, side):
    page = client.get(reverse("transactions:customer_detail", kwargs={"pk": customer.pk})).content.decode()
    start = page.index(f'id="history-{side}"')
    return page[start:page.index("</ol>", start)]


def test_history_shows_both_windows_until_they_close(client_alice, dreve_txn, dreve_supplier, alice, customer):
    order = delivered(ordered_order(dreve_txn, dreve_supplier, alice), days_ago=10)
    right = history_text(client_alice, customer, "right")
    assert "kostenlose Nachfertigung" in right and f"bis {days(80)} (Passform)" in right
    material_until = (order.received_at.date().replace(year=order.received_at.year + 1)).strftime("%d.%m.%Y")
    assert f"bis {material_until} (Material)" in right
    assert f"bis {days(80)} (Passform)" in history_text(client_alice, customer, "left")


def test_history_on_the_last_day_of_the_fit_window_and_after(client_alice, dreve_txn, dreve_supplier, alice, customer):
    order = delivered(ordered_order(dreve_txn, dreve_supplier, alice), days_ago=90)
    assert f"bis {days(0)} (Passform)" in history_text(client_alice, customer, "right")
    delivered(order, days_ago=91)
    right = history_text(client_alice, customer, "right")
    assert "(Passform)" not in right and "(Material)" in right


def test_history_shows_nothing_once_both_windows_closed(client_alice, dreve_txn, dreve_supplier, alice, customer):
    dreve_supplier.remake_material_months = 1
    dreve_supplier.save()
    delivered(ordered_order(dreve_txn, dreve_supplier, alice), days_ago=95)
    assert "kostenlose Nachfertigung" not in history_text(client_alice, customer, "right")


def test_history_of_an_order_not_delivered_shows_no_window(client_alice, dreve_txn, dreve_supplier, alice, customer):
    ordered_order(dreve_txn, dreve_supplier, alice)
    assert "kostenlose Nachfertigung" not in history_text(client_alice, customer, "right")


def test_history_in_english(client_alice, dreve_txn, dreve_supplier, alice, customer):
    delivered(ordered_order(dreve_txn, dreve_supplier, alice), days_ago=0)
    client_alice.cookies["django_language"] = "en"
    with translation.override("en"):
        right = history_text(client_alice, customer, "right")
    assert f"free remake until {days(90)} (fit)" in right and "(material)" in right
