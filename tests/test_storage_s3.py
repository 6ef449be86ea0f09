"""Files in a real S3-compatible object store (SeaweedFS on 127.0.0.1, tests/s3.py).

Scans, attachments and complaint photos are uploaded through the API and the pages, land in
the bucket (and not on the local disk), come back only through the branch-checked views, and
are read from the store when an order is sent. A store that does not answer is a 503 for a
download and a transient failure for a dispatch, never a 500 or a refused order.
"""

import hashlib

import pytest
from django.core import mail
from django.core.files.storage import default_storage, storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from otoorder.backends.base import attachment_content, scan_content
from otoorder.backends.exceptions import OrderRejected, TransientError
from otoorder.complaints.models import Complaint
from otoorder.orders import attachments, dispatch, services
from otoorder.orders.choices import OrderStatus
from otoorder.orders.documents import build_document
from otoorder.orders.models import Impression, OrderAttachment
from otoorder.storage import default_storage_settings
from tests import scan_files
from tests.complaint_fixtures import PNG, delivered_order  # noqa: F401
from tests.factories import bte_item
from tests.lifecycle_fixtures import client_alice, dreve_template, dreve_txn, ordered_order  # noqa: F401

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def object_store(s3_storage, settings, tmp_path):
    """Every test here stores in the object store; the private folder must stay empty."""
    settings.MEDIA_ROOT = tmp_path / "private"
    return s3_storage


@pytest.fixture
def private_folder(settings):
    return settings.MEDIA_ROOT


def stored_object(s3_server, settings, name):
    """The object's bytes as the store holds them (read with the store's own client)."""
    key = f"{settings.STORAGES['default']['OPTIONS']['location']}/{name}"
    return s3_server.client().get_object(Bucket=s3_server.bucket, Key=key)["Body"].read()


def api_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def store_down(settings):
    """The default storage pointed at a port of 127.0.0.1 where no store listens."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.STORAGES = {
        **settings.STORAGES,
        "default": default_storage_settings(f"s3+http://k:s@127.0.0.1:{port}/otoorder", timeout=1.0),
    }


def test_the_default_storage_is_the_object_store():
    assert type(storages["default"]).__name__ == "S3Storage"


def test_a_scan_uploaded_through_the_api_lies_in_the_store_and_comes_back_only_to_its_branch(
    alice, bob, customer, client, s3_server, settings, private_folder
):
    content = scan_files.stl_binary()
    response = api_client(alice).post(
        "/api/v1/impressions/",
        {"customer": str(customer.pk), "side": "right", "kind": "scan", "file": SimpleUploadedFile("Erika rechts.stl", content)},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    impression = Impression.objects.get()
    assert stored_object(s3_server, settings, impression.file.name) == content
    assert not private_folder.exists() or not any(private_folder.rglob("*"))

    client.force_login(alice)
    download = client.get(reverse("orders:impression_file", args=[impression.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == content
    assert download["Content-Length"] == str(len(content))
    assert "no-store" in download["Cache-Control"]
    assert download["Content-Disposition"].startswith("attachment;")
    # Streamed by the web process: nobody is sent to the store.
    assert "Location" not in download

    client.force_login(bob)
    assert client.get(reverse("orders:impression_file", args=[impression.pk])).status_code == 404


def test_a_scan_uploaded_on_the_page_is_stored_there_too(client_alice, customer, s3_server, settings):
    content = scan_files.ply_binary()
    response = client_alice.post(
        reverse("orders:impression_create", args=[customer.pk, "left"]),
        {"kind": "scan", "file": SimpleUploadedFile("links.ply", content)},
    )
    assert response.status_code == 302
    impression = Impression.objects.get()
    assert impression.sha256 == hashlib.sha256(content).hexdigest()
    assert stored_object(s3_server, settings, impression.file.name) == content


@pytest.fixture
def order(transaction_obj, dreve, dreve_supplier, alice):
    return services.place_order(
        transaction_obj=transaction_obj, company=dreve, supplier=dreve_supplier, items=[bte_item("right")], user=alice
    )


def test_an_attachment_is_stored_downloaded_by_its_branch_only_and_mailed_from_the_store(
    client, alice, bob, order, s3_server, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    client.force_login(alice)
    response = client.post(reverse("orders:attachment_upload", args=[order.pk]), {"file": SimpleUploadedFile("Audiogramm.pdf", PDF)})
    assert response.status_code == 302
    attachment = OrderAttachment.objects.get()
    assert stored_object(s3_server, settings, attachment.file.name) == PDF

    download = client.get(reverse("orders:attachment_download", args=[attachment.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf"
    client.force_login(bob)
    assert client.get(reverse("orders:attachment_download", args=[attachment.pk])).status_code == 404

    # The standard process reads it back from the store and mails it.
    assert dispatch.run(order.dispatch.pk) == OrderStatus.ORDERED
    (message,) = mail.outbox
    assert ("Audiogramm.pdf", PDF, "application/pdf") in message.attachments


def test_a_complaint_photo_lies_in_the_store_and_comes_back_only_to_its_branch(
    client, alice, bob, delivered_order, s3_server, settings
):
    client.force_login(alice)
    response = client.post(
        reverse("complaints:complaint_create", kwargs={"pk": delivered_order.pk}),
        {"sides": ["right"], "reason": "fit_pressure", "description": "drückt", "photos": [SimpleUploadedFile("ohr.png", PNG)]},
    )
    assert response.status_code == 302
    photo = Complaint.objects.get().photos.get()
    assert stored_object(s3_server, settings, photo.file.name) == PNG
    download = client.get(reverse("complaints:photo_download", kwargs={"pk": photo.pk}))
    assert download.status_code == 200 and b"".join(download.streaming_content) == PNG
    client.force_login(bob)
    assert client.get(reverse("complaints:photo_download", kwargs={"pk": photo.pk})).status_code == 404


def test_the_order_document_reads_the_scan_from_the_store(alice, customer, transaction_obj, dreve, dreve_supplier):
    from otoorder.orders import scans

    content = scan_files.stl_ascii()
    impression = scans.create_impression(
        customer=customer, side="right", kind="scan", upload=SimpleUploadedFile("r.stl", content), user=alice
    )
    order = services.place_order(
        transaction_obj=transaction_obj, company=dreve, supplier=dreve_supplier,
        items=[bte_item("right", impression=impression)], user=alice,
    )
    (scan,) = build_document(order).scans
    assert scan.stored_name == impression.file.name and scan.size == len(content)
    assert scan_content(scan) == content


def test_a_file_gone_from_the_store_is_404_for_the_page_and_refuses_the_order(client, alice, order):
    attachment = attachments.add_attachment(order, SimpleUploadedFile("Befund.pdf", PDF), user=alice)
    default_storage.delete(attachment.file.name)
    client.force_login(alice)
    assert client.get(reverse("orders:attachment_download", args=[attachment.pk])).status_code == 404
    (document_file,) = build_document(order).attachments
    with pytest.raises(OrderRejected) as refused:
        attachment_content(document_file)
    assert refused.value.code == "attachment_missing"


def test_an_object_larger_than_recorded_is_not_read(alice, order):
    attachment = attachments.add_attachment(order, SimpleUploadedFile("Befund.pdf", PDF), user=alice)
    OrderAttachment.objects.filter(pk=attachment.pk).update(file_size=10)
    (document_file,) = build_document(order).attachments
    with pytest.raises(OrderRejected):
        attachment_content(document_file)


def test_a_store_that_does_not_answer_is_503_for_a_download_and_transient_for_the_dispatch(
    client, alice, order, store_down
):
    # The record exists (uploaded while the store answered); now the store is gone.
    attachment = OrderAttachment.objects.create(
        order=order, original_name="Befund.pdf", content_type="application/pdf", file_size=len(PDF), sha256="0" * 64,
        file="attachments/2026/01/befund.pdf",
    )
    client.force_login(alice)
    response = client.get(reverse("orders:attachment_download", args=[attachment.pk]))
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "Datei gerade nicht erreichbar" in response.content.decode()
    (document_file,) = build_document(order).attachments
    with pytest.raises(TransientError) as transient:
        attachment_content(document_file)
    assert transient.value.code == "storage_unreachable" and not transient.value.permanent
