"""A stored scan travels from the object store to the lab, sent by a real Celery worker.

The web side (the live server in this process) and the worker (a subprocess) share nothing on
disk: each has a private folder of its own, empty, and both have the same
``OTOORDER_STORAGE_URL`` — a real SeaweedFS store on 127.0.0.1 (tests/s3.py). alice uploads a
scan through the API, orders with it, and the worker sends the order with the scan's bytes to a
loopback Hörluchs lab, reading them from the store as a worker on another host would.
"""

import hashlib
import json

import pytest

from otoorder.storage import default_storage_settings
from tests import scan_files
from tests.factories import bte_item
from tests.labs.http_lab import Reply
from tests.s3 import SeaweedS3, StoreUnavailable, start_store
from tests.waiting import wait_for

from .conftest import IN_CI
from .labkit import basic_auth, configure, lab_peer, lab_supplier, staff_api, admin_api, wait_for_order  # noqa: F401

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

USERNAME, SECRET = "otoorder", "partner-4711"
ACCOUNT = "HL-2002"


def upload_scan(staff_api, customer, content):
    uploaded = staff_api.session.post(
        f"{staff_api.base}/impressions/",
        data={"customer": str(customer.pk), "side": "right", "kind": "scan"},
        files={"file": ("Erika rechts.stl", content, "application/octet-stream")},
        timeout=10,
    )
    assert uploaded.status_code == 201, uploaded.text
    return uploaded.json()


def order_with(staff_api, transaction_obj, supplier, impression):
    ordered = staff_api.post(
        "orders/",
        {
            "transaction": str(transaction_obj.pk),
            "company": str(supplier.company_id),
            "items": [bte_item("right", impression=impression["id"])],
        },
    )
    assert ordered.status_code == 201, ordered.text
    return ordered.json()["id"]


def hoerluchs_lab(admin_api, lab_peer, mitte):
    supplier = lab_supplier("Hörluchs", mitte, ACCOUNT)
    configure(
        admin_api, "hoerluchs_partner", supplier,
        {"endpoint_url": f"{lab_peer.url}/partner/api", "username": USERNAME, "password": SECRET},
    )
    lab_peer.script(Reply.json({"auftragsnummer": "HL-2026-0900", "status": "angenommen"}), path="/partner/api/auftraege")
    return supplier


def test_a_worker_sends_the_scan_it_reads_from_the_object_store(
    s3_storage, s3_server, settings, tmp_path, start_worker, lab_peer, admin_api, staff_api, transaction_obj, mitte, customer
):
    web_folder, worker_folder = tmp_path / "web-private", tmp_path / "worker-private"
    settings.MEDIA_ROOT = web_folder
    worker = start_worker(
        email_url="smtp://127.0.0.1:9",  # no mail here
        OTOORDER_STORAGE_URL=s3_storage,
        OTOORDER_PRIVATE_ROOT=str(worker_folder),
    )
    supplier = hoerluchs_lab(admin_api, lab_peer, mitte)
    content = scan_files.stl_binary()
    order_id = order_with(staff_api, transaction_obj, supplier, upload_scan(staff_api, customer, content))

    detail = wait_for_order(staff_api, order_id, "confirmed", "failed")
    assert detail["status"] == "confirmed", (detail["events"], worker.log_tail())

    (request,) = lab_peer.requests_to("/partner/api/auftraege", method="POST")
    assert request.header("Authorization") == basic_auth(USERNAME, SECRET)
    parts = request.multipart()
    ((filename, content_type, sent),) = parts["scan"]
    assert (filename, content_type) == ("right.stl", "model/stl")
    assert sent == content
    body = json.loads(parts["order"][0][2])
    assert body["bestell_id"] == order_id
    assert [scan["sha256"] for scan in body["scans"]] == [hashlib.sha256(content).hexdigest()]

    # The bytes came from the store: neither side kept a file on its own disk.
    for folder in (web_folder, worker_folder):
        assert not folder.exists() or not [p for p in folder.rglob("*") if p.is_file()], folder
    location = settings.STORAGES["default"]["OPTIONS"]["location"]
    keys = [o["Key"] for o in s3_server.client().list_objects_v2(Bucket=s3_server.bucket, Prefix=location)["Contents"]]
    assert len(keys) == 1 and keys[0].endswith(".stl")


@pytest.fixture
def own_store(tmp_path, settings):
    """A store of this test alone (it is stopped and started again), as the default storage."""
    try:
        store = start_store(tmp_path / "store")
    except StoreUnavailable as exc:
        if IN_CI:
            pytest.fail(f"S3 test store unavailable in CI: {exc}", pytrace=False)
        pytest.skip(f"S3 test store unavailable: {exc}")
    settings.STORAGES = {**settings.STORAGES, "default": default_storage_settings(store.storage_url(prefix="outage"))}
    stores = [store]
    yield stores
    for running in stores:
        running.stop()


def test_an_order_waits_while_the_store_is_down_and_goes_once_it_is_back(
    own_store, settings, tmp_path, start_worker, lab_peer, admin_api, staff_api, transaction_obj, mitte, customer
):
    (store,) = own_store
    settings.MEDIA_ROOT = tmp_path / "web-private"
    supplier = hoerluchs_lab(admin_api, lab_peer, mitte)
    content = scan_files.stl_ascii()
    impression = upload_scan(staff_api, customer, content)

    # The store goes away (an orderly stop keeps its data); the worker cannot read the scan.
    store.stop(grace=30.0)
    start_worker(
        email_url="smtp://127.0.0.1:9",
        OTOORDER_STORAGE_URL=store.storage_url(prefix="outage"),
        OTOORDER_STORAGE_TIMEOUT="1",
        OTOORDER_PRIVATE_ROOT=str(tmp_path / "worker-private"),
    )
    order_id = order_with(staff_api, transaction_obj, supplier, impression)

    def failed_attempts():
        detail = staff_api.get(f"orders/{order_id}/").json()
        return [a for a in detail["attempts"] if a["error_code"] == "storage_unreachable"]

    attempts = wait_for(failed_attempts, timeout=30.0, message="an attempt that found the store down")
    assert not attempts[0]["permanent"]
    assert staff_api.get(f"orders/{order_id}/").json()["status"] in {"queued", "sending"}
    assert lab_peer.requests_to("/partner/api/auftraege") == []

    # Back on the same folder and ports: the next retry reads the scan and the lab gets it once.
    back = SeaweedS3(store.directory, ip=store.ip, port_base=store.port_base).start()
    own_store.append(back)
    detail = wait_for_order(staff_api, order_id, "confirmed", "failed")
    assert detail["status"] == "confirmed", detail["events"]
    (request,) = lab_peer.requests_to("/partner/api/auftraege", method="POST")
    ((_name, _type, sent),) = request.multipart()["scan"]
    assert sent == content
