"""POST/GET /api/v1/impressions/: physical impressions and scans checked by content, scoped by branch."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from otoorder.orders import scans
from otoorder.orders.models import Impression
from tests import factories as f
from tests import scan_files

pytestmark = pytest.mark.django_db
URL = "/api/v1/impressions/"


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"


def client_for(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def api_alice(alice):
    return client_for(alice)


def upload(client, customer, content, name="ohr.stl", **fields):
    data = {"customer": str(customer.pk), "side": "right", "kind": "scan", **fields}
    if content is not None:
        data["file"] = SimpleUploadedFile(name, content)
    return client.post(URL, data, format="multipart")


@pytest.mark.parametrize(
    ("content", "file_format"),
    [
        (scan_files.stl_binary(), "stl_binary"),
        (scan_files.stl_ascii(), "stl_ascii"),
        (scan_files.ply_ascii(), "ply"),
        (scan_files.ply_binary(), "ply"),
    ],
)
def test_scan_upload_answers_201_with_preview_url(api_alice, customer, content, file_format):
    response = upload(api_alice, customer, content, name="scan.bin", scanner="3Shape Phoenix")
    assert response.status_code == 201, response.json()
    body = response.json()
    impression = Impression.objects.get()
    assert body["id"] == str(impression.pk)
    assert body["file_format"] == file_format
    assert body["triangle_count"] == 4
    assert body["sha256"] == hashlib.sha256(content).hexdigest()
    assert body["file_size"] == len(content)
    assert body["scanner"] == "3Shape Phoenix"
    assert body["preview_url"] == f"http://testserver/bestellungen/abdruecke/{impression.pk}/"
    assert body["file_url"] == f"http://testserver/bestellungen/abdruecke/{impression.pk}/datei/"


def test_physical_impression(api_alice, customer):
    response = upload(api_alice, customer, None, kind="physical", side="left", reference="Box 3", tracking_number="JJD42")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["kind"], body["side"], body["reference"], body["tracking_number"]) == ("physical", "left", "Box 3", "JJD42")
    assert body["file_url"] is None


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n" + b"\0" * 300,
        b"garbage that is not a mesh",
        scan_files.stl_binary()[:-20],
        scan_files.stl_ascii()[:-50],
        scan_files.ply_binary()[:-5],
        b"",
    ],
)
def test_unreadable_file_is_400_invalid_scan(api_alice, customer, content):
    response = upload(api_alice, customer, content)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] in ("invalid_scan", "invalid")
    assert Impression.objects.count() == 0
    if content:
        assert body["code"] == "invalid_scan"
        assert body["detail"] and body["errors"]["file"] == [body["detail"]]


def test_oversized_file_is_refused(api_alice, customer, settings):
    settings.OTOORDER_SCAN_MAX_BYTES = 150
    response = upload(api_alice, customer, scan_files.stl_binary())
    assert response.status_code == 400
    assert response.json()["code"] == "scan_too_large"
    assert "zu groß" in response.json()["detail"]
    assert not Impression.objects.exists()


def test_field_errors(api_alice, customer):
    response = upload(api_alice, customer, None, side="both")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert set(response.json()["errors"]) == {"side"}
    response = upload(api_alice, customer, None)
    assert response.json()["errors"] == {"file": ["Bitte die Scan-Datei (STL oder PLY) auswählen."]}
    response = api_alice.post(URL, {"side": "left", "kind": "physical"}, format="multipart")
    assert set(response.json()["errors"]) == {"customer"}
    assert not Impression.objects.exists()


def test_other_branch_customer_is_404(customer, bob):
    response = upload(client_for(bob), customer, scan_files.stl_binary())
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert not Impression.objects.exists()


def test_list_by_customer_is_scoped(api_alice, customer, bob, nord):
    mine = scans.create_impression(customer=customer, side="left", kind="physical")
    other_customer = f.CustomerFactory(branch=nord)
    scans.create_impression(customer=other_customer, side="left", kind="physical")
    body = api_alice.get(URL, {"customer": str(customer.pk)}).json()
    assert [row["id"] for row in body["results"]] == [str(mine.pk)]
    assert [row["id"] for row in api_alice.get(URL).json()["results"]] == [str(mine.pk)]
    assert api_alice.get(URL, {"customer": str(other_customer.pk)}).status_code == 404
    assert api_alice.get(URL, {"customer": "nonsense"}).status_code == 400
    assert api_alice.get(URL, {"customer": str(customer.pk), "side": "right"}).json()["results"] == []
    bob_rows = client_for(bob).get(URL).json()["results"]
    assert len(bob_rows) == 1 and bob_rows[0]["id"] != str(mine.pk)


def test_anonymous_is_401():
    assert APIClient().post(URL, {}).status_code == 401


def test_schema_lists_the_endpoint(api_alice):
    schema = api_alice.get("/api/schema/", {"format": "json"}).json()
    assert "/api/v1/impressions/" in schema["paths"]


def test_huge_request_is_refused_before_its_body_is_read(api_alice, customer, settings):
    settings.OTOORDER_SCAN_MAX_BYTES = 1000
    response = upload(api_alice, customer, b"\0" * (200 * 1024))
    assert response.status_code == 400
    assert response.json()["code"] == "scan_too_large"
    assert not Impression.objects.exists()
