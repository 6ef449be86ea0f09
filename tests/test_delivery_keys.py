"""The idempotency key of every transport is the same on every attempt, and an outcome
nobody knows is logged as such and repeated under that key.

Real peers, in-process: the HTTP lab of tests/labs (a real server on loopback) and real
exchange folders. The SMTP line dropped after DATA, the killed worker and the frozen broker
run with real processes in tests/integration/test_delivery_promise.py.
"""

import os
from datetime import timedelta

import pytest
from django.utils import timezone

from otoorder.backends.exceptions import DeliveryUncertain, TransientError
from otoorder.backends.otofaktur_otoport import OtofakturOtoportBackend
from otoorder.backends.transports.files import ROOT_ENV
from otoorder.orders import dispatch, services
from otoorder.orders.choices import AttemptOutcome, OrderStatus
from otoorder.orders.models import Dispatch
from tests import factories as f
from tests.backends.test_http_backends import BACKENDS, document, refused_url
from tests.documents import order_document
from tests.labs.http_lab import Reply

pytestmark = pytest.mark.django_db


def make_due(order):
    Dispatch.objects.filter(order=order).update(due_at=timezone.now() - timedelta(seconds=1))


# --- HTTP labs: the Idempotency-Key header ------------------------------------------------


@pytest.mark.parametrize("name", BACKENDS)
def test_lost_http_answer_is_uncertain_and_the_repeat_carries_the_same_key(http_lab, name):
    make, path = BACKENDS[name]
    http_lab.script(Reply.stalled(5))
    order = document()

    with pytest.raises(DeliveryUncertain) as raised:
        make(http_lab).send(order)
    assert raised.value.ambiguous and not raised.value.permanent
    assert raised.value.idempotency_key == order.order_id

    http_lab.script(Reply.status(503))
    with pytest.raises(TransientError):
        make(http_lab).send(order)  # a fresh backend instance, as on the next attempt
    keys = [request.header("Idempotency-Key") for request in http_lab.requests]
    assert keys == [order.order_id, order.order_id]
    assert [request.path for request in http_lab.requests] == [path, path]


@pytest.mark.parametrize("name", BACKENDS)
def test_refused_connection_is_certain_no_delivery(name):
    make, _path = BACKENDS[name]

    class Nowhere:
        url = refused_url()

    with pytest.raises(TransientError) as raised:
        make(Nowhere).send(document())
    assert not raised.value.ambiguous


def test_dispatch_logs_the_lost_answer_and_repeats_under_the_same_key(
    http_lab, chain, dreve, dreve_supplier, transaction_obj, alice, settings
):
    settings.OTOORDER_DISPATCH = {**settings.OTOORDER_DISPATCH, "TRANSPORT_TIMEOUT": 0.5}
    f.InterfaceDefinitionFactory(
        chain=chain,
        backend="dreve_smartorder",
        supplier=dreve_supplier,
        options={"endpoint_url": f"{http_lab.url}/api/v1"},
        secrets={"api_key": "key"},
        companies=[dreve],
    )
    order = services.place_order(transaction_obj=transaction_obj, company=dreve, items=[f.bte_item()], user=alice)
    http_lab.script(Reply.stalled(5), Reply.json({"order_number": "D-77", "status": "received"}, status=201))

    assert dispatch.run(order.dispatch.pk) == OrderStatus.QUEUED
    attempt = order.attempts.get()
    assert attempt.outcome == AttemptOutcome.AMBIGUOUS
    assert attempt.request_summary == {"idempotency_key": str(order.pk)}
    assert "Zeitüberschreitung" in attempt.error

    make_due(order)
    assert dispatch.run(order.dispatch.pk) in (OrderStatus.ORDERED, OrderStatus.CONFIRMED)
    assert [r.header("Idempotency-Key") for r in http_lab.requests] == [str(order.pk)] * 2
    assert list(order.attempts.values_list("outcome", flat=True))[0] == AttemptOutcome.AMBIGUOUS
    assert order.attempts.count() == 2


# --- exchange folders: the file name --------------------------------------------------------


def test_exchange_file_keeps_its_name_so_a_repeat_replaces_the_copy(tmp_path, monkeypatch):
    root = tmp_path / "exchange"
    root.mkdir()
    monkeypatch.setenv(ROOT_ENV, str(root))
    order = order_document(order_id="6f1c2d8e-0000-4000-8000-0000000000a1")

    for _attempt in range(2):
        OtofakturOtoportBackend({"outbox_dir": "otoport/out", "inbox_dir": "otoport/in"}).send(order)

    assert sorted(os.listdir(root / "otoport" / "out")) == [f"{order.order_id}.xml"]
