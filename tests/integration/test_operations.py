"""/readyz against the real services, and a worker's JSON log line of a send.

The broker of the readiness test is a redis-server of the test's own (port 6396 on 127.0.0.1),
stopped in the middle: no mock, the check meets a closed port.
"""

import json
import os
import shutil
import subprocess
import time

import pytest
import redis
from django.test import Client

from otoorder.orders import services
from otoorder.orders.choices import OrderStatus
from tests.waiting import wait_for

from .conftest import IN_CI, _drop_connections, both_ears, use_broker, wait_for_status

pytestmark = [pytest.mark.integration]

OWN_REDIS_PORT = 6396


@pytest.fixture
def own_redis():
    """A redis-server on 127.0.0.1:6396 for this test only; yields its process."""
    binary = shutil.which("redis-server")
    if binary is None:
        if IN_CI:
            pytest.fail("redis-server is not installed", pytrace=False)
        pytest.skip("redis-server is not installed")
    process = subprocess.Popen(
        [binary, "--port", str(OWN_REDIS_PORT), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(host="127.0.0.1", port=OWN_REDIS_PORT, socket_connect_timeout=1)

    def answers():
        if process.poll() is not None:
            raise AssertionError(f"redis-server on port {OWN_REDIS_PORT} exited ({process.returncode})")
        try:
            return client.ping()
        except redis.ConnectionError:
            return False

    wait_for(answers, timeout=10, message=f"redis-server on port {OWN_REDIS_PORT}")
    previous = os.environ.get("CELERY_BROKER_URL")
    use_broker(f"redis://127.0.0.1:{OWN_REDIS_PORT}/0")
    try:
        yield process
    finally:
        if previous is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = previous
        _drop_connections()
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)


@pytest.mark.django_db(transaction=True)
def test_readyz_reports_each_dependency_and_turns_503_when_redis_stops(own_redis, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "private")
    client = Client()

    response = client.get("/readyz", HTTP_HOST="10.0.0.7")  # the balancer's probe, by address
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "broker", "storage"}
    for name, check in body["checks"].items():
        assert check["state"] == "up", (name, check)
        assert isinstance(check["latency_ms"], float) and 0 <= check["latency_ms"] < 2000

    own_redis.terminate()
    own_redis.wait(timeout=10)
    started = time.monotonic()
    response = client.get("/readyz")
    elapsed = time.monotonic() - started

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["broker"]["state"] == "down"
    assert body["checks"]["broker"]["error"]  # the error's kind only, no address or credentials
    assert "6396" not in response.content.decode()
    assert body["checks"]["database"]["state"] == "up"
    assert body["checks"]["storage"]["state"] == "up"
    assert elapsed < settings.OTOORDER_READY_TIMEOUT + 1.0
    # Liveness does not depend on the broker.
    assert client.get("/healthz").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_send_logs_one_json_line_with_the_order_id_and_nothing_of_the_customer(
    start_worker, smtp_lab, transaction_obj, dreve_supplier, alice, customer
):
    worker = start_worker(email_url=smtp_lab.url, OTOORDER_LOG_FORMAT="json")
    order = services.place_order(
        transaction_obj=transaction_obj, company=dreve_supplier.company, supplier=dreve_supplier,
        items=both_ears(), user=alice,
    )  # fmt: skip
    wait_for_status(order, OrderStatus.ORDERED)
    sent_message = f"order {order.pk} sent"

    def sent_line():
        for line in worker.log_path.read_text(errors="replace").splitlines():
            if sent_message in line:
                return line
        return None

    line = wait_for(sent_line, timeout=10, message="the worker's log line of the send")
    record = json.loads(line)  # the whole line is one JSON object
    assert record["order_id"] == str(order.pk)
    assert record["level"] == "INFO"
    assert record["logger"] == "otoorder.orders.dispatch"
    assert record["message"].startswith(sent_message)
    log = worker.log_path.read_text(errors="replace")
    assert customer.first_name == "Erika" and customer.last_name == "Mustermann"
    assert "Mustermann" not in log and "Erika" not in log
    # The next task's records carry no order: the context is cleared around every task.
    order_lines = [json.loads(text) for text in log.splitlines() if text.startswith("{") and '"order_id"' in text]
    assert order_lines and {r["order_id"] for r in order_lines} == {str(order.pk)}
