"""The staff side of complaints: "Reklamieren" from the per-ear history, photos through the
API, who pays on remakes (form, API, decision) with the flag for lab charges inside the
free-remake window, the charge warning in the order form of an existing Vorgang, and the
required marks of the complaint form."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from otoorder.complaints import services
from otoorder.complaints.models import Complaint, ComplaintPhoto
from otoorder.orders.models import EarmouldOrder
from otoorder.transactions.models import Transaction
from tests.complaint_fixtures import JPEG, PNG, delivered, delivered_order  # noqa: F401
from tests.lifecycle_fixtures import client_alice, client_bob, dreve_template, dreve_txn, ordered_order  # noqa: F401
from tests.test_follow_ups_and_receipt import submitted_values

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def customer_page(client, customer):
    return client.get(reverse("transactions:customer_detail", kwargs={"pk": customer.pk})).content.decode()


# --- 1. "Reklamieren" from the per-ear history ------------------------------------------------


def test_history_offers_a_complaint_per_delivered_earmould(client_alice, dreve_txn, dreve_supplier, alice, customer):
    received = delivered(dreve_txn, dreve_supplier, alice)
    pending = ordered_order(dreve_txn, dreve_supplier, alice)
    page = customer_page(client_alice, customer)
    create = reverse("complaints:complaint_create", kwargs={"pk": received.pk})
    assert f'href="{create}?side=right"' in page and f'href="{create}?side=left"' in page
    assert page.count('data-testid="complain-right"') == 1 and page.count('data-testid="complain-left"') == 1
    assert reverse("complaints:complaint_create", kwargs={"pk": pending.pk}) not in page


def test_the_complaint_form_opens_with_that_ear_chosen(client_alice, delivered_order):
    url = reverse("complaints:complaint_create", kwargs={"pk": delivered_order.pk})
    form = client_alice.get(f"{url}?side=left").context["form"]
    assert form["sides"].value() == ["left"]
    assert client_alice.get(f"{url}?side=both").context["form"]["sides"].value() is None


def test_customer_page_with_complaint_links_keeps_its_queries(
    client_alice, dreve_txn, dreve_supplier, alice, customer, django_assert_max_num_queries
):
    for _ in range(20):
        delivered(dreve_txn, dreve_supplier, alice)
    with django_assert_max_num_queries(13):
        page = customer_page(client_alice, customer)
    assert page.count('data-testid="complain-right"') == 10  # the newest ten per ear; "mehr anzeigen" for more
    with django_assert_max_num_queries(13):
        longer = client_alice.get(reverse("transactions:customer_detail", kwargs={"pk": customer.pk}), {"verlauf": 20})
    assert longer.content.decode().count('data-testid="complain-right"') == 20


# --- 5. required marks like the other forms ---------------------------------------------------


def test_complaint_form_marks_required_fields_like_the_order_form(client_alice, delivered_order):
    page = client_alice.get(reverse("complaints:complaint_create", kwargs={"pk": delivered_order.pk})).content.decode()
    assert page.count('<span class="required-mark" aria-hidden="true">*</span>') == 3  # sides, reason, legend
    assert 'id="required-legend"' in page and "Pflichtfeld" in page
    assert ' <span aria-hidden="true">*</span>' not in page


# --- 2. photos through the API ----------------------------------------------------------------


def upload(name, content):
    file = io.BytesIO(content)
    file.name = name
    return file


def complaint_url(order):
    return f"/api/v1/orders/{order.pk}/complaints/"


def test_api_raises_with_photos_and_lists_them(delivered_order, alice, bob):
    client = api(alice)
    response = client.post(
        complaint_url(delivered_order),
        {"sides": ["right", "left"], "reason": "material_breakage", "photos": [upload("riss.png", PNG), upload("ohr.jpg", JPEG)]},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["sides"] == ["right", "left"] and body["photo_count"] == 2
    photos = {photo["name"]: photo for photo in body["photos"]}
    assert photos["riss.png"]["size"] == len(PNG) and photos["riss.png"]["content_type"] == "image/png"
    assert photos["ohr.jpg"]["content_type"] == "image/jpeg"
    download = client.get(photos["riss.png"]["download_url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == PNG
    assert download["Cache-Control"] == "no-store"
    # Another branch does not see the photo, nor the case.
    assert api(bob).get(photos["riss.png"]["download_url"]).status_code == 404
    listed = client.get(f"/api/v1/complaints/{body['id']}/").json()
    assert [photo["name"] for photo in listed["photos"]] == ["riss.png", "ohr.jpg"]
    # A photo gone from the storage answers 404, never a 500.
    ComplaintPhoto.objects.get(original_name="ohr.jpg").file.delete(save=False)
    assert client.get(photos["ohr.jpg"]["download_url"]).status_code == 404


def test_api_refuses_a_photo_that_is_not_jpeg_or_png(delivered_order, alice):
    response = api(alice).post(
        complaint_url(delivered_order),
        {"sides": ["right"], "reason": "feedback", "photos": [upload("bild.png", b"GIF89a" + b"\x00" * 40)]},
        format="multipart",
    )
    assert response.status_code == 400
    assert "Als Foto sind nur JPEG- und PNG-Dateien erlaubt." in str(response.json())
    assert not Complaint.objects.exists()


def test_api_refuses_more_than_five_photos(delivered_order, alice):
    response = api(alice).post(
        complaint_url(delivered_order),
        {"sides": ["right"], "reason": "feedback", "photos": [upload(f"{n}.png", PNG) for n in range(6)]},
        format="multipart",
    )
    assert response.status_code == 400
    assert "Höchstens 5 Fotos je Reklamation." in str(response.json())


def test_api_refuses_photos_too_large_before_reading_them(delivered_order, alice, settings):
    settings.OTOORDER_ATTACHMENT_MAX_BYTES = 1024
    big = PNG + b"\x00" * 2048
    response = api(alice).post(
        complaint_url(delivered_order),
        {"sides": ["right"], "reason": "feedback", "photos": [upload(f"{n}.png", big) for n in range(4)]},
        format="multipart",
    )
    assert response.status_code == 400
    assert "zu groß" in str(response.json())
    single = api(alice).post(
        complaint_url(delivered_order), {"sides": ["right"], "reason": "feedback", "photos": [upload("a.png", big)]},
        format="multipart",
    )
    assert single.status_code == 400 and "zu groß" in str(single.json())
    assert not Complaint.objects.exists()


# --- 3. who pays on remakes ------------------------------------------------------------------


def open_remake(client, original):
    response = client.post(reverse("orders:order_remake", kwargs={"pk": original.pk}), {"reason": "pfeift"})
    assert response.status_code == 302
    return response["Location"]


def test_follow_up_remake_records_cost_bearer_and_amount(client_alice, dreve_txn, dreve_supplier, alice):
    original = delivered(dreve_txn, dreve_supplier, alice, days_ago=200)  # window closed: charged
    url = open_remake(client_alice, original)
    form_page = client_alice.get(url)
    page = form_page.content.decode()
    assert "Kostenträger" in page and "Betrag (EUR)" in page
    data = {
        **submitted_values(form_page.context["forms"]),
        "cost_bearer": "customer", "cost_amount": "abc",
        "charge_warning_seen": form_page.context["charge_warning"]["key"],
    }
    refused = client_alice.post(url, data)
    assert "Bitte den Betrag als Zahl angeben, z. B. 45,00." in refused.content.decode()
    placed = client_alice.post(url, {**data, "cost_amount": "45,50"})
    assert placed.status_code == 302
    remake = EarmouldOrder.objects.get(original_order=original)
    assert (remake.cost_bearer, remake.cost_amount) == ("customer", Decimal("45.50"))
    detail = client_alice.get(placed["Location"]).content.decode()
    assert 'id="order-cost-bearer"' in detail and "Kunde · 45,50 EUR" in detail
    # Outside the window a charge is expected: no flag.
    assert 'data-testid="lab-charge-flag"' not in detail
    body = api(alice).get(f"/api/v1/orders/{remake.pk}/").json()
    assert body["cost_bearer"] == "customer" and body["cost_amount"] == "45.50" and body["lab_charge_flagged"] is False


def test_remake_charged_inside_the_window_is_flagged_on_the_order(client_alice, dreve_txn, dreve_supplier, alice):
    original = delivered(dreve_txn, dreve_supplier, alice, days_ago=10)
    url = open_remake(client_alice, original)
    data = {**submitted_values(client_alice.get(url).context["forms"]), "cost_bearer": "chain", "cost_amount": "30"}
    placed = client_alice.post(url, data)
    assert placed.status_code == 302
    detail = client_alice.get(placed["Location"]).content.decode()
    assert "Labor berechnet innerhalb der kostenlosen Nachfertigung" in detail
    remake = EarmouldOrder.objects.get(original_order=original)
    assert api(alice).get(f"/api/v1/orders/{remake.pk}/").json()["lab_charge_flagged"] is True


def test_api_order_takes_cost_bearer_and_amount(dreve_txn, dreve_supplier, alice):
    from tests import factories as f

    original = delivered(dreve_txn, dreve_supplier, alice, days_ago=10)
    payload = {
        "transaction": str(dreve_txn.pk), "company": str(dreve_supplier.company_id), "supplier": str(dreve_supplier.pk),
        "order_type": "remake",
        "original_order": str(original.pk), "reason": "pfeift", "cost_bearer": "lab", "cost_amount": "0",
        "items": [f.bte_item("right")],
    }
    response = api(alice).post("/api/v1/orders/", payload, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["cost_bearer"] == "lab" and response.json()["cost_amount"] == "0.00"
    assert response.json()["lab_charge_flagged"] is False
    bad = api(alice).post("/api/v1/orders/", {**payload, "cost_bearer": "kasse", "cost_amount": "-1"}, format="json")
    assert bad.status_code == 400
    errors = str(bad.json())
    assert "Bitte wählen, wer die Kosten trägt (Labor, Kette oder Kunde)." in errors
    assert "Der Betrag muss zwischen 0 und 999.999,99 EUR liegen." in errors


def test_decision_writes_who_pays_to_the_remake_and_flags_a_charge_inside_the_window(
    client_alice, delivered_order, alice
):
    complaint = services.raise_complaint(delivered_order, user=alice, sides=["right"], reason="feedback", create_remake=True)
    assert complaint.free_remake and not complaint.lab_charge_flagged
    services.decide(complaint, user=alice, outcome="free_remake", cost_bearer="chain", amount="45,00")
    complaint.refresh_from_db()
    remake = complaint.remake_order
    assert (remake.cost_bearer, remake.cost_amount) == ("chain", Decimal("45.00"))
    assert complaint.lab_charge_flagged
    page = client_alice.get(reverse("complaints:complaint_detail", kwargs={"pk": complaint.pk})).content.decode()
    assert "Labor berechnet innerhalb der kostenlosen Nachfertigung" in page
    order_page = client_alice.get(reverse("orders:order_detail", kwargs={"pk": remake.pk})).content.decode()
    assert "Labor berechnet innerhalb der kostenlosen Nachfertigung" in order_page
    body = api(alice).get(f"/api/v1/complaints/{complaint.pk}/").json()
    assert body["lab_charge_flagged"] is True


def test_flagged_filter_on_the_list_page_and_api(client_alice, dreve_txn, dreve_supplier, alice):
    inside = delivered(dreve_txn, dreve_supplier, alice, days_ago=10)
    outside = delivered(dreve_txn, dreve_supplier, alice, days_ago=200)
    charged = services.raise_complaint(inside, user=alice, sides=["right"], reason="feedback")
    services.decide(charged, user=alice, outcome="charged_remake", cost_bearer="lab")
    free = services.raise_complaint(inside, user=alice, sides=["left"], reason="feedback")
    services.decide(free, user=alice, outcome="free_remake", cost_bearer="lab", amount="0")
    expected = services.raise_complaint(outside, user=alice, sides=["right"], reason="feedback")
    services.decide(expected, user=alice, outcome="charged_remake", cost_bearer="customer", amount="60")
    assert set(Complaint.objects.lab_charge_flagged()) == {charged}
    listed = api(alice).get("/api/v1/complaints/?flagged=1").json()["results"]
    assert [c["id"] for c in listed] == [str(charged.pk)] and listed[0]["lab_charge_flagged"] is True
    assert len(api(alice).get("/api/v1/complaints/").json()["results"]) == 3
    assert api(alice).get("/api/v1/complaints/?flagged=vielleicht").status_code == 400
    page = client_alice.get(reverse("complaints:complaint_list") + "?flagged=1").content.decode()
    assert page.count('data-testid="complaint-row"') == 1 and 'data-testid="lab-charge-flag"' in page
    assert client_alice.get(reverse("complaints:complaint_list")).content.decode().count('data-testid="complaint-row"') == 3


def test_complaint_list_shows_only_the_users_branch(client_bob, delivered_order, alice):
    services.raise_complaint(delivered_order, user=alice, sides=["right"], reason="feedback")
    page = client_bob.get(reverse("complaints:complaint_list")).content.decode()
    assert 'data-testid="complaint-row"' not in page and "Keine Reklamationen." in page


# --- 4. the charge warning in the order form of an existing Vorgang -------------------------


def vorgang_remake_url(txn, original):
    return reverse("transactions:order_service", kwargs={"pk": txn.pk}) + f"?remake={original.pk}"


def test_order_form_of_a_vorgang_warns_on_a_changed_vent_before_sending(
    client_alice, dreve_txn, dreve_template, dreve_supplier, alice, customer
):
    original = delivered(dreve_txn, dreve_supplier, alice, days_ago=10)
    txn = Transaction.objects.start(customer=customer, template=dreve_template, user=alice)
    url = vorgang_remake_url(txn, original)
    form_page = client_alice.get(url)
    assert form_page.context["charge_warning"] is None
    data = submitted_values(form_page.context["forms"])
    assert data["order_type"] == "remake"
    data.update({"reason": "pfeift", "right-vent_type": "groove"})
    held = client_alice.post(url, data)
    assert held.status_code == 200
    page = held.content.decode()
    assert "Das Labor kann diese Nachfertigung berechnen: rechtes Ohr geändert: Zusatzbohrung." in page
    assert "Noch nicht abgeschickt" in page
    assert not EarmouldOrder.objects.filter(original_order=original).exists()
    placed = client_alice.post(url, {**data, "charge_warning_seen": held.context["charge_warning"]["key"]})
    assert placed.status_code == 302
    assert EarmouldOrder.objects.get(original_order=original).transaction_id == txn.pk


def test_order_form_of_a_vorgang_warns_when_the_window_closed(
    client_alice, dreve_txn, dreve_template, dreve_supplier, alice, customer
):
    original = delivered(dreve_txn, dreve_supplier, alice, days_ago=200)
    txn = Transaction.objects.start(customer=customer, template=dreve_template, user=alice)
    form_page = client_alice.get(vorgang_remake_url(txn, original))
    assert "die kostenlose Nachfertigung" in form_page.context["charge_warning"]["text"]
    assert 'id="remake-charge-warning"' in form_page.content.decode()


def test_order_form_of_a_vorgang_unchanged_inside_the_window_is_placed_at_once(
    client_alice, dreve_txn, dreve_template, dreve_supplier, alice, customer
):
    original = delivered(dreve_txn, dreve_supplier, alice, days_ago=10)
    txn = Transaction.objects.start(customer=customer, template=dreve_template, user=alice)
    url = vorgang_remake_url(txn, original)
    data = {**submitted_values(client_alice.get(url).context["forms"]), "reason": "pfeift"}
    assert client_alice.post(url, data).status_code == 302
    assert timezone.now() - EarmouldOrder.objects.get(original_order=original).created_at < timedelta(minutes=1)
