"""otoorder on several hosts: web, two workers, and PostgreSQL, Redis and the object store apart.

The hosts are Linux network namespaces on a bridge (``multihost.py``, topology in
docs/operations.md, "Multi-host test"); every process sees only its host's address. An order
with a scan is placed through the web host's API; a worker on another host sends it with the
scan to the lab. That worker's host is cut off and powered off while the lab holds the
request: the other worker sends the order again with the same idempotency key, and the lab
has it exactly once.

Needs root and ``ip netns``: skipped with the reason elsewhere, failing under ``CI=true``.
"""

import hashlib
import os
import re

import pytest
import requests
from django.conf import settings

from tests import factories as f
from tests import scan_files
from tests.waiting import wait_for

from . import multihost
from .labkit import DATE_REQUIRED, Api
from .multihost_settings import VISIBILITY_TIMEOUT

pytestmark = pytest.mark.integration

#: A worker's log line for each dispatch message it took from the broker (the task id).
DISPATCH_RECEIVED = re.compile(r"Task otoorder\.orders\.tasks\.dispatch_order\[([0-9a-f-]+)\] received")

IN_CI = os.environ.get("CI", "").lower() == "true"
HOSTS = {
    "data": "10.231.0.10",
    "web": "10.231.0.20",
    "worker-a": "10.231.0.31",
    "worker-b": "10.231.0.32",
    "lab": "10.231.0.40",
}
LAB_PORT = 8080
#: Where the worker hosts reach the lab: otoorder speaks plain http to loopback only (labs are
#: https), so each worker host relays its loopback port to the lab host, as a TLS egress would.
LAB_ON_LOOPBACK = f"http://127.0.0.1:{LAB_PORT}/partner/api"
#: The dispatch policy of every host. The sending deadline (after which the sweeper takes a
#: claimed order back from a silent worker) is longer than the kill takes, so the order is
#: taken back because its worker died, not because it was slow.
POLICY = {
    "OTOORDER_DISPATCH_BACKOFF_BASE": "0.2",
    "OTOORDER_DISPATCH_BACKOFF_MAX": "1",
    "OTOORDER_QUEUED_DEADLINE": "2",
    "OTOORDER_SENDING_DEADLINE": "10",
    "OTOORDER_TRANSPORT_TIMEOUT": "10",
    "OTOORDER_SWEEP_INTERVAL": "0.5",
}


@pytest.fixture(autouse=True)
def _integration_services():
    """The test brings its own PostgreSQL, Redis and object store; the machine's are not used."""


@pytest.fixture
def network(tmp_path):
    reason = multihost.unavailable_reason()
    if reason:
        if IN_CI:
            pytest.fail(f"the multi-host test cannot run in CI: {reason}", pytrace=False)
        pytest.skip(f"the multi-host test needs network namespaces: {reason}")
    logs = tmp_path / "logs"
    logs.mkdir()
    with multihost.Network(HOSTS, logs) as network:
        yield network


@pytest.fixture
def lab(network):
    """The recording lab, listening on the lab host's address (its socket made inside that host)."""
    host = network["lab"]
    peer = host.call(lambda: multihost.ReceiptLab(host.address, LAB_PORT)).start()
    yield peer
    peer.release.set()
    peer.stop()


def web_answers(base):
    try:
        return requests.get(f"{base}/api/v1/backends/", timeout=2).status_code < 500
    except requests.RequestException:
        return False


def bring_up(network):
    """The data host's services; workers and web (booting meanwhile); schema and people; beat.

    Returns the web host's base URL, a Redis client on the data host's broker and the seed's ids.
    """
    data, web = network["data"], network["web"]
    multihost.start_object_store(data)
    database_url = multihost.create_database(multihost.start_postgres(data), "otoorder")
    broker = multihost.start_redis(data)
    settings = {
        **POLICY,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": f"redis://{data.address}:6379/0",
        "OTOORDER_STORAGE_URL": multihost.object_store_url(data),
        "ALLOWED_HOSTS": web.address,
        "CONN_MAX_AGE": "0",
        # No lab here mails: an address nothing listens on makes any mail attempt fail loudly.
        "EMAIL_URL": "smtp://127.0.0.1:2525",
    }
    workers = [network["worker-a"], network["worker-b"]]
    for host in workers:
        multihost.start_relay(host, LAB_PORT, f"{network['lab'].address}:{LAB_PORT}")
        multihost.start_worker(host, multihost.django_env(host, **settings))
    web_env = multihost.django_env(web, **settings)
    base = multihost.start_web(web, web_env)  # answers once the schema is there
    ids = multihost.migrate_and_seed(web, web_env)
    web.start("beat", multihost.celery("beat", "-l", "info", "-s", str(web.root / "var" / "beat-schedule")), web_env)
    for host in workers:
        wait_for(lambda host=host: multihost.worker_ready(host), timeout=90, message=f"the worker on {host.name}")
    wait_for(lambda: web_answers(base), timeout=60, interval=0.2, message="the web host")
    return base, broker, ids


def place_order_with_scan(base, ids, scan):
    dave = Api(base, "dave", timeout=60)
    configured = dave.post(
        "interface-definitions/",
        {
            "name": "Hörluchs über Partner-System",
            "backend": "hoerluchs_partner",
            "companies": [ids["company"]],
            "supplier": ids["supplier"],
            "options": {"endpoint_url": LAB_ON_LOOPBACK, "username": "hoerwelt", "password": "geheim-42"},
        },
    )
    assert configured.status_code == 201, configured.text

    alice = Api(base, "alice", timeout=60)
    uploaded = alice.post(
        "impressions/",
        data={"customer": ids["customer"], "side": "right", "kind": "scan"},
        files={"file": ("Erika rechts.stl", scan)},
    )
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["sha256"] == hashlib.sha256(scan).hexdigest()
    placed = alice.post(
        "orders/",
        {
            "transaction": ids["transaction"],
            "company": ids["company"],
            "items": [f.bte_item("right", impression=uploaded.json()["id"]), f.ric_item("left")],
            "priority": "express",
            "order_type": "new",
            "date_required": DATE_REQUIRED.isoformat(),
        },
    )
    assert placed.status_code == 201, placed.text
    assert placed.json()["status"] == "queued"
    return alice, placed.json()["id"]


def scan_parts(request):
    parts = request.multipart()
    return [content for _name, _type, content in parts.get("scan", [])]


def test_killing_a_worker_host_mid_send_loses_nothing_and_sends_nothing_twice(network, lab):
    # Each host sees its own loopback and address, nothing of the machine or the other hosts.
    for name, address in HOSTS.items():
        assert network[name].addresses() == sorted([address, "127.0.0.1"]), name
    base, broker, ids = bring_up(network)
    lab.hold.set()  # the lab holds the first order request unanswered

    scan = scan_files.stl_binary(header=b"multi-host scan of the right ear")
    alice, order_id = place_order_with_scan(base, ids, scan)

    # The scan lies in the object store on the data host, on no host's disk.
    stored = multihost.stored_objects(network["data"])
    assert [content for key, content in stored.items() if key.startswith("scans/")] == [scan], sorted(stored)
    assert multihost.local_files(network, "*.stl") == []

    def reached_lab():
        if lab.holding.is_set():
            return True
        order = alice.get(f"orders/{order_id}/").json()
        assert order["status"] in {"queued", "sending"}, f"{order['failure_reason']}\n{network.tails()}"
        return False

    wait_for(reached_lab, timeout=30, interval=0.2, message=f"a worker to reach the lab\n{network.tails()}")
    (held,) = lab.order_requests()
    assert held.header("Idempotency-Key") == order_id
    # The scan went from the web host through the object store to a worker on another host.
    assert scan_parts(held) == [scan]
    senders = {host.address: host for host in (network["worker-a"], network["worker-b"])}
    assert held.client in senders, held.client
    victim = senders.pop(held.client)
    (survivor,) = senders.values()

    # Mid-send, the sending worker's host drops off the network and loses power.
    victim.pull_cable()
    victim.power_off()
    assert victim.pids() == []

    def delivered():
        answer = alice.get(f"orders/{order_id}/")
        assert answer.status_code == 200, answer.text
        return answer.json() if answer.json()["status"] == "confirmed" else None

    detail = wait_for(delivered, timeout=60, interval=0.3, message=f"the order to be confirmed\n{network.tails()}")
    lab.release.set()

    # Sent again by the surviving host, with the same key and the same scan: one delivery.
    first, second = lab.order_requests()
    assert (first.client, second.client) == (victim.address, survivor.address)
    assert second.header("Idempotency-Key") == order_id
    assert scan_parts(second) == [scan]
    assert lab.deliveries == {order_id: "HL-MH-0001"}
    assert detail["external_reference"] == "HL-MH-0001"
    assert [event["to_status"] for event in detail["events"]] == ["queued", "sending", "queued", "sending", "confirmed"]
    assert [(a["number"], a["outcome"]) for a in detail["attempts"]] == [(1, "ambiguous"), (2, "confirmed")]

    # Nothing left behind in the broker: the dead worker's unacknowledged message came back
    # after the visibility timeout, reached the survivor (whose claim found nothing to send)
    # and was acknowledged there.
    (held_task,) = DISPATCH_RECEIVED.findall(victim.log("worker"))

    def redelivered_and_empty():
        return (
            held_task in DISPATCH_RECEIVED.findall(survivor.log("worker"))
            and sum(broker.llen(queue) for queue in settings.CELERY_TASK_QUEUES) == 0
            and broker.hlen("unacked") == 0
        )

    wait_for(redelivered_and_empty, timeout=VISIBILITY_TIMEOUT + 15, message="the redelivery and an empty broker")
    assert survivor.alive("worker") and network["web"].alive("web")
