"""Order attachments: upload through the order page and the API, refusals, download, e-mail."""

import hashlib
from io import BytesIO

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfReader
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from otoorder.backends.pdf import render_order_form
from otoorder.orders import attachments, dispatch, services
from otoorder.orders.choices import OrderStatus
from otoorder.orders.documents import build_document
from otoorder.orders.models import EarmouldOrder, OrderAttachment
from tests.factories import bte_item

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def order(transaction_obj, dreve, dreve_supplier, alice):
    return services.place_order(
        transaction_obj=transaction_obj, company=dreve, supplier=dreve_supplier, items=[bte_item("right")], user=alice
    )


def api_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def upload_view(client, order, content, name="audiogramm.pdf"):
    return client.post(
        reverse("orders:attachment_upload", args=[order.pk]), {"file": SimpleUploadedFile(name, content)}
    )


def api_url(order):
    return f"/api/v1/orders/{order.pk}/attachments/"


def test_upload_through_the_order_page(client, alice, order):
    client.force_login(alice)
    response = upload_view(client, order, PDF, name="../../etc/Audiogramm Müller.pdf")
    assert response.status_code == 302
    (attachment,) = order.attachments.all()
    assert attachment.content_type == "application/pdf"
    assert attachment.sha256 == hashlib.sha256(PDF).hexdigest()
    assert attachment.file_size == len(PDF)
    assert attachment.original_name == "Audiogramm Müller.pdf"
    # The stored name is the UUID, never the uploader's name.
    assert attachment.file.name.endswith(f"{attachment.pk}.pdf")
    page = client.get(reverse("orders:order_detail", args=[order.pk])).content.decode()
    assert "Audiogramm Müller.pdf" in page
    assert reverse("orders:attachment_download", args=[attachment.pk]) in page


@pytest.mark.parametrize("content,content_type", [(PNG, "image/png"), (JPEG, "image/jpeg")])
def test_images_are_recognised_by_content(alice, order, content, content_type):
    upload = SimpleUploadedFile("bild.pdf", content, content_type="application/pdf")
    assert attachments.add_attachment(order, upload, user=alice).content_type == content_type


def test_wrong_type_by_content_is_refused(client, alice, order):
    client.force_login(alice)
    response = upload_view(client, order, b"MZ\x90\x00 not a pdf at all", name="befund.pdf")
    assert response.status_code == 302
    assert not OrderAttachment.objects.exists()
    page = client.get(response["Location"]).content.decode()
    assert "nur PDF-, PNG- und JPEG-Dateien" in page


def test_too_large_is_refused(client, alice, order, settings):
    settings.OTOORDER_ATTACHMENT_MAX_BYTES = 100
    client.force_login(alice)
    upload_view(client, order, PDF + b"x" * 200)
    assert not OrderAttachment.objects.exists()
    response = api_client(alice).post(api_url(order), {"file": SimpleUploadedFile("a.pdf", PDF + b"x" * 200)}, format="multipart")
    assert response.status_code == 400
    assert response.json()["code"] == attachments.TOO_LARGE


def test_other_branch_gets_404(client, bob, alice, order):
    attachment = attachments.add_attachment(order, SimpleUploadedFile("a.pdf", PDF), user=alice)
    client.force_login(bob)
    assert upload_view(client, order, PDF).status_code == 404
    assert client.get(reverse("orders:attachment_download", args=[attachment.pk])).status_code == 404
    api = api_client(bob)
    assert api.get(api_url(order)).status_code == 404
    assert api.post(api_url(order), {"file": SimpleUploadedFile("a.pdf", PDF)}, format="multipart").status_code == 404
    assert order.attachments.count() == 1


def test_refused_after_sending(client, alice, order):
    EarmouldOrder.objects.filter(pk=order.pk).update(status=OrderStatus.ORDERED)
    client.force_login(alice)
    upload_view(client, order, PDF)
    assert not OrderAttachment.objects.exists()
    page = client.get(reverse("orders:order_detail", args=[order.pk])).content.decode()
    assert reverse("orders:attachment_upload", args=[order.pk]) not in page
    response = api_client(alice).post(api_url(order), {"file": SimpleUploadedFile("a.pdf", PDF)}, format="multipart")
    assert response.status_code == 400
    assert response.json()["code"] == attachments.NOT_ALLOWED


def test_refused_when_the_order_was_sent_meanwhile(alice, order):
    """The status is checked again under the row lock, not only on the object the view loaded."""
    EarmouldOrder.objects.filter(pk=order.pk).update(status=OrderStatus.SENDING)
    assert order.status == OrderStatus.QUEUED
    with pytest.raises(ValidationError) as exc:
        attachments.add_attachment(order, SimpleUploadedFile("a.pdf", PDF), user=alice)
    assert exc.value.error_dict["file"][0].code == attachments.NOT_ALLOWED
    assert not OrderAttachment.objects.exists()


def test_download_headers(client, alice, order):
    attachment = attachments.add_attachment(order, SimpleUploadedFile("Foto Ohr.png", PNG), user=alice)
    client.force_login(alice)
    response = client.get(reverse("orders:attachment_download", args=[attachment.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == PNG


def test_api_upload_and_list(alice, order):
    api = api_client(alice)
    response = api.post(api_url(order), {"file": SimpleUploadedFile("befund.pdf", PDF)}, format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["content_type"] == "application/pdf"
    assert body["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert body["download_url"].endswith(reverse("orders:attachment_download", args=[body["id"]]))
    listing = api.get(api_url(order)).json()
    assert [a["id"] for a in listing] == [body["id"]]
    garbage = api.post(api_url(order), {"file": SimpleUploadedFile("x.pdf", b"hello")}, format="multipart")
    assert garbage.status_code == 400
    assert garbage.json()["code"] == attachments.INVALID


def test_standard_process_email_carries_the_attachments(alice, order, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    attachments.add_attachment(order, SimpleUploadedFile("Audiogramm.pdf", PDF), user=alice)
    attachments.add_attachment(order, SimpleUploadedFile("Ohr.jpg", JPEG), user=alice)
    assert dispatch.run(order.dispatch.pk) == OrderStatus.ORDERED
    (message,) = mail.outbox
    names = [(name, mimetype) for name, _content, mimetype in message.attachments]
    assert names[1:] == [("Audiogramm.pdf", "application/pdf"), ("Ohr.jpg", "image/jpeg")]
    assert message.attachments[1][1] == PDF and message.attachments[2][1] == JPEG


def test_pdf_order_form_lists_the_attachment_names(alice, order):
    attachments.add_attachment(order, SimpleUploadedFile("Audiogramm.pdf", PDF), user=alice)
    document = build_document(order)
    assert [a.name for a in document.attachments] == ["Audiogramm.pdf"]
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(render_order_form(document))).pages)
    assert "Anhänge" in text and "Audiogramm.pdf" in text
