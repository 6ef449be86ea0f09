"""The sandbox lab of ``make run``, in-process on a free port, driven by the real backends."""

import html
import os
import json
import re
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests

from otoorder.backends import opentrans, signing
from otoorder.backends.audia_easy_order import AudiaEasyOrderBackend
from otoorder.backends.command_line import CommandLineBackend
from otoorder.backends.document import CancellationDocument, MessageDocument, ScanDocument
from otoorder.backends.dreve_smartorder import DreveSmartOrderBackend
from otoorder.backends.egger_erp import EggerErpBackend
from otoorder.backends.hoerluchs_partner import HoerluchsPartnerBackend
from otoorder.backends.otofaktur_otoport import OtofakturOtoportBackend
from otoorder.backends.result import CancelStatus, ResultStatus
from otoorder.backends.transports.files import ROOT_ENV
from otoorder.backends.transports.subprocess import ALLOWLIST_ENV
from otoorder.orders import dispatch, services
from otoorder.orders.documents import build_document
from otoorder.orders.models import EarmouldOrder
from otoorder.sandbox.book import DEFAULT_QUESTION, REFUSAL
from otoorder.sandbox.config import SandboxConfig, write_config
from otoorder.sandbox.server import SandboxLab
from tests import factories as f
from tests.documents import order_document, stored
from tests.labs.http_lab import Reply
from tests.schemas import opentrans_xsd

SANDBOX_BIN = Path(__file__).resolve().parent.parent / "otoorder" / "sandbox" / "bin"
EGGER_DEFINITION = "0b7c9a52-7d0e-4b7e-9d8f-5f1d2a3b4c5d"


def config(**overrides):
    return {
        "otoorder_url": "",
        "dreve": {"api_key": "dreve-key"},
        "audia": {"username": "audia", "password": "audia-pw"},
        "hoerluchs": {"username": "hl", "password": "hl-pw"},
        "egger": {"username": "egger", "password": "egger-pw", "definition_id": EGGER_DEFINITION, "shared_secret": "egger-secret"},
        "timing": {"step_seconds": 60, "egger_confirm_seconds": 0},
        **overrides,
    }


@pytest.fixture
def sandbox():
    lab = SandboxLab(config(), port=0).start(background=False)
    try:
        yield lab
    finally:
        lab.stop()


def test_dreve_order_is_confirmed_and_its_status_advances(sandbox):
    backend = DreveSmartOrderBackend({"endpoint_url": f"{sandbox.url}/dreve/api/v1", "api_key": "dreve-key"})
    assert backend.test_connection().ok
    result = backend.send(order_document())
    assert result.status == ResultStatus.CONFIRMED
    assert result.external_reference.startswith("DRV-")
    # The same idempotency key is the same order.
    assert backend.send(order_document()).external_reference == result.external_reference
    update = backend.poll_status(result.external_reference)
    assert (update.status, update.external_status) == ("confirmed", "received")

    sandbox.config._data["timing"]["step_seconds"] = 0
    update = backend.poll_status(result.external_reference)
    assert update.status == "shipped" and update.tracking_number.startswith("0034")


def test_dreve_refuses_a_wrong_key_and_an_unknown_order(sandbox):
    wrong = DreveSmartOrderBackend({"endpoint_url": f"{sandbox.url}/dreve/api/v1", "api_key": "other"})
    check = wrong.test_connection()
    assert not check.ok and "Zugangsdaten" in check.message
    backend = DreveSmartOrderBackend({"endpoint_url": f"{sandbox.url}/dreve/api/v1", "api_key": "dreve-key"})
    with pytest.raises(Exception, match="HTTP 404"):
        backend.poll_status("nonsense")


def test_hoerluchs_order_with_scans_is_confirmed(sandbox, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "private"
    backend = HoerluchsPartnerBackend({"endpoint_url": f"{sandbox.url}/hoerluchs/api", "username": "hl", "password": "hl-pw"})
    assert backend.test_connection().ok
    scan = ScanDocument("rechts.stl", stored("scans/rechts.stl", b"solid scan"), side="right", content_type="model/stl")
    document = order_document(scans=(scan,))
    result = backend.send(document)
    assert result.status == ResultStatus.CONFIRMED and result.external_reference.startswith("HL-")
    bad = HoerluchsPartnerBackend({"endpoint_url": f"{sandbox.url}/hoerluchs/api", "username": "hl", "password": "x"})
    assert not bad.test_connection().ok


def test_audia_answers_order_number_and_bestelldaten(sandbox):
    backend = AudiaEasyOrderBackend({"endpoint_url": f"{sandbox.url}/audia/api", "username": "audia", "password": "audia-pw"})
    assert backend.test_connection().ok
    result = backend.send(order_document())
    assert result.status == ResultStatus.CONFIRMED and result.external_reference.startswith("AU-")
    properties = result.data["properties"]
    assert properties["right"]["style"] == "shell" and properties["right"]["surface_finish"] == "lackiert"
    assert properties["left"]["receiver_power"] == "M"


def test_egger_takes_the_order_then_pushes_signed_answers(sandbox, http_lab):
    http_lab.script(Reply.empty(200), repeat=True)
    sandbox.config._data["otoorder_url"] = http_lab.url
    backend = EggerErpBackend(
        {
            "endpoint_url": f"{sandbox.url}/egger/erp",
            "username": "egger",
            "password": "egger-pw",
            "buyer_id": "AKU-1",
            "shared_secret": "egger-secret",
        }
    )
    assert backend.test_connection().ok
    result = backend.send(order_document())
    assert result.status == ResultStatus.ORDERED
    backend.send(order_document())  # a retry: still one order at egger

    sandbox.config._data["timing"]["step_seconds"] = 0
    assert sandbox.run_pushes() == 1  # ORDERRESPONSE; the DISPATCHNOTIFICATION is due next
    assert sandbox.run_pushes() == 1
    assert sandbox.run_pushes() == 0
    pushes = http_lab.requests_to(f"/api/v1/callbacks/{EGGER_DEFINITION}/")
    assert len(pushes) == 2
    kinds = []
    for push in pushes:
        signing.verify("egger-secret", push.body, push.header(signing.HEADER))
        assert opentrans.schema_errors(push.body, opentrans_xsd()) == []
        [entry] = EggerErpBackend.parse_callback(push.body)
        assert entry["order_number"] == "OT-2026-000042"
        kinds.append((entry["update"].status, bool(entry["update"].external_reference)))
    assert kinds == [("confirmed", True), ("shipped", True)]
    assert EggerErpBackend.parse_callback(pushes[1].body)[0]["update"].tracking_number


def test_egger_push_is_retried_while_otoorder_is_down(sandbox, http_lab):
    http_lab.script(Reply.status(503), Reply.empty(200))
    sandbox.config._data["otoorder_url"] = http_lab.url
    backend = EggerErpBackend(
        {"endpoint_url": f"{sandbox.url}/egger/erp", "username": "egger", "password": "egger-pw", "buyer_id": "AKU-1", "shared_secret": "s"}
    )
    backend.send(order_document())
    assert sandbox.run_pushes() == 0
    assert sandbox.run_pushes(now=time.time() + 60) == 1


def test_otoport_files_are_taken_and_answered(sandbox, tmp_path, monkeypatch):
    root = tmp_path / "exchange"
    monkeypatch.setenv(ROOT_ENV, str(root))
    sandbox.config._data["otoport"] = {"outbox": str(root / "otoport" / "out"), "inbox": str(root / "otoport" / "in")}
    backend = OtofakturOtoportBackend({"outbox_dir": "otoport/out", "inbox_dir": "otoport/in"})
    document = order_document()
    assert backend.send(document).status == ResultStatus.ORDERED
    (root / "otoport" / "out" / "not-an-order.txt").write_text("x")

    assert sandbox.otoport.tick() == 1
    assert (root / "otoport" / "out" / "taken" / f"{document.order_id}.xml").exists()
    assert (root / "otoport" / "out" / "not-an-order.txt").exists()
    [entry] = backend.read_inbox()
    assert entry["order_id"] == document.order_id
    assert (entry["update"].status, entry["update"].external_reference[:3]) == ("confirmed", "OF-")

    sandbox.config._data["timing"]["step_seconds"] = 0
    assert sandbox.otoport.tick() == 1
    [entry] = backend.read_inbox()
    assert entry["update"].status == "shipped" and entry["update"].tracking_number
    assert sandbox.otoport.tick() == 0


def test_command_line_demo_program(monkeypatch):
    monkeypatch.setenv(ALLOWLIST_ENV, str(SANDBOX_BIN))
    backend = CommandLineBackend(
        {"executable": str(SANDBOX_BIN / "demo-lab-order"), "arguments": ["{order_id}", "{order_file}"]}
    )
    document = order_document()
    result = backend.send(document)
    assert result.status == ResultStatus.CONFIRMED
    assert result.external_reference == "CMD-" + document.order_id[:8].upper()


def test_command_line_demo_program_refuses_a_wrong_call(monkeypatch):
    monkeypatch.setenv(ALLOWLIST_ENV, str(SANDBOX_BIN))
    backend = CommandLineBackend({"executable": str(SANDBOX_BIN / "demo-lab-order"), "arguments": ["{order_file}"]})
    with pytest.raises(Exception, match="ORDER_ID ORDER_FILE"):
        backend.send(order_document())


def test_unknown_paths_and_loopback_only(sandbox):
    assert requests.get(f"{sandbox.url}/nowhere", timeout=5).status_code == 404
    assert requests.get(f"{sandbox.url}/", timeout=5).status_code == 200
    with pytest.raises(ValueError):
        SandboxLab(config(), host="0.0.0.0", port=0)


def test_config_file_is_reread_when_it_changes(tmp_path):
    path = tmp_path / "sandbox.json"
    assert write_config(path, {"dreve": {"api_key": "a"}})
    assert not write_config(path, {"dreve": {"api_key": "a"}})
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    loaded = SandboxConfig(str(path))
    assert loaded.section("dreve") == {"api_key": "a"}
    write_config(path, {"dreve": {"api_key": "b"}, "timing": {"step_seconds": 5}})
    assert loaded.section("dreve") == {"api_key": "b"}
    assert loaded.timing("step_seconds") == 5.0 and loaded.timing("egger_confirm_seconds") == 3.0
    json.loads(path.read_text())


# --- with otoorder's real callback endpoint (live_server) -----------------------------------


def interface_lab(chain, backend, options, secrets):
    company = f.CompanyFactory(name=f"Labor {backend}")
    supplier = f.SupplierFactory(company=company, order_method="interface")
    return f.InterfaceDefinitionFactory(
        chain=chain, name=backend, backend=backend, supplier=supplier, options=options, secrets=secrets, companies=[company]
    )


def sent(definition, transaction_obj, user):
    """An order placed for the definition's lab and sent by the dispatcher, as the worker does."""
    order = services.place_order(
        transaction_obj=transaction_obj,
        company=definition.supplier.company,
        supplier=definition.supplier,
        items=[f.bte_item(), f.ric_item()],
        user=user,
    )
    dispatch.run(order.dispatch.pk)
    order.refresh_from_db()
    return order


def test_egger_pushes_reach_the_order_through_the_callback_endpoint(sandbox, live_server, transaction_obj, alice):
    definition = interface_lab(
        transaction_obj.customer.branch.chain,
        "egger_erp",
        {"endpoint_url": f"{sandbox.url}/egger/erp", "username": "egger", "buyer_id": "AKU-1"},
        {"password": "egger-pw", "shared_secret": "egger-secret"},
    )
    sandbox.config._data.update(
        otoorder_url=live_server.url,
        egger={"username": "egger", "password": "egger-pw", "definition_id": str(definition.pk), "shared_secret": "egger-secret"},
    )
    sandbox.config._data["timing"]["step_seconds"] = 0
    order = sent(definition, transaction_obj, alice)
    assert order.status == "ordered"

    assert sandbox.run_pushes() == 1
    order.refresh_from_db()
    assert order.status == "confirmed" and order.external_reference.startswith("EGG-")
    assert sandbox.run_pushes() == 1
    order.refresh_from_db()
    assert order.status == "shipped" and order.tracking_number.startswith("0034")


def test_portal_hand_off_page_and_bestellen(sandbox, live_server, transaction_obj, alice):
    definition = interface_lab(
        transaction_obj.customer.branch.chain,
        "audia_easy_order_portal",
        {"portal_url": f"{sandbox.url}/audia-portal/"},
        {"shared_secret": "portal-secret"},
    )
    sandbox.config._data["portals"] = {"audia": {"shared_secret": "portal-secret"}}
    order = sent(definition, transaction_obj, alice)
    assert order.status == "awaiting_portal"
    backend = definition.backend_class(definition.configured_options())
    return_url = f"{live_server.url}/bestellungen/{order.pk}/"
    handoff = backend.handoff_url(
        build_document(order),
        return_url=return_url,
        callback_url=f"{live_server.url}/api/v1/callbacks/{definition.pk}/",
    )
    assert backend.test_connection().ok

    page = requests.get(handoff, timeout=10)
    assert page.status_code == 200
    assert order.number in page.text and "Bestellen" in page.text
    tampered = requests.get(handoff.replace("priority=", "priority=x"), timeout=10)
    assert tampered.status_code == 400 and "abgelehnt" in tampered.text
    assert EarmouldOrder.objects.get(pk=order.pk).status == "awaiting_portal"

    form = re.search(r'<form method="post" action="([^"]+)">.*name="handoff" value="([^"]*)"', page.text, re.S)
    answer = requests.post(
        sandbox.url + form.group(1), data={"handoff": html.unescape(form.group(2))}, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 303 and answer.headers["Location"] == return_url
    order.refresh_from_db()
    assert order.status == "confirmed"
    assert order.external_reference == "AUP-" + str(order.pk)[:8].upper()
    assert order.lab_properties["right"]["style"] == "shell"
    assert order.lab_properties["left"]["surface_finish"] == "lackiert"


# --- after the order: cancellations and questions (the point 8) -----------------------

def cancellation(document, lab_reference="", sequence=1):
    return CancellationDocument(
        order=document,
        idempotency_key=f"{document.order_id}-storno-{sequence}",
        sequence=sequence,
        reason="Kunde verzichtet",
        requested_at=datetime.now(timezone.utc),
        lab_reference=lab_reference,
    )


def answer(document, lab_reference="", in_reply_to=""):
    return MessageDocument(
        order=document,
        message_id="7a2b3c4d-0000-4000-8000-0000000000c9",
        text="Bitte mit kürzerem Gehörgangsteil fertigen.",
        author="Alice Akustik",
        sent_at=datetime.now(timezone.utc),
        lab_reference=lab_reference,
        in_reply_to=in_reply_to,
    )


def http_labs(sandbox):
    return {
        "dreve": DreveSmartOrderBackend({"endpoint_url": f"{sandbox.url}/dreve/api/v1", "api_key": "dreve-key"}),
        "hoerluchs": HoerluchsPartnerBackend({"endpoint_url": f"{sandbox.url}/hoerluchs/api", "username": "hl", "password": "hl-pw"}),
        "audia": AudiaEasyOrderBackend({"endpoint_url": f"{sandbox.url}/audia/api", "username": "audia", "password": "audia-pw"}),
    }


@pytest.mark.parametrize("name", ["dreve", "hoerluchs", "audia"])
def test_http_labs_accept_a_cancellation_before_production_and_refuse_it_after(sandbox, name):
    backend = http_labs(sandbox)[name]
    first = order_document(order_id="6f1c2d8e-0000-4000-8000-00000000c001")
    second = order_document(order_id="6f1c2d8e-0000-4000-8000-00000000c002")
    reference = backend.send(first).external_reference
    backend.send(second)

    accepted = backend.cancel(cancellation(first, lab_reference=reference))
    assert accepted.status == CancelStatus.ACCEPTED
    # Repeated under the same key: the same answer, still one cancellation.
    assert backend.cancel(cancellation(first, lab_reference=reference)).status == CancelStatus.ACCEPTED

    sandbox.config._data["timing"]["step_seconds"] = 0  # everything is in production now
    refused = backend.cancel(cancellation(second))  # by our UUID: the lab knows it from the key
    assert refused.status == CancelStatus.REFUSED
    assert refused.lab_message == REFUSAL
    with pytest.raises(Exception, match="HTTP 404"):
        backend.cancel(cancellation(order_document(order_id="6f1c2d8e-0000-4000-8000-00000000c0ff")))


def test_dreve_reports_the_cancellation_in_its_poll(sandbox):
    backend = http_labs(sandbox)["dreve"]
    reference = backend.send(order_document()).external_reference
    backend.cancel(cancellation(order_document(), lab_reference=reference))

    update = backend.poll_status(reference)

    assert (update.status, update.cancellation) == ("cancelled", "accepted")


def test_dreve_asks_its_question_and_resumes_after_the_answer(sandbox):
    backend = http_labs(sandbox)["dreve"]
    document = order_document(notes="Rückfrage: Ist die Zusatzbohrung wirklich 2 mm?")
    reference = backend.send(document).external_reference
    sandbox.config._data["timing"]["step_seconds"] = 3600

    held = backend.poll_status(reference)
    assert held.status == "on_hold"
    assert held.lab_text == "Ist die Zusatzbohrung wirklich 2 mm?"
    assert held.lab_message_id.startswith("Q-")
    assert backend.poll_status(reference).status == "on_hold"  # it waits for the answer

    result = backend.send_message(answer(document, lab_reference=reference, in_reply_to=held.lab_message_id))
    assert result.external_reference.startswith("MSG-")

    assert backend.poll_status(reference).status == "in_production"


def test_an_empty_rueckfrage_gets_the_sandboxs_own_question(sandbox):
    backend = http_labs(sandbox)["dreve"]
    reference = backend.send(order_document(notes="Rückfrage:")).external_reference

    assert backend.poll_status(reference).lab_text == DEFAULT_QUESTION


def test_egger_answers_the_orderchange_and_pushes_nothing_for_a_cancelled_order(sandbox, http_lab):
    http_lab.script(Reply.empty(200), repeat=True)
    sandbox.config._data["otoorder_url"] = http_lab.url
    sandbox.config._data["timing"]["egger_confirm_seconds"] = 3600
    backend = EggerErpBackend(
        {"endpoint_url": f"{sandbox.url}/egger/erp", "username": "egger", "password": "egger-pw", "buyer_id": "AKU-1", "shared_secret": "egger-secret"}
    )
    first = order_document(order_id="6f1c2d8e-0000-4000-8000-00000000e001", order_number="OT-2026-000501")
    second = order_document(order_id="6f1c2d8e-0000-4000-8000-00000000e002", order_number="OT-2026-000502")
    backend.send(first)
    backend.send(second)

    assert backend.cancel(cancellation(first)).status == CancelStatus.ACCEPTED
    sandbox.config._data["timing"]["step_seconds"] = 0
    refused = backend.cancel(cancellation(second))
    assert (refused.status, refused.lab_message) == (CancelStatus.REFUSED, REFUSAL)

    assert sandbox.run_pushes(now=time.time() + 7200) == 1  # the second order's confirmation only
    [push] = http_lab.requests_to(f"/api/v1/callbacks/{EGGER_DEFINITION}/")
    assert EggerErpBackend.parse_callback(push.body)[0]["order_number"] == "OT-2026-000502"


def test_otoport_answers_cancellations_and_asks_its_question_by_file(sandbox, tmp_path, monkeypatch):
    root = tmp_path / "exchange"
    monkeypatch.setenv(ROOT_ENV, str(root))
    sandbox.config._data["otoport"] = {"outbox": str(root / "otoport" / "out"), "inbox": str(root / "otoport" / "in")}
    sandbox.config._data["timing"]["step_seconds"] = 3600
    backend = OtofakturOtoportBackend({"outbox_dir": "otoport/out", "inbox_dir": "otoport/in"})
    plain = order_document(order_id="6f1c2d8e-0000-4000-8000-00000000f001")
    asking = order_document(order_id="6f1c2d8e-0000-4000-8000-00000000f002", notes="Rückfrage: Schale oder Halbschale?")
    backend.send(plain)
    backend.send(asking)
    sandbox.otoport.tick()
    updates = {entry["order_id"]: entry["update"] for entry in backend.read_inbox()}
    assert updates[plain.order_id].status == "confirmed"
    assert (updates[asking.order_id].status, updates[asking.order_id].lab_text) == ("on_hold", "Schale oder Halbschale?")

    assert backend.cancel(cancellation(plain)).status == CancelStatus.PENDING
    backend.send_message(answer(asking))
    sandbox.otoport.tick()
    updates = {entry["order_id"]: entry["update"] for entry in backend.read_inbox()}
    assert (updates[plain.order_id].status, updates[plain.order_id].cancellation) == ("cancelled", "accepted")
    assert updates[asking.order_id].status == "in_production"

    backend.cancel(cancellation(asking))  # in production by now: refused
    sandbox.otoport.tick()
    [entry] = backend.read_inbox()
    assert (entry["update"].cancellation, entry["update"].lab_text) == ("refused", REFUSAL)
    assert entry["update"].status == "in_production"
    taken = sorted(os.listdir(root / "otoport" / "out" / "taken"))
    assert f"{plain.order_id}-storno-1.cancel.xml" in taken and "7a2b3c4d-0000-4000-8000-0000000000c9.message.xml" in taken


def test_dreve_still_answers_for_orders_taken_before_a_restart(sandbox):
    backend = http_labs(sandbox)["dreve"]
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
    fresh, old = f"DRV-{stamp}-ABCD", "DRV-20200101000000-ABCD"

    assert backend.cancel(cancellation(order_document(), lab_reference=fresh)).status == CancelStatus.ACCEPTED
    assert backend.poll_status(fresh).status == "cancelled"
    refused = backend.cancel(cancellation(order_document(order_id="6f1c2d8e-0000-4000-8000-00000000c0aa"), lab_reference=old))
    assert refused.status == CancelStatus.REFUSED


def test_dreve_reports_the_impressions_by_post_received_when_production_starts(sandbox):
    backend = http_labs(sandbox)["dreve"]
    reference = backend.send(order_document()).external_reference  # right: by post, left: a scan
    sandbox.config._data["timing"]["step_seconds"] = 3600
    assert backend.poll_status(reference).impressions_received == ()

    sandbox.config._data["timing"]["step_seconds"] = 0
    update = backend.poll_status(reference)
    assert update.status == "shipped" and update.impressions_received == ("right",)
