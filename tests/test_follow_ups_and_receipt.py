"""Defects of the walk-through on re-orders, remakes and goods receipt:

* re-order and remake start their Vorgang only when the order is placed ("Abbrechen" leaves
  nothing behind);
* the reason typed beside "Reklamation" reaches the remake (one form per action, no id twice);
* the original order and its remake link to each other (page and API);
* goods receipt needs a serial per ear or an explicit "ohne Seriennummer"; serials can be added
  or corrected later, with an event.
"""

from collections import Counter
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from otoorder.orders import lifecycle
from otoorder.orders.choices import OrderStatus
from otoorder.orders.event_texts import TEXTS
from otoorder.orders.models import EarmouldOrder
from otoorder.transactions.models import Transaction
from tests.lifecycle_fixtures import client_alice, client_bob, dreve_template, dreve_txn, ordered_order  # noqa: F401
from tests.test_customer_history import previous, reorder_url  # noqa: F401

pytestmark = pytest.mark.django_db


def order_url(order):
    return reverse("orders:order_detail", kwargs={"pk": order.pk})


def submitted_values(forms):
    """The prefilled form as the browser submits it."""
    data = {}
    for form in (forms.header, *forms.ears):
        for name, field in form.fields.items():
            value = form[name].value()
            key = form.add_prefix(name)
            if name in ("order", "extraction_cord"):
                if value:
                    data[key] = "on"
            elif name in ("company", "supplier"):
                data[key] = str(getattr(value, "pk", value) or "")
            else:
                data[key] = "" if value is None else str(value)
    return data


class Ids(HTMLParser):
    def __init__(self, html):
        super().__init__()
        self.ids = Counter()
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id":
                self.ids[value] += 1

    def duplicates(self):
        return sorted(value for value, count in self.ids.items() if count > 1)


# --- the Vorgang of a follow-up exists only with its order -------------------------------------


def test_opening_and_cancelling_a_reorder_leaves_no_transaction(client_alice, previous, customer):
    before = set(Transaction.objects.values_list("pk", flat=True))
    form_url = client_alice.post(reorder_url(customer), {"side": "both"})["Location"]
    page = client_alice.get(form_url)
    assert page.status_code == 200
    # "Abbrechen" goes back to the customer; nothing was started.
    assert page.context["cancel_url"] == reverse("transactions:customer_detail", kwargs={"pk": customer.pk})
    assert 'id="leave-order-form"' in page.content.decode()
    assert set(Transaction.objects.values_list("pk", flat=True)) == before


def test_opening_and_cancelling_a_remake_leaves_no_transaction(client_alice, previous):
    before = Transaction.objects.count()
    response = client_alice.post(reverse("orders:order_remake", kwargs={"pk": previous.pk}), {"reason": "pfeift"})
    page = client_alice.get(response["Location"])
    assert page.status_code == 200 and page.context["cancel_url"] == order_url(previous)
    assert Transaction.objects.count() == before
    assert previous.follow_ups.count() == 0


def test_the_preview_of_a_follow_up_needs_no_transaction(client_alice, previous, customer, dreve_supplier):
    url = reverse("transactions:follow_up_preview", kwargs={"pk": customer.pk})
    response = client_alice.get(url, {"company": str(dreve_supplier.company_id)})
    assert response.status_code == 200 and dreve_supplier.name in response.content.decode()
    assert Transaction.objects.count() == 1


def test_an_impossible_follow_up_is_a_message(client_alice, customer, previous):
    url = reverse("transactions:follow_up_order", kwargs={"pk": customer.pk})
    for query in ("", "?remake=not-a-uuid", f"?remake={customer.pk}", "?reorder=middle"):
        response = client_alice.get(url + query, follow=True)
        assert "nicht (mehr) möglich" in response.content.decode(), query
    assert Transaction.objects.count() == 1


def test_bob_cannot_open_alices_follow_up(client_bob, customer, previous):
    url = reverse("transactions:follow_up_order", kwargs={"pk": customer.pk})
    assert client_bob.get(f"{url}?reorder=right").status_code == 404


# --- the remake: its own reason, the link both ways ---------------------------------------------


def test_the_remake_reason_arrives_and_the_orders_link_both_ways(client_alice, previous, alice):
    response = client_alice.post(
        reverse("orders:order_remake", kwargs={"pk": previous.pk}), {"reason": "drückt im Gehörgang"}
    )
    assert "drückt" not in response["Location"]  # the reason is no part of the URL (logs)
    page = client_alice.get(response["Location"])
    forms = page.context["forms"]
    assert forms.header.initial["reason"] == "drückt im Gehörgang"
    assert forms.header.initial["original_order"] == str(previous.pk)
    created = client_alice.post(response["Location"], submitted_values(forms))
    assert created.status_code == 302, created.context and created.context["forms"].header.errors
    remake = EarmouldOrder.objects.get(original_order=previous)
    assert (remake.order_type, remake.reason) == ("remake", "drückt im Gehörgang")
    assert remake.transaction != previous.transaction and remake.step == remake.transaction.order_service_step
    assert created["Location"] == order_url(remake)

    original_page = client_alice.get(order_url(previous)).content.decode()
    assert "Nachfertigung" in original_page and f'href="{order_url(remake)}">{remake.number}</a>' in original_page
    remake_page = client_alice.get(order_url(remake)).content.decode()
    assert "Nachfertigung von" in remake_page and f'href="{order_url(previous)}">{previous.number}</a>' in remake_page

    client = APIClient()
    client.force_authenticate(alice)
    original_api = client.get(f"/api/v1/orders/{previous.pk}/").json()
    assert original_api["follow_ups"] == [
        {"id": str(remake.pk), "number": remake.number, "order_type": "remake", "status": remake.status}
    ]
    remake_api = client.get(f"/api/v1/orders/{remake.pk}/").json()
    assert (remake_api["original_order"], remake_api["original_order_number"]) == (str(previous.pk), previous.number)
    assert remake_api["follow_ups"] == []


def test_the_close_reason_stays_with_closing(client_alice, previous):
    """The reason of "Abschließen" is the closing form's own field, not the remake's."""
    client_alice.post(reverse("orders:order_remake", kwargs={"pk": previous.pk}), {"reason": "pfeift"})
    previous.refresh_from_db()
    assert previous.status == OrderStatus.ORDERED and previous.close_reason == ""
    client_alice.post(reverse("orders:order_close", kwargs={"pk": previous.pk}), {"reason": "Kunde verzichtet"})
    previous.refresh_from_db()
    assert (previous.status, previous.close_reason) == (OrderStatus.CLOSED, "Kunde verzichtet")


def test_the_remake_reason_is_bounded(client_alice, previous):
    response = client_alice.post(reverse("orders:order_remake", kwargs={"pk": previous.pk}), {"reason": "x" * 2001})
    assert response.status_code == 400 and "höchstens 2000 Zeichen" in response.content.decode()


@pytest.mark.parametrize("received", [False, True])
def test_the_order_page_has_one_form_per_action_and_no_id_twice(client_alice, previous, alice, received):
    if received:
        lifecycle.receive(previous, user=alice, serials={"right": "R-1"}, without_serial=["left"])
    html = client_alice.get(order_url(previous)).content.decode()
    assert Ids(html).duplicates() == []
    forms = ["close-form", "remake-form"] + (["serial-form", "fit-form"] if received else ["receive-form"])
    for form_id in forms:
        assert f'id="{form_id}"' in html, form_id
    assert 'id="remake_reason"' in html
    assert ('id="close_reason"' in html) is not received  # after the receipt closing needs no reason


# --- goods receipt: a serial per ear or explicitly none; corrections later ------------------------


def test_receipt_without_serials_is_refused_and_names_each_ear(client_alice, previous):
    response = client_alice.post(reverse("orders:order_receive", kwargs={"pk": previous.pk}), {})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Seriennummer rechts angeben oder „ohne Seriennummer“" in page
    assert "Seriennummer links angeben oder „ohne Seriennummer“" in page
    previous.refresh_from_db()
    assert previous.status == OrderStatus.ORDERED


def test_receipt_with_one_serial_and_one_ear_explicitly_without(client_alice, previous):
    response = client_alice.post(
        reverse("orders:order_receive", kwargs={"pk": previous.pk}), {"serial_right": "R-77", "no_serial_left": "on"}
    )
    assert response.status_code == 302
    previous.refresh_from_db()
    assert previous.status == OrderStatus.RECEIVED
    assert dict(previous.items.values_list("side", "serial_number")) == {"right": "R-77", "left": ""}
    assert previous.events.last().data == {
        "serials": {"right": "R-77"},
        "without_serial": ["left"],
        "code": "goods_received",
        "params": {"variant": "serials", "serials": {"right": "R-77"}},
    }
    page = client_alice.get(order_url(previous)).content.decode()
    assert 'id="serial-left">ohne Seriennummer<' in page


def test_a_serial_and_without_serial_for_one_ear_is_refused(previous, alice):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as excinfo:
        lifecycle.receive(previous, user=alice, serials={"right": "R-1", "left": "L-1"}, without_serial=["left"])
    assert "no_serial_left" in excinfo.value.message_dict


def test_serials_are_added_and_corrected_later_with_an_event(client_alice, previous, alice):
    lifecycle.receive(previous, user=alice, serials={"right": "R-1"}, without_serial=["left"])
    url = reverse("orders:order_serial", kwargs={"pk": previous.pk})
    assert client_alice.post(url, {"side": "left", "serial": "L-9"}).status_code == 302
    assert client_alice.post(url, {"side": "right", "serial": "R-2"}).status_code == 302
    assert dict(previous.items.values_list("side", "serial_number")) == {"right": "R-2", "left": "L-9"}
    events = [e.data for e in previous.events.order_by("created_at", "id") if e.data.get("code") == "serial_corrected"]
    assert [e["params"] for e in events] == [
        {"side": "left", "old": "", "new": "L-9"},
        {"side": "right", "old": "R-1", "new": "R-2"},
    ]
    assert "serial_corrected" in TEXTS
    last = previous.events.order_by("created_at", "id").last()
    assert last.actor == alice and previous.events.filter(data__code="serial_corrected").count() == 2
    # Unchanged, too long or an ear not ordered: the form says why.
    for data, message in (
        ({"side": "right", "serial": "R-2"}, "bereits eingetragen"),
        ({"side": "right", "serial": "R" * 51}, "höchstens 50 Zeichen"),
        ({"side": "middle", "serial": "M-1"}, "keine gültige Auswahl"),
    ):
        response = client_alice.post(url, data)
        assert response.status_code == 400 and message in response.content.decode(), data


def test_serials_cannot_be_corrected_before_the_receipt(client_alice, previous):
    response = client_alice.post(
        reverse("orders:order_serial", kwargs={"pk": previous.pk}), {"side": "right", "serial": "R-1"}, follow=True
    )
    assert "erst nach dem Wareneingang" in response.content.decode()
    assert 'id="serial-form"' not in client_alice.get(order_url(previous)).content.decode()


def test_api_receipt_needs_serials_or_without_serial_and_corrects_later(previous, alice):
    client = APIClient()
    client.force_authenticate(alice)
    url = f"/api/v1/orders/{previous.pk}/"
    refused = client.post(url + "receive/", {"serials": {"right": "R-1"}}, format="json")
    assert refused.status_code == 400 and "serial_left" in refused.json()["errors"]
    received = client.post(url + "receive/", {"serials": {"right": "R-1"}, "without_serial": ["left"]}, format="json")
    assert received.status_code == 200 and received.json()["status"] == "received"
    corrected = client.post(url + "serial/", {"side": "left", "serial": "L-5"}, format="json")
    assert corrected.status_code == 200
    assert {item["side"]: item["serial_number"] for item in corrected.json()["items"]} == {"right": "R-1", "left": "L-5"}
    assert client.post(url + "serial/", {"side": "links", "serial": "x"}, format="json").status_code == 400
