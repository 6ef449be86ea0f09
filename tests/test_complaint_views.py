"""The complaint pages: "Reklamation erfassen" on the order page, the form with its German
errors, the complaint page with its history and the decision."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from otoorder.complaints import services
from otoorder.complaints.models import Complaint
from tests.complaint_fixtures import PNG, delivered_order  # noqa: F401
from tests.lifecycle_fixtures import client_alice, client_bob, dreve_template, dreve_txn, ordered_order  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"


def create_url(order):
    return reverse("complaints:complaint_create", kwargs={"pk": order.pk})


def test_the_order_page_offers_the_complaint_and_lists_them(client_alice, delivered_order, alice):
    page = client_alice.get(reverse("orders:order_detail", kwargs={"pk": delivered_order.pk})).content.decode()
    assert create_url(delivered_order) in page
    services.raise_complaint(delivered_order, user=alice, sides=["right"], reason="feedback")
    page = client_alice.get(reverse("orders:order_detail", kwargs={"pk": delivered_order.pk})).content.decode()
    assert 'data-testid="order-complaint"' in page and "Rückkopplung" in page


def test_raise_from_the_form_with_a_photo_and_a_remake(client_alice, delivered_order):
    form = client_alice.get(create_url(delivered_order)).content.decode()
    assert "kostenlose Nachfertigung bis" in form
    response = client_alice.post(
        create_url(delivered_order),
        {
            "sides": ["right"], "reason": "fit_pressure", "description": "drückt vorne",
            "return_old_mould": "on", "create_remake": "on", "photos": [SimpleUploadedFile("ohr.png", PNG)],
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    complaint = Complaint.objects.get()
    assert response["Location"] == reverse("complaints:complaint_detail", kwargs={"pk": complaint.pk})
    assert complaint.photos.count() == 1 and complaint.return_old_mould and complaint.remake_order is not None
    page = client_alice.get(response["Location"]).content.decode()
    assert "Reklamation erfasst (rechts): passt nicht / drückt." in page
    assert complaint.remake_order.number in page
    photo = complaint.photos.get()
    download = client_alice.get(reverse("complaints:photo_download", kwargs={"pk": photo.pk}))
    assert b"".join(download.streaming_content) == PNG
    assert download["Content-Type"] == "image/png"


def test_the_form_shows_german_errors(client_alice, delivered_order):
    response = client_alice.post(
        create_url(delivered_order), {"reason": "", "photos": [SimpleUploadedFile("x.png", b"GIF89a....")]}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Bitte mindestens ein Ohr (rechts oder links) wählen." in page
    assert "Bitte einen Reklamationsgrund aus der Liste wählen." in page
    assert not Complaint.objects.exists()


def test_an_order_not_delivered_redirects_with_a_message(client_alice, dreve_txn, dreve_supplier, alice):
    order = ordered_order(dreve_txn, dreve_supplier, alice)
    response = client_alice.get(create_url(order), follow=True)
    assert "Reklamieren lässt sich nur eine gelieferte Bestellung" in response.content.decode()


def test_report_decide_and_close_from_the_page(client_alice, delivered_order, alice):
    complaint = services.raise_complaint(delivered_order, user=alice, sides=["left"], reason="loss")
    client_alice.post(reverse("complaints:complaint_report", kwargs={"pk": complaint.pk}))
    bad = client_alice.post(
        reverse("complaints:complaint_decide", kwargs={"pk": complaint.pk}),
        {"outcome": "credit", "cost_bearer": "lab", "amount": "zehn"},
    )
    assert "Bitte den Betrag als Zahl angeben" in bad.content.decode()
    client_alice.post(
        reverse("complaints:complaint_decide", kwargs={"pk": complaint.pk}),
        {"outcome": "credit", "cost_bearer": "customer", "amount": "12,50"},
    )
    decided = client_alice.get(reverse("complaints:complaint_detail", kwargs={"pk": complaint.pk})).content.decode()
    assert 'value="12,50"' in decided  # the decision form shows the amount as staff type it
    client_alice.post(reverse("complaints:complaint_close", kwargs={"pk": complaint.pk}))
    complaint.refresh_from_db()
    assert (complaint.status, complaint.cost_bearer, str(complaint.amount)) == ("done", "customer", "12.50")
    page = client_alice.get(reverse("complaints:complaint_detail", kwargs={"pk": complaint.pk})).content.decode()
    assert "Kosten trägt: Kunde, Betrag 12,50 EUR" in page
    assert "Reklamation erledigt." in page


def test_english_page(client_alice, delivered_order, alice):
    complaint = services.raise_complaint(delivered_order, user=alice, sides=["left"], reason="loss")
    client_alice.cookies["django_language"] = "en"
    page = client_alice.get(reverse("complaints:complaint_detail", kwargs={"pk": complaint.pk}), HTTP_ACCEPT_LANGUAGE="en")
    assert "Complaint" in page.content.decode()


def test_chain_admins_maintain_the_reasons(client, dave, alice, chain):
    client.force_login(dave)
    page = client.get(reverse("complaints:reason_list")).content.decode()
    assert "passt nicht / drückt" in page
    client.post(reverse("complaints:reason_list"), {"code": "ohrpassstueck", "label": "Ohrpassstück locker", "category": "fit", "position": 9, "active": "on"})
    assert chain.complaint_reasons.get(code="ohrpassstueck").label == "Ohrpassstück locker"
    duplicate = client.post(reverse("complaints:reason_list"), {"code": "feedback", "label": "x", "category": "fit", "position": 1})
    assert "Dieses Kürzel gibt es in der Kette schon" in duplicate.content.decode()
    loss = chain.complaint_reasons.get(code="loss")
    client.post(reverse("complaints:reason_edit", kwargs={"pk": loss.pk}), {"code": "loss", "label": "Verlust", "category": "material", "position": 5})
    loss.refresh_from_db()
    assert loss.active is False
    client.force_login(alice)
    assert client.get(reverse("complaints:reason_list")).status_code == 404
