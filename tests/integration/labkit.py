"""Shared pieces of the lab-interface acceptance tests (``test_lab_backends*.py``).

* ``LabPeer``: the loopback HTTP lab of ``tests/labs/http_lab.py`` whose scripted replies may
  also be callables ``reply(request) -> Reply`` — a lab that answers from what it received
  (checks credentials, echoes our order number in an openTRANS ``ORDERRESPONSE``).
* ``lab_env`` / ``lab_worker``: the operator's environment (command allow-list, exchange
  root) in the test process (where definitions are validated on save) and in a real Celery
  worker subprocess with a 1 s transport timeout. These tests use their own Redis database
  (``LAB_REDIS_DB``) so that they neither flush nor are flushed by other integration tests.
* ``Api``: token-authenticated ``requests`` session against ``live_server``; the definition
  is configured by dave (chain admin), the order placed by alice (staff of Mitte).
* ``canonical`` form of an order as it arrived, and ``expected_fields`` of what was ordered.
"""

import base64
import datetime
import os
import signal
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from otoorder.orders.models import EarmouldOrder
from suppliers.models import OrderMethod
from tests import factories as f
from tests.labs.http_lab import HttpLab

from .conftest import (
    POLICY_ENV,
    REDIS_HOST,
    REDIS_PORT,
    Worker,
    broker_on,
    free_port,
    test_database_url,
    wait_for,
)

REPO = Path(__file__).resolve().parents[2]
DEMO_COMMAND = REPO / "tests" / "bin" / "demo_lab_command"

LAB_REDIS_DB = 12
LAB_BROKER_URL = f"redis://{REDIS_HOST}:{REDIS_PORT}/{LAB_REDIS_DB}"
#: The worker's transport timeout; a lab stalling ``STALL_SECONDS`` is "not answering".
TRANSPORT_TIMEOUT = 1
STALL_SECONDS = 3
#: Bound of every wait for the worker (retries back off at most 1 s, see ``POLICY_ENV``).
WAIT = 30.0

#: What staff order through the API in every test: both ears, every header field.
ORDER_NOTES = "Bitte bis Freitag; Kunde ist Musiker"
RIGHT_NOTES = "Rechts etwas kürzer"
LEFT_NOTES = "Links weicher"


# --- the peer -------------------------------------------------------------------------------


class LabPeer(HttpLab):
    """An ``HttpLab`` whose scripted replies may be callables taking the request."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._current = threading.local()

    def _record(self, request):
        # The handler records, then asks for the reply, in the same thread.
        self._current.request = request
        super()._record(request)

    def _next_reply(self, method, path):
        reply = super()._next_reply(method, path)
        return reply(self._current.request) if callable(reply) else reply


@pytest.fixture
def lab_peer():
    lab = LabPeer().start()
    try:
        yield lab
    finally:
        lab.stop()


def basic_auth(username, password):
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


# --- the operator's environment and the worker ------------------------------------------------


@dataclass(frozen=True)
class LabEnv:
    exchange: Path  # OTOORDER_EXCHANGE_ROOT
    commands: Path  # an extra allow-listed folder for programs the tests write
    env: dict

    def worker_env(self):
        return {**self.env, "OTOORDER_TRANSPORT_TIMEOUT": str(TRANSPORT_TIMEOUT)}


@pytest.fixture
def lab_env(tmp_path, monkeypatch):
    """The operator's settings, in this process (save-time checks of the API) and for workers."""
    exchange, commands = tmp_path / "exchange", tmp_path / "commands"
    exchange.mkdir()
    commands.mkdir()
    env = {
        "OTOORDER_COMMAND_ALLOWLIST": os.pathsep.join([str(DEMO_COMMAND.parent), str(commands)]),
        "OTOORDER_EXCHANGE_ROOT": str(exchange),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return LabEnv(exchange=exchange, commands=commands, env=env)


@pytest.fixture
def lab_broker(real_services):
    """Redis db ``LAB_REDIS_DB``, empty, as this process's broker."""
    with broker_on(LAB_REDIS_DB) as client:
        yield client


@pytest.fixture
def lab_worker(transactional_db, lab_broker, dispatch_policy, lab_env, tmp_path):
    """One ready Celery worker subprocess on the lab broker with the lab environment."""
    env = {
        **os.environ,
        **POLICY_ENV,
        **lab_env.worker_env(),
        "DJANGO_SETTINGS_MODULE": "otoorder.settings",
        "DJANGO_ENV": "development",
        "DATABASE_URL": test_database_url(),
        "CELERY_BROKER_URL": LAB_BROKER_URL,
        # No lab here mails; an address nothing listens on makes any mail attempt fail loudly.
        "EMAIL_URL": f"smtp://127.0.0.1:{free_port()}",
        "OTOORDER_VAR_DIR": str(tmp_path / "worker"),
        "CONN_MAX_AGE": "0",
        "PYTHONUNBUFFERED": "1",
    }
    (tmp_path / "worker").mkdir()
    worker = Worker("labs", env, tmp_path / "worker.log")
    try:
        yield worker.start()
    finally:
        # Idle by now (every test waits for its orders): no warm shutdown needed, which
        # would cost seconds per test.
        worker.kill(signal.SIGKILL)
        worker.stop()


# --- people, labs and the API ----------------------------------------------------------------


class Api:
    """``requests`` with a token of ``username`` against ``live_server``; paths below /api/v1/."""

    def __init__(self, server, username, timeout=10):
        """``server``: the live server (its ``url``) or a base URL such as another host's."""
        self.base = f"{getattr(server, 'url', server)}/api/v1"
        self.timeout = timeout
        self.session = requests.Session()
        self.session.trust_env = False
        response = self.session.post(
            f"{self.base}/auth/token/", json={"username": username, "password": f.PASSWORD}, timeout=timeout
        )
        assert response.status_code == 200, response.text
        self.session.headers["Authorization"] = f"Token {response.json()['token']}"

    def get(self, path):
        return self.session.get(f"{self.base}/{path}", timeout=self.timeout)

    def post(self, path, body=None, **kwargs):
        """JSON ``body``; or ``data=``/``files=`` for a multipart upload."""
        return self.session.post(f"{self.base}/{path}", json=body, timeout=self.timeout, **kwargs)

    def patch(self, path, body):
        return self.session.patch(f"{self.base}/{path}", json=body, timeout=self.timeout)

    def close(self):
        # Ends the kept-alive connection, so the live server's thread closes its database
        # connection too (else the test database cannot be dropped at the end).
        self.session.close()


@pytest.fixture
def staff_api(live_server, alice):
    api = Api(live_server, "alice")
    yield api
    api.close()


@pytest.fixture
def admin_api(live_server, dave):
    api = Api(live_server, "dave")
    yield api
    api.close()


def lab_supplier(name, branch, account):
    """A lab (company + supplier ordered through an interface) and our account at ``branch``."""
    company = f.CompanyFactory(name=name)
    supplier = f.SupplierFactory(company=company, order_method=OrderMethod.INTERFACE, order_email="")
    f.SupplierAccountFactory(branch=branch, supplier=supplier, account_number=account)
    return supplier


def configure(admin_api, backend, supplier, options, name=None):
    """dave configures the interface for the lab's company and supplier; returns its JSON."""
    response = admin_api.post(
        "interface-definitions/",
        {
            "name": name or f"{supplier.company.name} über {backend}",
            "backend": backend,
            "companies": [str(supplier.company_id)],
            "supplier": str(supplier.pk),
            "options": options,
        },
    )
    assert response.status_code == 201, response.text
    definition = response.json()
    assert "password" not in definition["options"] and "api_key" not in definition["options"]
    return definition


def reconfigure(admin_api, definition, options):
    """dave fixes the options (non-secret ones must be repeated; secrets are write-only)."""
    response = admin_api.patch(f"interface-definitions/{definition['id']}/", {"options": options})
    assert response.status_code == 200, response.text
    return response.json()


DATE_REQUIRED = datetime.date.today() + datetime.timedelta(days=14)


def order_request(transaction_obj, supplier):
    from tests.factories import bte_item, ric_item

    return {
        "transaction": str(transaction_obj.pk),
        "company": str(supplier.company_id),
        "items": [bte_item("right", notes=RIGHT_NOTES), ric_item("left", notes=LEFT_NOTES)],
        "notes": ORDER_NOTES,
        "priority": "express",
        "order_type": "new",
        "date_required": DATE_REQUIRED.isoformat(),
    }


def place(staff_api, transaction_obj, supplier):
    """alice orders through the API; returns the 201 answer's JSON."""
    response = staff_api.post("orders/", order_request(transaction_obj, supplier))
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "queued", created
    return created


def wait_for_order(api, order_id, *statuses, timeout=WAIT):
    """``GET /api/v1/orders/{id}/`` until its status is one of ``statuses``; returns the JSON."""
    last = {}

    def reached():
        response = api.get(f"orders/{order_id}/")
        assert response.status_code == 200, response.text
        last.update(response.json())
        return last["status"] in statuses

    try:
        wait_for(reached, timeout=timeout, interval=0.2, message=f"order {order_id} to reach {statuses}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; it is {last.get('status')!r}: {last.get('events')}") from None
    return last


def resend(api, order_id):
    response = api.post(f"orders/{order_id}/resend/")
    assert response.status_code == 200, response.text
    # The answer shows the order as it is when read back: a worker may already have taken it
    # from the outbox (and a fixed lab may even have confirmed it) — but it is no longer failed.
    assert response.json()["status"] in {"queued", "sending", "ordered", "confirmed"}, response.json()["status"]


def statuses(detail):
    return [event["to_status"] for event in detail["events"]]


def outcomes(detail):
    return [attempt["outcome"] for attempt in detail["attempts"]]


# --- what must arrive -----------------------------------------------------------------------


#: The item fields every format carries, in our names.
ITEM_KEYS = (
    "product_family", "style", "material", "colour", "vent_type", "vent_diameter_mm", "tube",
    "receiver_power", "receiver_length", "quantity", "notes",
)  # fmt: skip


def expected_fields(order_id, account):
    """The canonical form of what alice ordered (see ``order_request``) as the lab must see it."""
    order = EarmouldOrder.objects.select_related("customer").get(pk=order_id)
    customer = order.customer
    return {
        "id": str(order.pk),
        "number": order.number,
        "order_type": "new",
        "priority": "express",
        "date_required": DATE_REQUIRED.isoformat(),
        "account": account,
        # Initials and customer number, never the name (DOMAIN.md §5).
        "customer_reference": f"{customer.initials}-{customer.customer_number}",
        "notes": ORDER_NOTES,
        "items": {
            "right": {
                "product_family": "bte", "style": "shell", "material": "acrylic", "colour": "transparent",
                "vent_type": "parallel", "vent_diameter_mm": "1.5", "tube": "standard_2_1", "quantity": "1",
                "notes": RIGHT_NOTES,
            },
            "left": {
                "product_family": "ric", "style": "canal", "material": "silicone", "colour": "beige",
                "vent_type": "none", "receiver_power": "M", "receiver_length": "2", "quantity": "1",
                "notes": LEFT_NOTES,
            },
        },
    }  # fmt: skip


def canonical(header, items):
    """Normalise a lab's view of an order: strings, empty values dropped, items by side."""

    def clean(mapping):
        return {key: str(value) for key, value in mapping.items() if value not in (None, "")}

    by_side = {}
    for side, fields in items:
        assert side not in by_side, f"ear {side} sent twice"
        by_side[side] = clean({key: fields.get(key) for key in ITEM_KEYS})
    return {**clean(header), "items": by_side}


def assert_no_personal_data(raw, customer):
    """The lab learns the customer reference, never the name."""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    assert customer.last_name not in text and customer.first_name not in text
