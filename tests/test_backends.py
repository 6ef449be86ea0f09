"""The backend protocol: registry, option schemas, error classes and the PDF order form."""

from io import BytesIO

import pytest
from django.core.exceptions import ValidationError
from pypdf import PdfReader

from otoorder.backends import registry
from otoorder.backends.base import BaseBackend
from otoorder.backends.document import PartyDocument
from otoorder.backends.exceptions import (
    BackendNotAvailable,
    ConfigurationError,
    OrderRejected,
    PermanentError,
    TransientError,
)
from otoorder.backends.options import Option, OptionsSchema, validate_lab_url
from otoorder.backends.pdf import render_order_form
from otoorder.backends.standard import StandardBackend
from tests.documents import order_document
from tests.unavailable_backend import unavailable_backend  # noqa: F401 - fixture

SEED_KEYS = {
    "standard",
    "audia_easy_order",
    "audia_easy_order_portal",
    "dreve_smartorder",
    "egger_bestellsystem",
    "egger_erp",
    "hoerluchs_partner",
    "command_line",
    "otofaktur_otoport",
}


def document(**overrides):
    return order_document(
        **{
            "supplier": PartyDocument(name="Dreve", email="bestellung@dreve.test"),
            "supplier_order_method": "email",
            "notes": "Bitte weiche Kante.",
            **overrides,
        }
    )


def test_registry_holds_the_nine_interfaces_of_the_seed():
    assert set(registry.BACKENDS) == SEED_KEYS
    assert {key for key, _label in registry.choices()} == SEED_KEYS
    for cls in registry.all_backend_classes():
        assert issubclass(cls, BaseBackend) and cls.key in SEED_KEYS and cls.label


def test_unknown_backend_is_a_configuration_error():
    with pytest.raises(ConfigurationError):
        registry.get_backend_class("fax_robot")


def test_every_interface_of_the_seed_is_available():
    for cls in registry.all_backend_classes():
        assert getattr(cls, "available", True), cls.key


def test_unavailable_backend_refuses_clearly(unavailable_backend):
    backend = registry.get_backend_class(unavailable_backend)({})
    with pytest.raises(BackendNotAvailable, match="noch nicht verfügbar"):
        backend.send(document())
    check = backend.test_connection()
    assert not check.ok and "noch nicht verfügbar" in check.message


def test_error_classes_carry_permanence():
    assert not TransientError("x").permanent
    assert PermanentError("x").permanent and OrderRejected("x").permanent and ConfigurationError("x").permanent
    assert not isinstance(ConfigurationError("x"), TransientError)


SCHEMA = OptionsSchema(
    [
        Option("endpoint_url", "Adresse", kind="url"),
        Option("api_key", "API-Schlüssel", secret=True),
        Option("timeout_seconds", "Zeitlimit", kind="int", required=False, default=30, min_value=1, max_value=300),
        Option("arguments", "Argumente", kind="list", required=False),
    ]
)


def test_options_are_validated_and_split_into_secrets():
    options, secrets = SCHEMA.validate({"endpoint_url": "https://lab.example/api", "api_key": "s3cret", "arguments": "a\nb"})
    assert options == {"endpoint_url": "https://lab.example/api", "timeout_seconds": 30, "arguments": ["a", "b"]}
    assert secrets == {"api_key": "s3cret"}


def test_unknown_and_missing_options_are_named():
    with pytest.raises(ValidationError) as caught:
        SCHEMA.validate({"endpont_url": "https://x", "timeout_seconds": "lang"})
    errors = caught.value.message_dict
    assert set(errors) == {"endpont_url", "endpoint_url", "api_key", "timeout_seconds"}
    assert "endpont_url" in errors["endpont_url"][0]


def test_empty_secret_keeps_the_stored_one():
    _options, secrets = SCHEMA.validate({"endpoint_url": "https://lab.example", "api_key": ""}, stored_secrets={"api_key": "old"})
    assert secrets == {"api_key": "old"}


def test_json_schema_marks_secrets_write_only():
    schema = SCHEMA.json_schema()
    assert schema["properties"]["api_key"]["writeOnly"] is True
    assert schema["required"] == ["endpoint_url", "api_key"]


@pytest.mark.parametrize(
    "url,ok",
    [
        ("https://lab.example/order", True),
        ("http://127.0.0.1:8080/order", True),
        ("http://localhost:8080/order", True),
        ("http://[::1]:8080/", True),
        ("http://lab.example/order", False),
        ("ftp://lab.example/", False),
        ("not a url", False),
    ],
)
def test_lab_urls_must_be_https_except_loopback(url, ok):
    if ok:
        validate_lab_url(url)
    else:
        with pytest.raises(ValidationError):
            validate_lab_url(url)


def test_backend_with_bad_options_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="Absender-Adresse"):
        StandardBackend({"from_email": "keine-adresse"})


def test_pdf_order_form_holds_the_order():
    text = "\n".join(page.extract_text() for page in PdfReader(BytesIO(render_order_form(document()))).pages)
    for expected in ("OT-2026-000042", "K-4711", "EM-10001", "Filiale Mitte", "rechts", "links", "Schale", "Stöpsel", "Express", "Bitte weiche Kante."):
        assert expected in text


def test_standard_backend_refuses_supplier_without_email():
    backend = StandardBackend({})
    with pytest.raises(OrderRejected):
        backend.send(document(supplier=PartyDocument(name="Dreve", email="")))


def test_standard_backend_refuses_interface_suppliers():
    with pytest.raises(ConfigurationError):
        StandardBackend({}).send(document(supplier_order_method="interface"))


def test_standard_connection_check_reports_unreachable_server(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # discard port: nothing listens
    check = StandardBackend({}, timeout=2).test_connection()
    assert not check.ok and "nicht erreichbar" in check.message


def test_pdf_order_form_breaks_long_forms_across_pages():
    notes = "\n".join(f"Zeile {n}: bitte beachten" for n in range(120))
    reader = PdfReader(BytesIO(render_order_form(document(notes=notes))))
    assert len(reader.pages) >= 2
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Zeile 0:" in text and "Zeile 119:" in text
