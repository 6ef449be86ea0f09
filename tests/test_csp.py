"""A Content-Security-Policy on every response, and templates it needs no exception for."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def policy(response):
    header = response["Content-Security-Policy"]
    return dict((part.strip().split(" ", 1) + [""])[:2] for part in header.split(";") if part.strip())


@pytest.mark.parametrize(
    "url", ["/login/", "/kunden/", "/api/v1/customers/", "/api/schema/", "/gibt-es-nicht/", "/django-admin/login/"]
)
def test_every_response_carries_the_policy(client, alice, url):
    client.force_login(alice)
    directives = policy(client.get(url))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"  # no nonce unless a page asks for one
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"


def test_api_errors_and_anonymous_answers_carry_it_too(db):
    response = APIClient().get("/api/v1/orders/")
    assert response.status_code == 401 and "default-src 'self'" in response["Content-Security-Policy"]


def test_the_import_map_of_the_scan_page_is_admitted_by_nonce(client, alice, customer, tmp_path, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from otoorder.orders import scans
    from tests import scan_files

    settings.MEDIA_ROOT = tmp_path
    impression = scans.create_impression(
        customer=customer, side="left", kind="scan", upload=SimpleUploadedFile("l.stl", scan_files.stl_binary())
    )
    client.force_login(alice)
    response = client.get(f"/bestellungen/abdruecke/{impression.pk}/")
    nonce = re.search(r'<script type="importmap" nonce="([^"]+)">', response.content.decode()).group(1)
    assert policy(response)["script-src"] == f"'self' 'nonce-{nonce}'"


def template_files():
    folders = [Path(folder) for folder in settings.TEMPLATES[0]["DIRS"]]
    folders += [path for path in ROOT.glob("**/templates") if ".venv" not in path.parts and "node_modules" not in path.parts]
    return sorted({path for folder in folders for path in folder.rglob("*.html")})


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*\bnonce=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "inline event handler"),
    (re.compile(r"\bhx-on", re.I), "hx-on handler (eval)"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_templates_hold_no_inline_script_or_style():
    files = template_files()
    assert len(files) > 30
    found = [
        f"{path.relative_to(ROOT)}: {what}"
        for path in files
        for pattern, what in INLINE
        if pattern.search(path.read_text())
    ]
    assert found == []
    nonced = [path for path in files if "nonce=" in path.read_text()]
    assert [path.name for path in nonced] == ["impression_detail.html"]  # the import map only


def test_the_api_answers_a_browser_with_json_not_the_browsable_api(client, alice):
    """DRF's browsable API needs inline scripts and styles, which the policy refuses."""
    client.force_login(alice)
    response = client.get("/api/v1/orders/", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
