"""The return channel by polling: Dreve's status polled from a loopback lab, Otoport's inbox."""

import uuid

import pytest
from django.db import connections

from otoorder.backends.transports.files import ROOT_ENV
from otoorder.orders import lifecycle, polling, services
from otoorder.orders.choices import OrderStatus
from otoorder.orders.models import EarmouldOrder
from tests import factories as f
from tests.labs.http_lab import Reply

pytestmark = pytest.mark.django_db


@pytest.fixture
def dreve_definition(chain, dreve, dreve_supplier, http_lab):
    return f.InterfaceDefinitionFactory(
        chain=chain,
        name="Dreve SmartOrder",
        backend="dreve_smartorder",
        supplier=dreve_supplier,
        options={"endpoint_url": f"{http_lab.url}/api/v1"},
        secrets={"api_key": "sandbox-key"},
        companies=[dreve],
    )


def placed(transaction_obj, company, supplier, user, *, status=OrderStatus.CONFIRMED, reference=""):
    """An order the worker has sent: ``status`` with the lab's number ``reference``."""
    order = services.place_order(
        transaction_obj=transaction_obj, company=company, supplier=supplier, items=[f.bte_item()], user=user
    )
    lifecycle.set_status(order, OrderStatus.SENDING, source="worker")
    lifecycle.set_status(order, status, source="worker")
    if reference:
        EarmouldOrder.objects.filter(pk=order.pk).update(external_reference=reference)
    order.refresh_from_db()
    return order


def test_dreve_poll_moves_orders(dreve_definition, transaction_obj, dreve, dreve_supplier, alice, http_lab):
    order = placed(transaction_obj, dreve, dreve_supplier, alice, reference="DRV-1")
    http_lab.script(
        Reply.json({"order_number": "DRV-1", "status": "shipped", "tracking_number": "DHL-77"}),
        method="GET",
        path="/api/v1/orders/DRV-1",
    )
    assert polling.poll_all() == {str(dreve_definition.pk): 1}
    order.refresh_from_db()
    assert (order.status, order.tracking_number, order.external_status) == ("shipped", "DHL-77", "shipped")
    event = order.events.last()
    assert (event.source, event.to_status) == ("lab", "shipped")
    request = http_lab.requests[0]
    assert request.header("Authorization") == "Bearer sandbox-key"


def test_only_orders_in_flight_with_a_reference_are_polled(
    dreve_definition, transaction_obj, dreve, dreve_supplier, alice, http_lab
):
    placed(transaction_obj, dreve, dreve_supplier, alice, reference="")
    placed(transaction_obj, dreve, dreve_supplier, alice, status=OrderStatus.REJECTED_BY_LAB, reference="DRV-9")
    polling.poll_all()
    assert http_lab.requests == []


def test_a_transient_error_for_one_order_does_not_stop_the_others(
    dreve_definition, transaction_obj, dreve, dreve_supplier, alice, http_lab
):
    first = placed(transaction_obj, dreve, dreve_supplier, alice, reference="DRV-1")
    second = placed(transaction_obj, dreve, dreve_supplier, alice, reference="DRV-2")
    http_lab.script(Reply.status(503), path="/api/v1/orders/DRV-1")
    http_lab.script(Reply.json({"order_number": "DRV-2", "status": "in_production"}), path="/api/v1/orders/DRV-2")
    polling.poll_all()
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == "confirmed"
    assert second.status == "in_production"
    assert {r.path for r in http_lab.requests} == {"/api/v1/orders/DRV-1", "/api/v1/orders/DRV-2"}


def test_running_twice_changes_nothing(dreve_definition, transaction_obj, dreve, dreve_supplier, alice, http_lab):
    order = placed(transaction_obj, dreve, dreve_supplier, alice, reference="DRV-1")
    http_lab.script(Reply.json({"order_number": "DRV-1", "status": "in_production"}), repeat=True)
    assert polling.poll_all() == {str(dreve_definition.pk): 1}
    events = order.events.count()
    assert polling.poll_all() == {str(dreve_definition.pk): 0}
    assert order.events.count() == events
    assert len(http_lab.requests) == 2


def test_batches_go_round_so_no_order_starves(
    dreve_definition, transaction_obj, dreve, dreve_supplier, alice, http_lab, settings
):
    settings.OTOORDER_POLL_BATCH = 2
    for number in range(3):
        placed(transaction_obj, dreve, dreve_supplier, alice, reference=f"DRV-{number}")
    http_lab.script(Reply.json({"status": "received"}), repeat=True)
    polling.poll_all()
    polling.poll_all()
    paths = [r.path.rsplit("/", 1)[1] for r in http_lab.requests]
    assert paths[:2] == ["DRV-0", "DRV-1"]
    assert paths[2] == "DRV-2"
    assert len(paths) == 4


def test_a_definition_held_by_another_run_is_skipped(dreve_definition, transaction_obj, dreve, dreve_supplier, alice, http_lab):
    placed(transaction_obj, dreve, dreve_supplier, alice, reference="DRV-1")
    http_lab.script(Reply.json({"status": "received"}), repeat=True)
    other = connections.create_connection("default")
    try:
        with _held_elsewhere(other, dreve_definition):
            assert polling.poll_all() == {}
        assert http_lab.requests == []
        assert polling.poll_all() == {str(dreve_definition.pk): 1}
        assert len(http_lab.requests) == 1
    finally:
        other.close()


class _held_elsewhere:
    """The definition's lock taken by another database session (a second worker)."""

    def __init__(self, other, definition):
        self.other, self.definition = other, definition

    def __enter__(self):
        from django.db import connection

        if connection.vendor != "postgresql":
            pytest.skip("advisory locks need PostgreSQL")
        with self.other.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [polling.LOCK_NAMESPACE, self.key])
            assert cursor.fetchone()[0]

    def __exit__(self, *exc):
        with self.other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [polling.LOCK_NAMESPACE, self.key])

    @property
    def key(self):
        return polling.advisory_key(self.definition)


# --- Otofaktur Otoport: inbox files ---------------------------------------------------------


@pytest.fixture
def exchange(tmp_path, monkeypatch):
    root = tmp_path / "exchange"
    root.mkdir()
    monkeypatch.setenv(ROOT_ENV, str(root))
    return root


@pytest.fixture
def otoport(chain, exchange):
    company = f.CompanyFactory(name="Otofaktur Labor")
    supplier = f.SupplierFactory(company=company, order_method="interface")
    definition = f.InterfaceDefinitionFactory(
        chain=chain,
        name="Otoport",
        backend="otofaktur_otoport",
        supplier=supplier,
        options={"outbox_dir": "otoport/out", "inbox_dir": "otoport/in"},
        companies=[company],
    )
    return definition


def status_file(exchange, order_id, status="received", reference="OF-1", tracking=""):
    inbox = exchange / "otoport" / "in"
    inbox.mkdir(parents=True, exist_ok=True)
    path = inbox / f"{order_id}.status.xml"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<otoport-status version="1">'
        f"<order-id>{order_id}</order-id><lab-order-number>{reference}</lab-order-number>"
        f"<status>{status}</status><tracking-number>{tracking}</tracking-number></otoport-status>",
        encoding="utf-8",
    )
    return path


def test_otoport_inbox_files_are_applied_and_moved(otoport, exchange, transaction_obj, alice):
    order = placed(transaction_obj, otoport.supplier.company, otoport.supplier, alice, status=OrderStatus.ORDERED)
    assert order.interface_definition == otoport
    path = status_file(exchange, order.pk, "received", "OF-7781")
    assert polling.poll_all() == {str(otoport.pk): 1}
    order.refresh_from_db()
    assert (order.status, order.external_reference) == ("confirmed", "OF-7781")
    assert not path.exists()
    assert (path.parent / "processed" / path.name).exists()

    status_file(exchange, order.pk, "shipped", "OF-7781", "00340434161094042557")
    polling.poll_all()
    order.refresh_from_db()
    assert (order.status, order.tracking_number) == ("shipped", "00340434161094042557")


def test_otoport_unknown_order_is_not_applied(otoport, exchange, transaction_obj, alice):
    order = placed(transaction_obj, otoport.supplier.company, otoport.supplier, alice, status=OrderStatus.ORDERED)
    events = order.events.count()
    stranger = uuid.uuid4()
    path = status_file(exchange, stranger, "shipped")
    assert polling.poll_all() == {str(otoport.pk): 0}
    assert not EarmouldOrder.objects.filter(pk=stranger).exists()
    order.refresh_from_db()
    assert order.status == "ordered" and order.events.count() == events
    assert (path.parent / "processed" / path.name).exists()


def test_otoport_report_for_another_definitions_order_stays(otoport, exchange, transaction_obj, alice, dreve_definition, dreve, dreve_supplier):
    foreign = placed(transaction_obj, dreve, dreve_supplier, alice, status=OrderStatus.ORDERED)
    path = status_file(exchange, foreign.pk, "shipped")
    polling.read_inbox(otoport, otoport.backend_class(otoport.configured_options()))
    foreign.refresh_from_db()
    assert foreign.status == "ordered"
    assert path.exists()


def test_otoport_same_file_twice_changes_nothing(otoport, exchange, transaction_obj, alice):
    order = placed(transaction_obj, otoport.supplier.company, otoport.supplier, alice, status=OrderStatus.ORDERED)
    status_file(exchange, order.pk, "received", "OF-1")
    polling.poll_all()
    events = order.events.count()
    status_file(exchange, order.pk, "received", "OF-1")
    assert polling.poll_all() == {str(otoport.pk): 0}
    assert order.events.count() == events


def test_inactive_and_non_polling_definitions_are_left_alone(dreve_definition, otoport, chain, http_lab):
    dreve_definition.is_active = False
    dreve_definition.save()
    f.InterfaceDefinitionFactory(chain=chain, backend="standard")
    assert polling.poll_all() == {str(otoport.pk): 0}
    assert http_lab.requests == []


def test_an_unreachable_inbox_does_not_stop_the_other_labs(
    dreve_definition, chain, transaction_obj, dreve, dreve_supplier, alice, http_lab, tmp_path
):
    """The SFTP exchange server is down: its definition is skipped, Dreve is still polled."""
    from tests.labs.sftp_lab import SftpLab

    lab = SftpLab(tmp_path).start()
    options = lab.options()
    lab.stop()  # nothing listens on its port any more
    f.InterfaceDefinitionFactory(
        chain=chain,
        name="Otoport per SFTP",
        backend="otofaktur_otoport",
        options={k: v for k, v in options.items() if k != "password"},
        secrets={"password": options["password"]},
    )
    placed(transaction_obj, dreve, dreve_supplier, alice, reference="DRV-1")
    http_lab.script(Reply.json({"status": "shipped", "tracking_number": "DHL-9"}), repeat=True)
    results = polling.poll_all()
    assert results[str(dreve_definition.pk)] == 1


def test_dreves_receipt_of_the_impressions_closes_their_parcel(
    dreve_definition, transaction_obj, dreve, dreve_supplier, alice, http_lab, settings, tmp_path
):
    from otoorder.orders import parcels
    from tests.test_parcels import order_with_impressions

    settings.MEDIA_ROOT = tmp_path
    order, impressions = order_with_impressions(transaction_obj, dreve, dreve_supplier, alice)
    EarmouldOrder.objects.filter(pk=order.pk).update(external_reference="DRV-5")
    parcel = parcels.create_parcel(
        user=alice, supplier=dreve_supplier, impressions=[i.pk for i in impressions.values()], carrier="dhl", tracking_number="P"
    )
    http_lab.script(
        Reply.json({"order_number": "DRV-5", "status": "received", "impressions_received": ["right", "left", 7]}), repeat=True
    )
    assert polling.poll_all() == {str(dreve_definition.pk): 1}
    parcel.refresh_from_db()
    assert not parcel.is_open
    assert order.events.filter(data__code="parcel_closed_received").count() == 1
    assert polling.poll_all() == {str(dreve_definition.pk): 0}
