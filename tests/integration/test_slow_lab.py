"""A slow lab holds up nobody else (issue [8] point 2): queues per backend, limits per lab.

Real parts: a Celery worker subprocess with two processes on Redis, PostgreSQL, labs as real
HTTP servers on 127.0.0.1 (``tests/labs/http_lab.py``), orders placed and definitions set up
through the API. Nothing of ours is patched.

* Lab A (``max_parallel_sends`` 1) stalls every request for longer than the worker's
  transport timeout; lab B's orders placed meanwhile arrive about as fast as they do alone,
  well before A's first timeout ends. When A answers again, each of A's orders is taken once.
* A worker started for some queues (``-Q``) serves those labs only; the others' orders wait
  in their queue for a worker that serves them.
* A lab's rate limit spaces the transfers.
"""

import itertools
import os
import signal
import threading
import time

import pytest

from otoorder.orders.models import Attempt, EarmouldOrder
from otoorder.orders.routing import queue_name
from tests.labs.http_lab import Reply

from .conftest import POLICY_ENV, Worker, free_port, test_database_url, wait_for
from .labkit import (
    LAB_BROKER_URL,
    LabPeer,
    admin_api,  # noqa: F401 - fixture
    configure,
    lab_broker,  # noqa: F401 - fixture
    lab_env,  # noqa: F401 - fixture
    lab_supplier,
    order_request,
    staff_api,  # noqa: F401 - fixture
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

#: The worker's transport timeout in these tests: a stalled request costs this long.
TIMEOUT = 10.0
DREVE_PATH = "/smartorder/api/v1/orders"
HOERLUCHS_PATH = "/partner/api/auftraege"
ORDERS_PER_LAB = 3


class Lab(LabPeer):
    """A Dreve-like lab that stalls while ``stalling`` is set and otherwise takes each order,
    remembering which idempotency keys it answered (``taken``)."""

    def __init__(self, prefix):
        super().__init__()
        self.prefix = prefix
        self.stalling = threading.Event()
        self.taken = []
        self.taken_at = []
        self.numbers = itertools.count(1)
        self.script(self.answer, method="POST", repeat=True)

    def answer(self, request):
        if self.stalling.is_set():
            return Reply.stalled(TIMEOUT * 3)
        self.taken.append(request.header("Idempotency-Key"))
        self.taken_at.append(time.monotonic())
        return Reply.json({"order_number": f"{self.prefix}-{next(self.numbers)}", "status": "accepted"}, status=201)


@pytest.fixture
def labs():
    started = {name: Lab(name).start() for name in ("A", "B")}
    yield started
    for peer in started.values():
        peer.stop()


@pytest.fixture
def start_lab_worker(transactional_db, lab_broker, dispatch_policy, lab_env, tmp_path):
    """``start_lab_worker(name, queues=None, concurrency=2)``: a ready worker on the lab broker.

    Its tickets (``throttle``) live ``SENDING_DEADLINE``: longer than a stalled send here.
    """
    workers = []

    def start(name, queues=None, concurrency=2):
        env = {
            **os.environ,
            **POLICY_ENV,
            **lab_env.env,
            "OTOORDER_TRANSPORT_TIMEOUT": str(TIMEOUT),
            "OTOORDER_SENDING_DEADLINE": str(TIMEOUT * 5),
            "DJANGO_SETTINGS_MODULE": "otoorder.settings",
            "DJANGO_ENV": "development",
            "DATABASE_URL": test_database_url(),
            "CELERY_BROKER_URL": LAB_BROKER_URL,
            "EMAIL_URL": f"smtp://127.0.0.1:{free_port()}",
            "OTOORDER_VAR_DIR": str(tmp_path / name),
            "CONN_MAX_AGE": "0",
            "PYTHONUNBUFFERED": "1",
        }
        (tmp_path / name).mkdir()
        extra = ["--concurrency", str(concurrency)]
        if queues:
            extra += ["-Q", ",".join(queues)]
        worker = Worker(name, env, tmp_path / f"{name}.log", extra)
        workers.append(worker)
        return worker.start()

    yield start
    for worker in workers:
        worker.kill(signal.SIGKILL)
        worker.stop()


def dreve(peer):
    return {"endpoint_url": f"{peer.url}/smartorder/api/v1", "api_key": "schluessel-4711"}


def set_limits(admin_api, definition, **limits):
    response = admin_api.patch(f"interface-definitions/{definition['id']}/", limits)
    assert response.status_code == 200, response.text
    for name, value in limits.items():
        assert response.json()[name] == value


def place(staff_api, transaction_obj, supplier):
    """alice orders through the API; returns the order's id. The idle worker may have taken
    it before the answer was written, so "sending" or "confirmed" are fine as well."""
    response = staff_api.post("orders/", order_request(transaction_obj, supplier))
    assert response.status_code == 201, response.text
    assert response.json()["status"] in {"queued", "sending", "confirmed"}, response.json()["status"]
    return response.json()["id"]


def confirmed(order_ids):
    return EarmouldOrder.objects.filter(pk__in=order_ids, status="confirmed").count() == len(order_ids)


def deliver(staff_api, transaction_obj, supplier, count=ORDERS_PER_LAB):
    """Place ``count`` orders and wait until all are confirmed; returns (ids, seconds taken)."""
    started = time.monotonic()
    ids = [place(staff_api, transaction_obj, supplier) for _ in range(count)]
    wait_for(lambda: confirmed(ids), timeout=3 * TIMEOUT, interval=0.05, message="the orders to be confirmed")
    return ids, time.monotonic() - started


def test_a_stalling_lab_does_not_delay_orders_to_another_lab(
    start_lab_worker, labs, admin_api, staff_api, transaction_obj, mitte
):
    lab_a, lab_b = labs["A"], labs["B"]
    supplier_a = lab_supplier("Labor A", mitte, "A-1")
    supplier_b = lab_supplier("Labor B", mitte, "B-1")
    # Both labs on Dreve SmartOrder: one queue, so their own limits must keep them apart.
    definition_a = configure(admin_api, "dreve_smartorder", supplier_a, dreve(lab_a))
    configure(admin_api, "dreve_smartorder", supplier_b, dreve(lab_b))
    set_limits(admin_api, definition_a, max_parallel_sends=1)
    start_lab_worker("both", concurrency=2)

    # What B's orders take alone (after one that warms the worker's processes up).
    warm_up, _seconds = deliver(staff_api, transaction_obj, supplier_b, count=2)
    alone_ids, alone = deliver(staff_api, transaction_obj, supplier_b)

    lab_a.stalling.set()
    a_ids = [place(staff_api, transaction_obj, supplier_a) for _ in range(ORDERS_PER_LAB)]
    wait_for(lambda: lab_a.requests, timeout=10, interval=0.02, message="lab A to receive a request")
    stalled_since = time.monotonic()

    b_ids, during = deliver(staff_api, transaction_obj, supplier_b)

    # B is done while A's first request is still waiting for its answer, in well under the
    # timeout (the figures: what B took beside the stalled lab, and alone).
    figures = f"B took {during:.2f} s beside the stalled lab, {alone:.2f} s alone"
    assert time.monotonic() - stalled_since < TIMEOUT, f"B's orders waited for A's timeout; {figures}"
    assert during < TIMEOUT / 2, figures
    assert sorted(lab_b.taken) == sorted([*warm_up, *alone_ids, *b_ids]), "each of B's orders once"
    assert not any(EarmouldOrder.objects.filter(pk__in=a_ids, status="confirmed"))

    # A answers again: each of its orders is taken once, under its own key.
    lab_a.stalling.clear()
    wait_for(lambda: confirmed(a_ids), timeout=8 * TIMEOUT, interval=0.1, message="A's orders to be confirmed")
    assert sorted(lab_a.taken) == sorted(a_ids)
    assert {request.header("Idempotency-Key") for request in lab_a.requests} == set(a_ids)
    references = set(EarmouldOrder.objects.filter(pk__in=a_ids).values_list("external_reference", flat=True))
    assert len(references) == ORDERS_PER_LAB
    # Never two transfers to A at once (its limit): the attempts do not overlap in time.
    spans = sorted(
        (a.started_at.timestamp(), a.started_at.timestamp() + a.duration_ms / 1000)
        for a in Attempt.objects.filter(order_id__in=a_ids)
    )
    assert len(spans) >= ORDERS_PER_LAB + 1, "at least one attempt timed out"
    for (_start, end), (next_start, _end) in zip(spans, spans[1:]):
        assert next_start >= end - 0.05, "two transfers to lab A overlapped"


def test_a_worker_for_some_queues_serves_those_labs_only(
    request, start_lab_worker, lab_broker, labs, admin_api, staff_api, transaction_obj, mitte
):
    dreve_lab = labs["A"]
    hoerluchs_lab = LabPeer().start()
    request.addfinalizer(hoerluchs_lab.stop)
    hoerluchs_lab.script(
        Reply.json({"auftragsnummer": "HL-1", "status": "angenommen"}), method="POST", path=HOERLUCHS_PATH
    )
    dreve_supplier = lab_supplier("Dreve", mitte, "D-1")
    hoerluchs_supplier = lab_supplier("Hörluchs", mitte, "HL-1")
    configure(admin_api, "dreve_smartorder", dreve_supplier, dreve(dreve_lab))
    configure(
        admin_api,
        "hoerluchs_partner",
        hoerluchs_supplier,
        {"endpoint_url": f"{hoerluchs_lab.url}/partner/api", "username": "mitte", "password": "geheim-4711"},
    )
    start_lab_worker("dreve-only", queues=[queue_name("dreve_smartorder")], concurrency=1)

    dreve_order = place(staff_api, transaction_obj, dreve_supplier)
    hoerluchs_order = place(staff_api, transaction_obj, hoerluchs_supplier)

    wait_for(lambda: confirmed([dreve_order]), timeout=20, message="the Dreve order to be confirmed")
    assert lab_broker.llen(queue_name("hoerluchs_partner")) == 1
    assert EarmouldOrder.objects.get(pk=hoerluchs_order).status == "queued"
    assert hoerluchs_lab.requests == []

    start_lab_worker("hoerluchs-only", queues=[queue_name("hoerluchs_partner")], concurrency=1)
    wait_for(lambda: confirmed([hoerluchs_order]), timeout=20, message="the Hörluchs order to be confirmed")
    assert len(hoerluchs_lab.requests_to(HOERLUCHS_PATH)) == 1
    assert lab_broker.llen(queue_name("hoerluchs_partner")) == 0


def test_a_labs_rate_limit_spaces_its_transfers(
    start_lab_worker, labs, admin_api, staff_api, transaction_obj, mitte
):
    peer = labs["A"]
    supplier = lab_supplier("Labor A", mitte, "A-1")
    definition = configure(admin_api, "dreve_smartorder", supplier, dreve(peer))
    set_limits(admin_api, definition, max_parallel_sends=2, sends_per_minute=30)
    start_lab_worker("paced", concurrency=2)

    ids = [place(staff_api, transaction_obj, supplier) for _ in range(ORDERS_PER_LAB)]
    wait_for(lambda: confirmed(ids), timeout=30, message="the orders to be confirmed")

    assert sorted(peer.taken) == sorted(ids)
    assert Attempt.objects.filter(order_id__in=ids).count() == ORDERS_PER_LAB
    # 30 a minute: one every 2 s by Redis' clock. The lab sees them that far apart give or take
    # what a worker takes between its ticket and the request (more on a busy machine, and for
    # a process's first task); without the limit all three would arrive within a second.
    gaps = [second - first for first, second in zip(peer.taken_at, peer.taken_at[1:])]
    assert all(gap >= 1.0 for gap in gaps), f"transfers {gaps} s apart"
    assert peer.taken_at[-1] - peer.taken_at[0] >= 3.0, f"transfers {gaps} s apart"
