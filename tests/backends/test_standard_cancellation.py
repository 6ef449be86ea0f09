"""The standard ordering process after the order: the "STORNO" e-mail with its PDF and staff's
answer to a lab question, delivered to a real SMTP server on loopback (aiosmtpd)."""

import email
import email.policy
import io
from dataclasses import replace
from datetime import datetime, timezone

import pypdf
import pytest

from otoorder.backends.document import CancellationDocument, MessageDocument, PartyDocument
from otoorder.backends.exceptions import OrderRejected, PermanentError, TransientError
from otoorder.backends.pdf import render_cancellation_form
from otoorder.backends.result import CancelStatus
from otoorder.backends.standard import StandardBackend
from tests.documents import order_document

from .test_contract import SmtpLab, free_port

ORDER_ID = "6f1c2d8e-0000-4000-8000-0000000000d1"
KEY = f"{ORDER_ID}-storno-1"
MESSAGE_ID = "7a2b3c4d-0000-4000-8000-0000000000d2"


@pytest.fixture
def smtp(settings):
    lab = SmtpLab()
    lab.controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", lab.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.DEFAULT_FROM_EMAIL = "bestellung@otoorder.test"
    yield lab
    lab.controller.stop()


def order(method="email", **overrides):
    return order_document(
        order_id=ORDER_ID,
        supplier_order_method=method,
        supplier=PartyDocument(name="Labor Nord", email="auftrag@labor-nord.test", phone="040 1", fax="040 2"),
        **overrides,
    )


def request(method="email", reason="Kunde hat das Hörsystem zurückgegeben"):
    return CancellationDocument(
        order=order(method),
        idempotency_key=KEY,
        sequence=1,
        reason=reason,
        requested_at=datetime(2026, 11, 25, 8, 0, tzinfo=timezone.utc),
        lab_reference="LN-889",
    )


def message(method="email", **order_overrides):
    return MessageDocument(
        order=order(method, **order_overrides),
        message_id=MESSAGE_ID,
        text="Bitte die Zusatzbohrung auf 0,8 mm verkleinern.",
        author="Alice Akustik",
        sent_at=datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc),
        lab_reference="LN-889",
        in_reply_to="",
        question="Die Zusatzbohrung 1,5 mm passt nicht.\nBitte um Rückmeldung.",
    )


def received(smtp):
    [raw] = smtp.accepted
    return email.message_from_bytes(raw, policy=email.policy.default)


def pdf_text(data):
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_the_storno_mail_reaches_the_lab_with_the_cancellation_pdf(smtp):
    result = StandardBackend({"reply_to": "mitte@hoerakustik.test"}).cancel(request())

    mail = received(smtp)
    assert mail["To"] == "auftrag@labor-nord.test"
    assert "STORNO" in mail["Subject"] and "OT-2026-000042" in mail["Subject"]
    assert mail["Message-ID"] == f"<{KEY}@otoorder>"
    assert mail["In-Reply-To"] == f"<{ORDER_ID}@otoorder>"
    assert mail["X-Otoorder-Cancellation-Id"] == KEY
    assert mail["Reply-To"] == "mitte@hoerakustik.test"
    body = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "STORNIEREN" in body and "Kunde hat das Hörsystem zurückgegeben" in body and "LN-889" in body
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == "Storno-OT-2026-000042.pdf"
    assert attachment.get_content_type() == "application/pdf"
    text = pdf_text(attachment.get_content())
    assert "STORNO / Stornierung der Bestellung OT-2026-000042" in text
    assert "Kunde hat das Hörsystem zurückgegeben" in text
    assert "LN-889" in text
    assert "rechts" in text and "links" in text  # the ears of the cancelled order
    assert result.status == CancelStatus.PENDING
    assert result.request_summary["idempotency_key"] == KEY
    assert result.request_summary["to"] == ["auftrag@labor-nord.test"]


def test_the_pdf_is_stamped_storno_and_names_no_customer_name():
    pdf = render_cancellation_form(request())

    text = pdf_text(pdf)
    assert text.count("STORNO") >= 2  # the stamp and the heading
    assert "EM-10001" in text  # only the customer reference, as on the order form


@pytest.mark.parametrize("method", ["print", "fax", "phone"])
def test_print_fax_and_phone_suppliers_get_the_manual_path(smtp, method):
    result = StandardBackend({}).cancel(request(method))

    assert result.status == CancelStatus.MANUAL
    assert "beim Labor melden" in result.message
    assert smtp.accepted == []


def test_storno_mail_errors_are_classified(smtp, settings):
    backend = StandardBackend({})
    smtp.script.append("451")
    with pytest.raises(TransientError):
        backend.cancel(request())
    smtp.script.append("550")
    with pytest.raises(PermanentError, match="Stornierung"):
        backend.cancel(request())
    settings.EMAIL_PORT = free_port()
    with pytest.raises(TransientError):
        backend.cancel(request())


def test_the_answer_to_a_question_goes_by_mail_with_the_question_quoted(smtp):
    result = StandardBackend({}).send_message(message())

    mail = received(smtp)
    assert mail["To"] == "auftrag@labor-nord.test"
    assert "Rückfrage" in mail["Subject"] and "OT-2026-000042" in mail["Subject"] and "LN-889" in mail["Subject"]
    assert mail["Message-ID"] == f"<{MESSAGE_ID}@otoorder>"
    assert mail["References"] == f"<{ORDER_ID}@otoorder>"
    body = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "Bitte die Zusatzbohrung auf 0,8 mm verkleinern." in body
    assert "> Die Zusatzbohrung 1,5 mm passt nicht.\n> Bitte um Rückmeldung." in body
    assert "Alice Akustik" in body
    assert result.request_summary["idempotency_key"] == MESSAGE_ID


def test_an_answer_to_a_supplier_without_mail_address_is_refused_readably(smtp):
    no_mail = replace(message(), order=replace(message().order, supplier=PartyDocument(name="Labor Telefon", phone="040 1")))

    with pytest.raises(OrderRejected, match="telefonisch"):
        StandardBackend({}).send_message(no_mail)
    assert smtp.accepted == []


def test_the_standard_process_declares_both_channels():
    assert StandardBackend.supports_cancellation and StandardBackend.supports_lab_messages
