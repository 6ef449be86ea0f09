"""Otofaktur Otoport against real folders below a temporary exchange root."""

import os
import threading

import pytest
from django.core.exceptions import ValidationError
from lxml import etree

from otoorder.backends.document import ItemDocument, PartyDocument
from otoorder.backends.exceptions import ConfigurationError
from otoorder.backends.otofaktur_otoport import STATUS_TABLE, OtofakturOtoportBackend
from otoorder.backends.result import ResultStatus
from otoorder.backends.transports import files
from otoorder.backends.transports.files import ROOT_ENV
from tests.documents import order_document

ORDER_ID = "6f1c2d8e-0000-4000-8000-0000000000f1"
OTHER_ID = "6f1c2d8e-0000-4000-8000-0000000000f2"


def document(**overrides):
    return order_document(
        **{
            "order_id": ORDER_ID,
            "order_number": "OT-2026-000123",
            "order_type": "remake",
            "branch": PartyDocument(name="Filiale Mitte", address_lines=("Hauptstraße 1", "10115 Berlin"), phone="030 1"),
            "supplier": PartyDocument(name="Otofaktur-Labor"),
            "supplier_account": "OF-77",
            "notes": "Kante & <weich>",
            "items": (
                ItemDocument(
                    side="right",
                    side_label="rechts",
                    product_family="bte",
                    product_family_label="HdO-Otoplastik mit Schlauch",
                    style="shell",
                    style_label="Schale",
                    material="acrylic",
                    material_label="Acryl hart",
                    vent_diameter_mm="1.0",
                    tube="standard_2_1",
                    tube_label="Standard 2,1 mm",
                ),
                ItemDocument(side="left", side_label="links", style="canal", style_label="Stöpsel", receiver_power="M", receiver_length="2", quantity=2),
            ),
            **overrides,
        }
    )


@pytest.fixture
def root(tmp_path, monkeypatch):
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    monkeypatch.setenv(ROOT_ENV, str(exchange))
    return exchange


def backend(outbox="otoport/out", inbox="otoport/in"):
    return OtofakturOtoportBackend({"outbox_dir": outbox, "inbox_dir": inbox})


def status_xml(order_id, status, reference="OF-2026-7781", tracking=""):
    tracking_element = f"<tracking-number>{tracking}</tracking-number>" if tracking else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><otoport-status version="1"><order-id>{order_id}</order-id>'
        f"<lab-order-number>{reference}</lab-order-number><status>{status}</status>{tracking_element}"
        "<message>Alles klar &amp; in Arbeit</message></otoport-status>"
    ).encode()


# --- send -------------------------------------------------------------------------------


def test_order_file_is_named_after_the_uuid_and_carries_the_order(root):
    result = backend().send(document())
    outbox = root / "otoport" / "out"
    assert sorted(os.listdir(outbox)) == [f"{ORDER_ID}.xml"]
    tree = etree.parse(str(outbox / f"{ORDER_ID}.xml")).getroot()
    assert tree.tag == "otoport-order" and tree.get("version") == "1"
    assert tree.findtext("order-id") == ORDER_ID
    assert tree.findtext("order-number") == "OT-2026-000123"
    assert tree.findtext("order-type") == "remake"
    assert tree.findtext("priority") == "express"
    assert tree.findtext("date-required") == "2026-12-05"
    assert tree.findtext("customer-reference") == "EM-10001"
    assert tree.findtext("supplier-account") == "OF-77"
    assert tree.findtext("notes") == "Kante & <weich>"
    assert [line.text for line in tree.iterfind("branch/address-line")] == ["Hauptstraße 1", "10115 Berlin"]
    right, left = tree.iterfind("items/item")
    assert right.get("side") == "right"
    assert right.find("style").text == "shell" and right.find("style").get("label") == "Schale"
    assert right.findtext("vent-diameter-mm") == "1.0"
    assert left.findtext("receiver-power") == "M" and left.findtext("quantity") == "2"
    assert left.find("material") is None  # empty values are left out
    assert result.status == ResultStatus.ORDERED
    assert result.request_summary["file"] == f"{ORDER_ID}.xml"


def test_resend_overwrites_instead_of_duplicating(root):
    backend().send(document(notes="erste Fassung"))
    backend().send(document(notes="zweite Fassung"))
    outbox = root / "otoport" / "out"
    assert os.listdir(outbox) == [f"{ORDER_ID}.xml"]  # no second file, no temp file left
    assert etree.parse(str(outbox / f"{ORDER_ID}.xml")).getroot().findtext("notes") == "zweite Fassung"


def test_readers_never_see_a_half_written_file(root):
    """A reader polling the outbox during many re-sends sees only complete files."""
    outbox = root / "otoport" / "out"
    configured = backend()
    configured.send(document())
    big = document(notes="x" * 200_000)
    stop, seen = threading.Event(), []

    def reader():
        while not stop.is_set():
            for name in os.listdir(outbox):
                if not name.startswith("."):
                    seen.append(len(etree.parse(str(outbox / name)).getroot().findtext("order-id")))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for _ in range(20):
            configured.send(big)
    finally:
        stop.set()
        thread.join()
    assert seen and set(seen) == {len(ORDER_ID)}


@pytest.mark.parametrize(
    "folder",
    ["../outside", "otoport/../../outside", "/etc", "/tmp", "link-out/in"],
)
def test_folders_outside_the_exchange_root_are_refused(root, tmp_path, folder):
    (tmp_path / "outside").mkdir(exist_ok=True)
    (root / "link-out").symlink_to(tmp_path / "outside")
    with pytest.raises(ValidationError) as refused:
        OtofakturOtoportBackend.options_schema().validate({"outbox_dir": folder, "inbox_dir": "in"})
    assert "outbox_dir" in refused.value.message_dict
    with pytest.raises(ConfigurationError):
        backend(outbox=folder)
    assert os.listdir(tmp_path / "outside") == []


def test_an_absolute_folder_inside_the_root_is_fine(root):
    backend(outbox=str(root / "abs-out"), inbox=str(root / "abs-in")).send(document())
    assert os.listdir(root / "abs-out") == [f"{ORDER_ID}.xml"]


def test_no_exchange_root_no_folders(monkeypatch):
    monkeypatch.delenv(ROOT_ENV, raising=False)
    with pytest.raises(ValidationError, match=ROOT_ENV):
        files.validate_folder("out")


def test_a_root_withdrawn_after_saving_is_refused_at_run_time(root, monkeypatch, tmp_path):
    configured = backend()
    other = tmp_path / "other-root"
    other.mkdir()
    monkeypatch.setenv(ROOT_ENV, str(other))
    configured.send(document())  # relative folders follow the root ...
    assert os.listdir(other / "otoport" / "out") == [f"{ORDER_ID}.xml"]
    monkeypatch.setenv(ROOT_ENV, str(root))
    absolute = backend(outbox=str(root / "out"), inbox=str(root / "in"))
    monkeypatch.setenv(ROOT_ENV, str(root / "nested"))
    with pytest.raises(ConfigurationError):  # ... absolute ones outside it are refused
        absolute.send(document())


def test_outbox_and_inbox_must_differ(root):
    with pytest.raises(ConfigurationError, match="verschieden"):
        backend(outbox="same", inbox="./same")


def test_connection_check(root):
    assert backend().test_connection().ok
    assert (root / "otoport" / "in").is_dir()


# --- answers ----------------------------------------------------------------------------


def test_status_files_are_read_mapped_and_moved_to_processed(root):
    inbox = root / "otoport" / "in"
    inbox.mkdir(parents=True)
    (inbox / f"{ORDER_ID}.status.xml").write_bytes(status_xml(ORDER_ID, "shipped", tracking="00340434161094042557"))
    (inbox / f"{OTHER_ID}.status.xml").write_bytes(status_xml(OTHER_ID, "received", reference="OF-9"))
    (inbox / f"{ORDER_ID}.xml").write_bytes(b"<not-a-status-file/>")  # ignored: not *.status.xml
    applied_calls = []
    entries = backend().read_inbox(lambda order_id, update: applied_calls.append((order_id, update.status)))
    assert applied_calls == [(ORDER_ID, "shipped"), (OTHER_ID, "confirmed")]
    shipped = entries[0]["update"]
    assert (shipped.external_reference, shipped.tracking_number, shipped.external_status) == (
        "OF-2026-7781",
        "00340434161094042557",
        "shipped",
    )
    assert "Alles klar & in Arbeit" in shipped.message
    assert sorted(os.listdir(inbox / "processed")) == sorted([f"{ORDER_ID}.status.xml", f"{OTHER_ID}.status.xml"])
    assert sorted(p for p in os.listdir(inbox) if p != "processed") == [f"{ORDER_ID}.xml"]
    assert backend().read_inbox() == []  # nothing twice


def test_a_file_whose_application_fails_stays_for_the_next_run(root):
    inbox = root / "otoport" / "in"
    inbox.mkdir(parents=True)
    (inbox / f"{ORDER_ID}.status.xml").write_bytes(status_xml(ORDER_ID, "in_production"))

    def refuse(order_id, update):
        raise RuntimeError("database busy")

    assert backend().read_inbox(refuse) == []
    assert os.listdir(inbox) == [f"{ORDER_ID}.status.xml"]
    [entry] = backend().read_inbox()
    assert entry["update"].status == "in_production"


@pytest.mark.parametrize(
    "name, body",
    [
        (f"{ORDER_ID}.status.xml", status_xml(ORDER_ID, "teleported")),  # unknown status
        (f"{ORDER_ID}.status.xml", status_xml(OTHER_ID, "shipped")),  # name and content disagree
        (f"{ORDER_ID}.status.xml", b"kaputt"),
        (f"{ORDER_ID}.status.xml", b"<other-root/>"),
        ("not-a-uuid.status.xml", status_xml(ORDER_ID, "shipped")),
    ],
)
def test_unreadable_status_files_move_to_invalid(root, name, body):
    inbox = root / "otoport" / "in"
    inbox.mkdir(parents=True)
    (inbox / name).write_bytes(body)
    assert backend().read_inbox(lambda *args: pytest.fail("must not be applied")) == []
    assert os.listdir(inbox / "invalid") == [name]


def test_status_table_covers_the_documented_statuses():
    assert dict(STATUS_TABLE) == {
        "received": "confirmed",
        "accepted": "confirmed",
        "in_production": "in_production",
        "shipped": "shipped",
        "rejected": "rejected_by_lab",
        "on_hold": "on_hold",
        "cancelled": "cancelled",
    }
