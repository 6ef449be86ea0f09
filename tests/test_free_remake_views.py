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


# --- API --------------------------------------------------------------------------------------


def api(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


def test_api_order_carries_free_remake_until_per_ear(dreve_txn, dreve_supplier, alice):
    order = delivered(ordered_order(dreve_txn, dreve_supplier, alice), days_ago=0)
    today = timezone.localdate()
    body = api(alice).get(f"/api/v1/orders/{order.pk}/").json()
    until = {item["side"]: item["free_remake_until"] for item in body["items"]}
    expected = {"fit": (today + timedelta(days=90)).isoformat(), "material": today.replace(year=today.year + 1).isoformat()}
    assert until == {"right": expected, "left": expected}


def test_api_order_not_delivered_has_null_windows(dreve_txn, dreve_supplier, alice):
    order = ordered_order(dreve_txn, dreve_supplier, alice)
    body = api(alice).get(f"/api/v1/orders/{order.pk}/").json()
    assert [item["free_remake_until"] for item in body["items"]] == [{"fit": None, "material": None}] * 2


def test_api_order_detail_queries_do_not_grow_with_the_windows(dreve_txn, dreve_supplier, alice, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    undelivered = ordered_order(dreve_txn, dreve_supplier, alice)
    with CaptureQueriesContext(connection) as before:
        api(alice).get(f"/api/v1/orders/{undelivered.pk}/")
    order = delivered(ordered_order(dreve_txn, dreve_supplier, alice), days_ago=3)
    with django_assert_num_queries(len(before.captured_queries)):
        api(alice).get(f"/api/v1/orders/{order.pk}/")


def test_the_schema_declares_free_remake_until_and_warnings(alice):
    schema = api(alice).get("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]
    until = components["OrderItem"]["properties"]["free_remake_until"]
    assert until["allOf"][0]["$ref"].endswith("/FreeRemakeUntil") if "allOf" in until else until["$ref"].endswith("/FreeRemakeUntil")
    window = components["FreeRemakeUntil"]["properties"]
    assert window["fit"]["format"] == "date" and window["fit"]["nullable"] is True and "material" in window
    created = schema["paths"]["/api/v1/orders/"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    assert created["$ref"].endswith("/OrderCreated")
    assert set(components["Warning"]["properties"]) == {"code", "detail"}


def remake_payload(original, txn, items, **extra):
    return {"transaction": str(txn.pk), "company": str(original.company_id), "supplier": str(original.supplier_id),
            "order_type": "remake", "original_order": str(original.pk), "reason": "pfeift", "items": items, **extra}


def test_api_remake_inside_the_window_unchanged_has_no_warning(dreve_txn, dreve_supplier, alice):
    original = delivered(ordered_order(dreve_txn, dreve_supplier, alice, items=[f.bte_item("right")]), days_ago=90)
    response = api(alice).post("/api/v1/orders/", remake_payload(original, dreve_txn, [f.bte_item("right")]), format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["warnings"] == []


def test_api_remake_outside_the_window_or_changed_warns(dreve_txn, dreve_supplier, alice):
    original = delivered(ordered_order(dreve_txn, dreve_supplier, alice, items=[f.bte_item("right")]), days_ago=91)
    items = [f.bte_item("right", vent_type="groove")]
    response = api(alice).post("/api/v1/orders/", remake_payload(original, dreve_txn, items), format="json")
    assert response.status_code == 201, response.json()
    warnings = response.json()["warnings"]
    assert [w["code"] for w in warnings] == ["fit_window_closed", "changed"]
    assert warnings[0]["detail"].startswith("Das Labor kann diese Nachfertigung berechnen: die kostenlose Nachfertigung wegen Passform war bis ")
    assert warnings[1]["detail"] == "Das Labor kann diese Nachfertigung berechnen: rechtes Ohr geändert: Zusatzbohrung."
    english = api(alice).post(
        "/api/v1/orders/", remake_payload(original, dreve_txn, items), format="json", HTTP_ACCEPT_LANGUAGE="en"
    ).json()["warnings"]
    assert english[1]["detail"] == "The lab may charge for this remake: right ear changed: Vent."


def test_api_new_order_has_no_warnings(dreve_txn, dreve_supplier, alice):
    payload = {"transaction": str(dreve_txn.pk), "company": str(dreve_supplier.company_id),
               "supplier": str(dreve_supplier.pk), "items": [f.bte_item("right")]}
    response = api(alice).post("/api/v1/orders/", payload, format="json")
    assert response.status_code == 201 and response.json()["warnings"] == []


# --- the remake form ---------------------------------------------------------------------------


def open_remake(client, original):
    response = client.post(reverse("orders:order_remake", kwargs={"pk": original.pk}), {"reason": "pfeift"})
    assert response.status_code == 302, response.content
    return response["Location"]


def warning_of(response):
    page = response.content.decode()
    if 'id="remake-charge-warning"' not in page:
        return None
    start = page.index('id="remake-charge-warning"')
    return " ".join(page[start:page.index('type="hidden"', start)].split())


def test_remake_inside_the_window_unchanged_is_placed_without_warning(client_alice, dreve_txn, dreve_supplier, alice):
    from tests.test_follow_ups_and_receipt import submitted_values

    original = delivered(ordered_order(dreve_txn, dreve_supplier, alice), days_ago=90)
    url = open_remake(client_alice, original)
    form_page = client_alice.get(url)
    assert warning_of(form_page) is None
    placed = client_alice.post(url, submitted_values(form_page.context["forms"]))
    assert placed.status_code == 302
    assert EarmouldOrder.objects.filter(original_order=original).count() == 1


def test_a_changed_vent_warns_before_sending_and_can_still_be_placed(client_alice, dreve_txn, dreve_supplier, alice):
    from tests.test_follow_ups_and_receipt import submitted_values

    original = delivered(ordered_order(dreve_txn, dreve_supplier, alice), days_ago=10)
    url = open_remake(client_alice, original)
    forms = client_alice.get(url).context["forms"]
    data = submitted_values(forms)
    right = next(ear for ear in forms.ears if ear.prefix.endswith("right"))
    data[right.add_prefix("vent_type")] = "groove"
    held = client_alice.post(url, data)
    assert held.status_code == 200
    assert not EarmouldOrder.objects.filter(original_order=original).exists()
    text = warning_of(held)
    assert "Das Labor kann diese Nachfertigung berechnen: rechtes Ohr geändert: Zusatzbohrung." in text
    assert "Noch nicht abgeschickt" in text
    seen = held.context["charge_warning"]["key"]
    placed = client_alice.post(url, {**data, "charge_warning_seen": seen})
    assert placed.status_code == 302
    remake = EarmouldOrder.objects.get(original_order=original)
    assert remake.items.get(side="right").vent_type == "groove"


@pytest.mark.parametrize(
    "field, value, label",
    [("style", "skeleton", "Bauform"), ("material", "silicone", "Material"), ("colour", "blau", "Farbe"),
     ("vent_diameter_mm", "2.0", "Bohrung Ø")],
)
def test_each_voiding_change_warns_in_the_form(client_alice, dreve_txn, dreve_supplier, alice, field, value, label):
    from tests.test_follow_ups_and_receipt import submitted_values

    original = delivered(ordered_order(dreve_txn, dreve_supplier, alice), days_ago=10)
    url = open_remake(client_alice, original)
    forms = client_alice.get(url).context["forms"]
    data = submitted_values(forms)
    left = next(ear for ear in forms.ears if ear.prefix.endswith("left"))
    data[left.add_prefix(field)] = value
    held = client_alice.post(url, data)
    assert held.status_code == 200, held.get("Location")
    assert f"linkes Ohr geändert: {label}." in warning_of(held)


def test_closed_window_warns_when_the_form_opens_and_the_remake_is_placed(client_alice, dreve_txn, dreve_supplier, alice):
    from tests.test_follow_ups_and_receipt import submitted_values

    dreve_supplier.remake_conditions = "Nur mit alter Otoplastik"
    dreve_supplier.save()
    original = delivered(ordered_order(dreve_txn, dreve_supplier, alice), days_ago=91)
    url = open_remake(client_alice, original)
    form_page = client_alice.get(url)
    text = warning_of(form_page)
    assert f"die kostenlose Nachfertigung wegen Passform war bis {days(-1)} möglich" in text
    assert "Nur mit alter Otoplastik" in text and "Noch nicht abgeschickt" not in text
    data = {**submitted_values(form_page.context["forms"]), "charge_warning_seen": form_page.context["charge_warning"]["key"]}
    assert client_alice.post(url, data).status_code == 302
    assert EarmouldOrder.objects.filter(original_order=original).exists()


def test_a_reorder_has_no_charge_warning(client_alice, dreve_txn, dreve_supplier, alice, customer):
    delivered(ordered_order(dreve_txn, dreve_supplier, alice), days_ago=400)
    response = client_alice.post(reverse("transactions:customer_reorder", kwargs={"pk": customer.pk}), {"side": "both"})
    assert warning_of(client_alice.get(response["Location"])) is None
