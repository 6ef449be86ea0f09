"""Otofaktur Otoport over SFTP, against a real SFTP server on 127.0.0.1 (tests/labs/sftp_lab.py)."""

import os
import socket
from datetime import timedelta

import asyncssh
import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from lxml import etree
from rest_framework.test import APIClient

from branches.models import InterfaceDefinition

from otoorder.backends.exceptions import ConfigurationError, TransientError
from otoorder.backends.otofaktur_otoport import OtofakturOtoportBackend
from otoorder.backends.result import ResultStatus
from otoorder.backends.transports.files import ROOT_ENV
from otoorder.orders import dispatch, polling
from otoorder.orders.choices import OrderStatus
from otoorder.orders.models import Dispatch, EarmouldOrder
from tests import factories as f
from tests.documents import order_document
from tests.factories import bte_item, ric_item
from tests.labs.sftp_lab import HOST, free_port, sftp_lab  # noqa: F401 - fixture

from .test_otoport import status_xml

ORDER_ID = "6f1c2d8e-0000-4000-8000-0000000000a1"
OTHER_ID = "6f1c2d8e-0000-4000-8000-0000000000a2"
#: Short enough that "no answer" tests are quick, long enough for a loaded test machine.
TIMEOUT = 5.0


@pytest.fixture
def lab(sftp_lab):
    (sftp_lab.root / "out").mkdir()
    (sftp_lab.root / "in").mkdir()
    return sftp_lab


def backend(lab, timeout=TIMEOUT, **overrides):
    return OtofakturOtoportBackend(lab.options(**overrides), timeout=timeout)


def other_host_key():
    key = asyncssh.generate_private_key("ssh-ed25519").export_public_key("openssh").decode()
    return " ".join(key.split()[:2])


def validate(**values):
    return OtofakturOtoportBackend.options_schema().validate(values)


def entries(folder):
    return sorted(os.listdir(folder))


# --- send -------------------------------------------------------------------------------


def test_order_file_is_uploaded_as_uuid_xml_with_the_order(lab):
    result = backend(lab).send(order_document(order_id=ORDER_ID, order_number="OT-2026-000321"))
    assert entries(lab.root / "out") == [f"{ORDER_ID}.xml"]
    tree = etree.parse(str(lab.root / "out" / f"{ORDER_ID}.xml")).getroot()
    assert tree.tag == "otoport-order" and tree.get("version") == "1"
    assert tree.findtext("order-id") == ORDER_ID
    assert tree.findtext("order-number") == "OT-2026-000321"
    assert [item.get("side") for item in tree.iterfind("items/item")] == ["right", "left"]
    assert result.status == ResultStatus.ORDERED
    assert result.request_summary == {
        "sftp_host": f"{HOST}:{lab.port}",
        "remote_outbox": "out",
        "file": f"{ORDER_ID}.xml",
        "bytes": len((lab.root / "out" / f"{ORDER_ID}.xml").read_bytes()),
    }
    assert lab.posix_renames == 1  # uploaded under a temp name, then renamed over


def test_resend_overwrites_and_leaves_no_temp_file(lab):
    configured = backend(lab)
    configured.send(order_document(order_id=ORDER_ID, notes="erste Fassung"))
    configured.send(order_document(order_id=ORDER_ID, notes="zweite Fassung"))
    assert entries(lab.root / "out") == [f"{ORDER_ID}.xml"]  # hidden .part files would show here
    tree = etree.parse(str(lab.root / "out" / f"{ORDER_ID}.xml")).getroot()
    assert tree.findtext("notes") == "zweite Fassung"


def test_a_server_without_posix_rename_gets_remove_and_rename(lab):
    lab.posix_rename_supported = False
    configured = backend(lab)
    configured.send(order_document(order_id=ORDER_ID, notes="erste Fassung"))
    configured.send(order_document(order_id=ORDER_ID, notes="zweite Fassung"))
    assert entries(lab.root / "out") == [f"{ORDER_ID}.xml"]
    assert etree.parse(str(lab.root / "out" / f"{ORDER_ID}.xml")).getroot().findtext("notes") == "zweite Fassung"
    (lab.root / "in" / f"{ORDER_ID}.status.xml").write_bytes(status_xml(ORDER_ID, "received"))
    backend(lab).read_inbox()
    (lab.root / "in" / f"{ORDER_ID}.status.xml").write_bytes(status_xml(ORDER_ID, "shipped"))
    backend(lab).read_inbox()
    assert entries(lab.root / "in" / "processed") == [f"{ORDER_ID}.status.xml"]
    assert b"shipped" in (lab.root / "in" / "processed" / f"{ORDER_ID}.status.xml").read_bytes()


def test_nested_and_absolute_remote_folders(lab):
    (lab.root / "otoport" / "bestellungen").mkdir(parents=True)
    backend(lab, remote_outbox="/otoport//bestellungen/").send(order_document(order_id=ORDER_ID))
    assert entries(lab.root / "otoport" / "bestellungen") == [f"{ORDER_ID}.xml"]


def test_a_missing_remote_outbox_is_a_configuration_error(lab):
    with pytest.raises(ConfigurationError, match="gibt es auf dem SFTP-Server"):
        backend(lab, remote_outbox="fehlt").send(order_document(order_id=ORDER_ID))


def test_permission_denied_is_a_configuration_error_and_leaves_nothing(lab):
    lab.make_read_only("out")
    with pytest.raises(ConfigurationError, match="Keine Berechtigung"):
        backend(lab).send(order_document(order_id=ORDER_ID))
    assert entries(lab.root / "out") == []


# --- connection errors ------------------------------------------------------------------


def test_wrong_password_is_a_configuration_error(lab):
    with pytest.raises(ConfigurationError, match="Passwort"):
        backend(lab, password="falsch").send(order_document(order_id=ORDER_ID))
    assert entries(lab.root / "out") == []


def test_wrong_host_key_is_refused_before_logging_in(lab):
    with pytest.raises(ConfigurationError, match="anderen Schlüssel") as refused:
        backend(lab, sftp_host_key=other_host_key()).send(order_document(order_id=ORDER_ID))
    assert "ssh-ed25519" in refused.value.detail
    assert entries(lab.root / "out") == []


def test_a_host_key_of_another_type_is_refused_too(lab):
    rsa = asyncssh.generate_private_key("ssh-rsa", key_size=2048).export_public_key("openssh").decode()
    with pytest.raises(ConfigurationError, match="anderen Schlüssel"):
        backend(lab, sftp_host_key=rsa).send(order_document(order_id=ORDER_ID))
    assert entries(lab.root / "out") == []


def test_server_down_is_transient(lab):
    with pytest.raises(TransientError, match="nicht erreichbar"):
        backend(lab, sftp_port=free_port()).send(order_document(order_id=ORDER_ID))


def test_a_server_that_never_answers_is_transient_after_the_timeout():
    with socket.socket() as silent:  # accepts connections (kernel backlog), never speaks SSH
        silent.bind((HOST, 0))
        silent.listen(1)
        options = {
            "sftp_host": HOST,
            "sftp_port": silent.getsockname()[1],
            "username": "otoport",
            "password": "x",
            "sftp_host_key": other_host_key(),
            "remote_outbox": "out",
            "remote_inbox": "in",
        }
        with pytest.raises(TransientError):
            OtofakturOtoportBackend(options, timeout=0.5).send(order_document(order_id=ORDER_ID))


# --- answers ----------------------------------------------------------------------------


def test_status_files_are_read_and_moved_to_processed(lab):
    inbox = lab.root / "in"
    (inbox / f"{ORDER_ID}.status.xml").write_bytes(status_xml(ORDER_ID, "shipped", tracking="00340434161094042557"))
    (inbox / f"{OTHER_ID}.status.xml").write_bytes(status_xml(OTHER_ID, "received", reference="OF-9"))
    (inbox / "kaputt.status.xml").write_bytes(b"kaputt")
    (inbox / f".{OTHER_ID}.status.xml.part").write_bytes(b"halb")  # the lab's upload in progress
    (inbox / "notiz.txt").write_bytes(b"ignored")
    calls = []
    applied = backend(lab).read_inbox(lambda order_id, update: calls.append((order_id, update.status)))
    assert calls == [(ORDER_ID, "shipped"), (OTHER_ID, "confirmed")]
    shipped = applied[0]["update"]
    assert (shipped.external_reference, shipped.tracking_number) == ("OF-2026-7781", "00340434161094042557")
    assert entries(inbox / "processed") == [f"{ORDER_ID}.status.xml", f"{OTHER_ID}.status.xml"]
    assert entries(inbox / "invalid") == ["kaputt.status.xml"]
    assert entries(inbox) == [f".{OTHER_ID}.status.xml.part", "invalid", "notiz.txt", "processed"]
    assert backend(lab).read_inbox(lambda *args: pytest.fail("nothing twice")) == []


def test_a_later_status_file_replaces_the_processed_one(lab):
    inbox = lab.root / "in"
    (inbox / f"{ORDER_ID}.status.xml").write_bytes(status_xml(ORDER_ID, "received"))
    backend(lab).read_inbox()
    (inbox / f"{ORDER_ID}.status.xml").write_bytes(status_xml(ORDER_ID, "shipped"))
    [entry] = backend(lab).read_inbox()
    assert entry["update"].status == "shipped"
    assert b"shipped" in (inbox / "processed" / f"{ORDER_ID}.status.xml").read_bytes()


def test_a_file_whose_application_fails_stays_for_the_next_run(lab):
    inbox = lab.root / "in"
    (inbox / f"{ORDER_ID}.status.xml").write_bytes(status_xml(ORDER_ID, "in_production"))

    def refuse(order_id, update):
        raise RuntimeError("database busy")

    assert backend(lab).read_inbox(refuse) == []
    assert entries(inbox) == [f"{ORDER_ID}.status.xml"]
    [entry] = backend(lab).read_inbox()
    assert entry["update"].status == "in_production"


def test_an_oversized_status_file_is_invalid(lab):
    inbox = lab.root / "in"
    (inbox / f"{ORDER_ID}.status.xml").write_bytes(b"<" + b"x" * (300 * 1024))
    assert backend(lab).read_inbox(lambda *args: pytest.fail("must not be applied")) == []
    assert entries(inbox / "invalid") == [f"{ORDER_ID}.status.xml"]


def test_reading_an_unreachable_inbox_raises_transient(lab):
    with pytest.raises(TransientError):
        backend(lab, sftp_port=free_port()).read_inbox()


# --- Verbindung testen ------------------------------------------------------------------


def test_connection_check_succeeds_and_leaves_no_probe(lab):
    check = backend(lab).test_connection()
    assert check.ok, check.message
    assert "SFTP-Server" in check.message
    assert entries(lab.root / "out") == [] and entries(lab.root / "in") == []


@pytest.mark.parametrize(
    "prepare, overrides, expected",
    [
        (lambda lab: None, {"remote_inbox": "fehlt"}, "Den Ordner fehlt gibt es"),
        (lambda lab: lab.make_read_only("in"), {}, "Keine Berechtigung für den Ordner in"),
        (lambda lab: None, {"password": "falsch"}, "Passwort"),
        (lambda lab: None, {"sftp_host_key": other_host_key()}, "anderen Schlüssel"),
    ],
)
def test_connection_check_reports_the_reason(lab, prepare, overrides, expected):
    prepare(lab)
    check = backend(lab, **overrides).test_connection()
    assert not check.ok
    assert expected in check.message


def test_connection_check_of_a_server_that_is_down(lab):
    check = backend(lab, sftp_port=free_port()).test_connection()
    assert not check.ok and "nicht erreichbar" in check.message


# --- options ----------------------------------------------------------------------------


def sftp_values(**overrides):
    return {
        "sftp_host": "sftp.otofaktur.example",
        "username": "filiale",
        "password": "geheim",
        "sftp_host_key": other_host_key(),
        "remote_outbox": "otoport/out",
        "remote_inbox": "otoport/in",
        **overrides,
    }


def test_sftp_options_are_cleaned():
    key = other_host_key()
    options, secrets = validate(**sftp_values(sftp_host_key=f"[sftp.otofaktur.example]:2222 {key} lab@otofaktur"))
    assert options["sftp_host_key"] == key  # host names and comment dropped
    assert options["sftp_port"] == 22
    assert options["remote_outbox"] == "otoport/out"
    assert secrets == {"password": "geheim"}
    assert "outbox_dir" not in options  # local folders not needed with SFTP


def test_a_host_without_host_key_is_refused():
    with pytest.raises(ValidationError) as refused:
        validate(**sftp_values(sftp_host_key=""))
    assert list(refused.value.message_dict) == ["sftp_host_key"]
    assert "Für SFTP fehlt die Option" in refused.value.message_dict["sftp_host_key"][0]


def test_a_host_needs_all_its_options():
    with pytest.raises(ValidationError) as refused:
        validate(sftp_host="sftp.otofaktur.example")
    assert sorted(refused.value.message_dict) == sorted(
        ["username", "password", "remote_outbox", "remote_inbox", "sftp_host_key"]
    )


@pytest.mark.parametrize("folder", ["../etc", "otoport/../../etc", "/srv/..", "out/..", "out\x00"])
def test_remote_folders_with_dotdot_are_refused(folder):
    with pytest.raises(ValidationError) as refused:
        validate(**sftp_values(remote_inbox=folder))
    assert list(refused.value.message_dict) == ["remote_inbox"]


@pytest.mark.parametrize(
    "host_key",
    ["AAAAC3NzaC1lZDI1NTE5", "ssh-ed25519 kein-base64!", "ssh-ed25519 AAAAB3NzaC1yc2E=", "@revoked * ssh-ed25519 AAAA"],
)
def test_host_keys_that_are_no_keys_are_refused(host_key):
    with pytest.raises(ValidationError) as refused:
        validate(**sftp_values(sftp_host_key=host_key))
    assert "known_hosts" in refused.value.message_dict["sftp_host_key"][0]


@pytest.mark.parametrize("host", ["sftp://lab.example", "user@lab.example", "lab.example:22", "lab example", "-lab"])
def test_host_is_a_name_or_address_only(host):
    with pytest.raises(ValidationError) as refused:
        validate(**sftp_values(sftp_host=host))
    assert list(refused.value.message_dict) == ["sftp_host"]


def test_remote_folders_must_differ():
    with pytest.raises(ValidationError) as refused:
        validate(**sftp_values(remote_outbox="otoport/x", remote_inbox="otoport/./x/"))
    assert list(refused.value.message_dict) == ["remote_inbox"]


def test_local_folders_next_to_sftp_are_refused(tmp_path, monkeypatch):
    monkeypatch.setenv(ROOT_ENV, str(tmp_path))
    with pytest.raises(ValidationError) as refused:
        validate(**sftp_values(outbox_dir="out"))
    assert list(refused.value.message_dict) == ["outbox_dir"]


def test_without_sftp_the_local_folders_are_required(tmp_path, monkeypatch):
    monkeypatch.setenv(ROOT_ENV, str(tmp_path))
    with pytest.raises(ValidationError) as refused:
        validate(inbox_dir="in")
    assert "oder einen SFTP-Server angeben" in refused.value.message_dict["outbox_dir"][0]
    with pytest.raises(ConfigurationError, match="Ausgangsordner"):
        OtofakturOtoportBackend({})


def test_sftp_options_without_a_host_are_refused(tmp_path, monkeypatch):
    monkeypatch.setenv(ROOT_ENV, str(tmp_path))
    with pytest.raises(ValidationError) as refused:
        validate(outbox_dir="out", inbox_dir="in", remote_outbox="otoport/out")
    assert list(refused.value.message_dict) == ["remote_outbox"]
    # A password stored from an earlier SFTP setup is write-only and does not block saving.
    schema = OtofakturOtoportBackend.options_schema()
    schema.validate({"outbox_dir": "out", "inbox_dir": "in"}, stored_secrets={"password": "alt"})


def test_the_stored_password_counts_as_given():
    schema = OtofakturOtoportBackend.options_schema()
    _options, secrets = schema.validate(sftp_values(password=""), stored_secrets={"password": "gespeichert"})
    assert secrets == {"password": "gespeichert"}


def test_json_schema_says_local_folders_or_sftp():
    schema = OtofakturOtoportBackend.options_schema().json_schema()
    assert schema["required"] == []
    assert schema["anyOf"] == [
        {"required": ["outbox_dir", "inbox_dir"]},
        {"required": ["sftp_host", "username", "password", "remote_outbox", "remote_inbox", "sftp_host_key"]},
    ]
    assert schema["properties"]["password"]["writeOnly"] is True
    assert schema["properties"]["sftp_port"]["default"] == 22


# --- through the API, the outbox and the poll ---------------------------------------------


def api_client(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def otofaktur(mitte):
    company = f.CompanyFactory(name="Otofaktur Labor")
    supplier = f.SupplierFactory(company=company, order_method="interface")
    f.SupplierAccountFactory(branch=mitte, supplier=supplier, account_number="OF-501")
    return supplier


@pytest.fixture
def definition(db, lab, dave, otofaktur, settings):
    settings.OTOORDER_DISPATCH = {**settings.OTOORDER_DISPATCH, "TRANSPORT_TIMEOUT": TIMEOUT}
    payload = {
        "name": "Otoport per SFTP",
        "backend": "otofaktur_otoport",
        "companies": [str(otofaktur.company.pk)],
        "supplier": str(otofaktur.pk),
        "options": lab.options(),
    }
    response = api_client(dave).post("/api/v1/interface-definitions/", payload, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["secrets_set"] == ["password"] and "password" not in response.json()["options"]
    return InterfaceDefinition.objects.get(pk=response.json()["id"])


def place(alice, transaction_obj, supplier):
    payload = {
        "transaction": str(transaction_obj.pk),
        "company": str(supplier.company.pk),
        "supplier": str(supplier.pk),
        "items": [bte_item("right"), ric_item("left")],
        "notes": "Bitte bis Freitag",
    }
    response = api_client(alice).post("/api/v1/orders/", payload, format="json")
    assert response.status_code == 201, response.json()
    return EarmouldOrder.objects.get(pk=response.json()["id"])


def reconfigure(definition, **changes):
    definition.options = {**definition.options, **{k: v for k, v in changes.items() if k != "password"}}
    if "password" in changes:
        definition.secrets = {**definition.secrets, "password": changes["password"]}
    definition.save()


def make_due(order):
    Dispatch.objects.filter(order=order).update(due_at=timezone.now() - timedelta(seconds=1))


@pytest.mark.django_db
def test_an_incomplete_sftp_definition_is_refused_by_the_api(dave, otofaktur, lab):
    payload = {
        "name": "Otoport ohne Schlüssel",
        "backend": "otofaktur_otoport",
        "companies": [str(otofaktur.company.pk)],
        "options": lab.options(sftp_host_key="", remote_inbox="../etc"),
    }
    response = api_client(dave).post("/api/v1/interface-definitions/", payload, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]["options"]
    assert "Für SFTP fehlt die Option" in errors["sftp_host_key"][0]
    assert "„..“" in errors["remote_inbox"][0]
    assert not InterfaceDefinition.objects.filter(backend="otofaktur_otoport").exists()


@pytest.mark.django_db
def test_order_through_the_api_arrives_on_the_sftp_server_and_the_answer_comes_back(
    definition, lab, alice, transaction_obj, otofaktur
):
    order = place(alice, transaction_obj, otofaktur)
    assert order.interface_definition == definition
    assert dispatch.run(order.dispatch.pk) == OrderStatus.ORDERED
    assert entries(lab.root / "out") == [f"{order.pk}.xml"]
    tree = etree.parse(str(lab.root / "out" / f"{order.pk}.xml")).getroot()
    assert tree.findtext("order-id") == str(order.pk)
    assert tree.findtext("order-number") == order.number
    assert tree.findtext("supplier-account") == "OF-501"
    assert tree.findtext("notes") == "Bitte bis Freitag"
    assert sorted(item.get("side") for item in tree.iterfind("items/item")) == ["left", "right"]
    attempt = order.attempts.get()
    assert attempt.outcome == "ordered"

    (lab.root / "in" / f"{order.pk}.status.xml").write_bytes(status_xml(order.pk, "accepted", reference="OF-2026-1"))
    assert polling.poll_definition(definition) == 1
    order.refresh_from_db()
    assert (order.status, order.external_reference) == ("confirmed", "OF-2026-1")
    assert entries(lab.root / "in" / "processed") == [f"{order.pk}.status.xml"]


@pytest.mark.django_db
def test_server_down_is_retried_and_succeeds_when_it_is_back(definition, lab, alice, transaction_obj, otofaktur):
    order = place(alice, transaction_obj, otofaktur)
    port = definition.options["sftp_port"]
    reconfigure(definition, sftp_port=free_port())
    assert dispatch.run(order.dispatch.pk) == OrderStatus.QUEUED
    assert "nicht erreichbar" in order.attempts.get().error
    reconfigure(definition, sftp_port=port)
    make_due(order)
    assert dispatch.run(order.dispatch.pk) == OrderStatus.ORDERED
    assert entries(lab.root / "out") == [f"{order.pk}.xml"]


@pytest.mark.django_db
def test_wrong_password_fails_visibly_and_resend_works_after_the_fix(definition, lab, alice, transaction_obj, otofaktur):
    order = place(alice, transaction_obj, otofaktur)
    reconfigure(definition, password="falsch")
    assert dispatch.run(order.dispatch.pk) == OrderStatus.FAILED
    order.refresh_from_db()
    assert "Benutzername oder Passwort" in order.attempts.get().error
    assert entries(lab.root / "out") == []
    reconfigure(definition, password=lab.password)
    response = api_client(alice).post(f"/api/v1/orders/{order.pk}/resend/")
    assert response.status_code == 200, response.json()
    assert dispatch.run(order.dispatch.pk) == OrderStatus.ORDERED
    assert entries(lab.root / "out") == [f"{order.pk}.xml"]


# --- after the order: cancellation and message files over SFTP ------------------------------


def test_cancellation_and_message_files_are_uploaded_like_the_order(lab):
    from otoorder.backends.result import CancelStatus
    from tests.backends.test_otoport_cancellation import MESSAGE_ID, message, request

    configured = backend(lab)
    order_id = "6f1c2d8e-0000-4000-8000-0000000000f7"
    result = configured.cancel(request())
    configured.cancel(request())  # repeated: the same file again
    configured.send_message(message())

    assert entries(lab.root / "out") == sorted([f"{order_id}-storno-1.cancel.xml", f"{MESSAGE_ID}.message.xml"])
    assert result.status == CancelStatus.PENDING
    assert result.request_summary["sftp_host"] == f"{HOST}:{lab.port}"
    tree = etree.parse(str(lab.root / "out" / f"{order_id}-storno-1.cancel.xml")).getroot()
    assert tree.tag == "otoport-cancellation" and tree.findtext("reason") == "Kunde verzichtet"
