"""Staff views of impressions: record per ear, list, 3D view page, the private file download."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from otoorder.orders import scans
from otoorder.orders.models import Impression
from tests import factories as f
from tests import scan_files

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def client_alice(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def scan(customer, alice):
    upload = SimpleUploadedFile("Erika rechts.stl", scan_files.stl_binary())
    return scans.create_impression(customer=customer, side="right", kind="scan", upload=upload, user=alice)


def create_url(customer, side):
    return reverse("orders:impression_create", args=[customer.pk, side])


def test_upload_a_scan_then_see_the_3d_view(client_alice, customer):
    response = client_alice.post(
        create_url(customer, "left"),
        {"kind": "scan", "scanner": "Otoscan", "file": SimpleUploadedFile("links.ply", scan_files.ply_binary())},
    )
    impression = Impression.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:impression_detail", args=[impression.pk])
    assert (impression.side, impression.file_format, impression.triangle_count) == ("left", "ply", 4)
    page = client_alice.get(response["Location"]).content.decode()
    assert 'id="scan-viewer"' in page
    assert reverse("orders:impression_file", args=[impression.pk]) in page
    assert "vendor/three/build/three.module.js" in page
    assert "js/scan-viewer.js" in page


def test_physical_impression_goes_back_to_the_customer(client_alice, customer):
    response = client_alice.post(
        create_url(customer, "right"), {"kind": "physical", "reference": "Box 4", "tracking_number": "JJD0001"}
    )
    assert response["Location"] == reverse("transactions:customer_detail", args=[customer.pk])
    impression = Impression.objects.get()
    assert (impression.kind, impression.reference, impression.tracking_number) == ("physical", "Box 4", "JJD0001")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"GIF89a not a mesh" * 10, "kein lesbarer STL- oder PLY-Scan"),
        (scan_files.stl_ascii()[:-40], "unvollständig"),
    ],
)
def test_broken_file_is_refused_on_the_form(client_alice, customer, content, message):
    response = client_alice.post(
        create_url(customer, "right"), {"kind": "scan", "file": SimpleUploadedFile("ohr.stl", content)}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Impression.objects.exists()


def test_oversized_file_is_refused_on_the_form(client_alice, customer, settings):
    settings.OTOORDER_SCAN_MAX_BYTES = 200
    response = client_alice.post(
        create_url(customer, "right"), {"kind": "scan", "file": SimpleUploadedFile("ohr.stl", scan_files.stl_binary())}
    )
    assert "zu groß" in response.content.decode()
    assert not Impression.objects.exists()


def test_scan_without_file_names_the_field(client_alice, customer):
    response = client_alice.post(create_url(customer, "right"), {"kind": "scan"})
    assert "Bitte die Scan-Datei (STL oder PLY) auswählen." in response.content.decode()


def test_unknown_side_is_404(client_alice, customer):
    assert client_alice.get(create_url(customer, "both")).status_code == 404


def test_list_per_ear_with_the_record_action(client_alice, customer, scan):
    scans.create_impression(customer=customer, side="left", kind="physical", reference="Box 9")
    url = reverse("orders:customer_impressions", args=[customer.pk])
    page = client_alice.get(url).content.decode()
    assert "Abdruck/Scan erfassen" in page
    assert create_url(customer, "right") in page and create_url(customer, "left") in page
    assert reverse("orders:impression_detail", args=[scan.pk]) in page
    assert "Box 9" in page
    fragment = client_alice.get(url, headers={"HX-Request": "true"}).content.decode()
    assert 'id="impressions"' in fragment and "<html" not in fragment


def test_file_download_is_private_and_uncached(client_alice, scan):
    response = client_alice.get(reverse("orders:impression_file", args=[scan.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == scan_files.stl_binary()
    assert response["Content-Disposition"].startswith("attachment;")
    assert "Erika" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Type"] == "application/octet-stream"


def test_other_branch_gets_404_everywhere(client, bob, customer, scan):
    client.force_login(bob)
    for url in (
        reverse("orders:impression_file", args=[scan.pk]),
        reverse("orders:impression_detail", args=[scan.pk]),
        reverse("orders:customer_impressions", args=[customer.pk]),
        create_url(customer, "right"),
    ):
        assert client.get(url).status_code == 404, url
    response = client.post(create_url(customer, "right"), {"kind": "physical"})
    assert response.status_code == 404
    assert Impression.objects.count() == 1


def test_chain_admin_sees_every_branch(client, dave, scan):
    client.force_login(dave)
    assert client.get(reverse("orders:impression_file", args=[scan.pk])).status_code == 200


def test_anonymous_is_sent_to_login(client, scan):
    response = client.get(reverse("orders:impression_file", args=[scan.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_physical_impression_has_no_file_url(client_alice, customer):
    impression = scans.create_impression(customer=customer, side="left", kind="physical")
    assert client_alice.get(reverse("orders:impression_file", args=[impression.pk])).status_code == 404
    page = client_alice.get(reverse("orders:impression_detail", args=[impression.pk])).content.decode()
    assert "scan-viewer" not in page


def test_the_scan_is_not_served_under_any_public_url(client_alice, scan):
    for prefix in ("", "media/", "static/", "private/"):
        assert client_alice.get(f"/{prefix}{scan.file.name}").status_code == 404, prefix


def test_other_factory_branch_customer(client_alice, nord):
    other = f.CustomerFactory(branch=nord)
    assert client_alice.get(reverse("orders:customer_impressions", args=[other.pk])).status_code == 404


def test_huge_request_is_refused_before_its_body_is_read(client_alice, customer, settings):
    settings.OTOORDER_SCAN_MAX_BYTES = 1000
    big = scan_files.stl_binary() + b"\0" * (200 * 1024)
    response = client_alice.post(create_url(customer, "right"), {"kind": "scan", "file": SimpleUploadedFile("a.stl", big)})
    assert response.status_code == 200
    assert "zu groß" in response.content.decode()
    assert not Impression.objects.exists()
