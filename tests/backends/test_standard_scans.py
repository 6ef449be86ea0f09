"""The standard process e-mails the scans of the ears' digital impressions with the order, under
the name the PDF gives them, up to the operator's limit (``OTOORDER_MAIL_SCAN_LIMIT_MB``); a
scan beyond it stays out and the PDF tells the lab how it gets the file. Delivered to a real
SMTP server on loopback (aiosmtpd)."""

import hashlib
from dataclasses import replace

import pytest

from otoorder.backends.document import PartyDocument, ScanDocument
from otoorder.backends.result import ResultStatus
from otoorder.backends.standard import StandardBackend
from tests.documents import LEFT_RIC, RIGHT_BTE, order_document, stored

from .test_standard_cancellation import pdf_text, received, smtp  # noqa: F401 (the loopback SMTP lab)

MB = 1024 * 1024


@pytest.fixture(autouse=True)
def limit(settings, tmp_path):
    settings.OTOORDER_MAIL_SCAN_LIMIT_MB = 1
    settings.MEDIA_ROOT = tmp_path / "private"


def scan(tmp_path, side, size):
    content = (b"solid ear\n" + b"x" * size)[:size]
    return ScanDocument(
        filename=f"{side}.stl",
        stored_name=stored(f"scans/{side}-stored.stl", content),
        side=side,
        content_type="model/stl",
        file_format="stl_ascii",
        sha256=hashlib.sha256(content).hexdigest(),
        size=size,
    ), content


def scanned(item, side):
    return replace(item, impression_kind="scan", impression_kind_label="Scan", scan_format="stl_ascii", scan_file_name=f"{side}.stl")


def document(*scans, method="email"):
    return order_document(
        supplier_order_method=method,
        supplier=PartyDocument(name="Labor Nord", email="auftrag@labor-nord.test"),
        items=(scanned(RIGHT_BTE, "right"), scanned(LEFT_RIC, "left")),
        scans=scans,
    )


def parts(mail):
    return {part.get_filename(): part for part in mail.iter_attachments()}


def test_the_scans_travel_with_the_mail_under_the_name_the_pdf_gives(smtp, tmp_path):
    right, right_bytes = scan(tmp_path, "right", 300_000)
    left, left_bytes = scan(tmp_path, "left", 200_000)

    result = StandardBackend({}).send(document(right, left))

    attached = parts(received(smtp))
    assert set(attached) == {"Bestellung-OT-2026-000042.pdf", "right.stl", "left.stl"}
    assert attached["right.stl"].get_payload(decode=True) == right_bytes
    assert attached["left.stl"].get_payload(decode=True) == left_bytes
    assert attached["right.stl"].get_content_type() == "model/stl"
    text = pdf_text(attached["Bestellung-OT-2026-000042.pdf"].get_content())
    assert "Datei: right.stl" in text and "Datei: left.stl" in text
    assert "Als Anhang dieser E-Mail: right.stl" in text and "Als Anhang dieser E-Mail: left.stl" in text
    assert "separat" not in text
    assert result.status == ResultStatus.ORDERED and "separat" not in result.message


def test_a_scan_over_the_limit_stays_out_and_the_pdf_says_how_the_lab_gets_it(smtp, tmp_path):
    right, right_bytes = scan(tmp_path, "right", 700_000)
    left, _left_bytes = scan(tmp_path, "left", 600_000)  # 1.3 MB together: the limit is 1 MB

    result = StandardBackend({}).send(document(right, left))

    attached = parts(received(smtp))
    assert set(attached) == {"Bestellung-OT-2026-000042.pdf", "right.stl"}
    assert attached["right.stl"].get_payload(decode=True) == right_bytes
    text = " ".join(pdf_text(attached["Bestellung-OT-2026-000042.pdf"].get_content()).split())
    assert "Als Anhang dieser E-Mail: right.stl" in text
    assert "Nicht in dieser Sendung (0,6 MB): die Filiale sendet die Datei left.stl separat" in text
    # Staff read in the order's history what they still have to send.
    assert result.status == ResultStatus.ORDERED
    assert "left.stl (0,6 MB) separat an das Labor senden" in result.message
    assert result.request_summary["scans_separate"] == [{"side": "left", "name": "left.stl", "size": 600_000}]


def test_limit_zero_attaches_no_scan(smtp, tmp_path, settings):
    settings.OTOORDER_MAIL_SCAN_LIMIT_MB = 0
    right, _ = scan(tmp_path, "right", 1000)

    StandardBackend({}).send(document(right))

    assert set(parts(received(smtp))) == {"Bestellung-OT-2026-000042.pdf"}


def test_a_printed_form_says_the_file_comes_separately(smtp, tmp_path):
    right, _ = scan(tmp_path, "right", 1000)

    backend = StandardBackend({})
    payload = backend.build_payload(document(right, method="print"))

    assert payload["message"] is None and smtp.accepted == []
    assert "die Filiale sendet die Datei right.stl separat" in " ".join(pdf_text(payload["pdf"]).split())
