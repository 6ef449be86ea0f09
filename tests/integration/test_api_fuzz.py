"""The API fuzzed against its own OpenAPI schema, as staff and as chain admin.

The application runs as deployed: gunicorn on loopback (development settings with ``DEBUG``
off) against PostgreSQL (pytest-django's test database, filled by ``load_demo_data``) with
Redis as the broker (no worker: orders stay queued). Schemathesis reads ``/api/schema/`` and sends generated valid and invalid requests to
every operation, authenticated with the token of ``demo-staff`` and then of ``demo-admin``
from ``POST /api/v1/auth/token/``. Its checks:

- ``not_a_server_error`` — no 5xx, whatever the input;
- ``status_code_conformance`` — every status code answered is declared for the operation;
- ``response_schema_conformance`` — every answer (errors included) matches its declared body.

Each run has a fixed time budget (``FUZZ_SECONDS``), so the test takes about two minutes. Left
out: ``DELETE`` (revoking the run's own token or removing the data it works on ends the run,
not the API). The token endpoint is fuzzed with generated user names only, so the lock-out
after wrong passwords can never lock the demo logins the runs use.

Random ids alone would only ever meet 404: the runs also draw, half of the time, the ids of
real rows (every branch's: another branch's id must answer 404) for path parameters, body
references and filters, from dictionaries in a schemathesis config the test writes, with an
order placed through the API beforehand, so that the lifecycle actions meet a real order.

On a failure the test prints schemathesis' report (with a ``curl`` line per finding) and the
tail of the server log (the traceback of a 500).
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from branches.models import Branch, InterfaceDefinition
from otoorder.orders.models import EarmouldOrder, Impression, Parcel
from otoorder.transactions.models import Customer, Transaction, TransactionTemplate
from suppliers.models import Company, Supplier
from tests.factories import bte_item

from .conftest import BROKER_URL, REPO, free_port, test_database_url, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

#: The password of the demo logins (README, ``load_demo_data``).
DEMO_PASSWORD = "otoorder-demo"
#: Time budget of one schemathesis run (one user); two runs make about two minutes.
FUZZ_SECONDS = int(os.environ.get("OTOORDER_FUZZ_SECONDS", "50"))
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance"
#: A request that takes longer is reported as an error (a hang is a finding too).
REQUEST_TIMEOUT = 15


class AppServer:
    """gunicorn serving otoorder on a free loopback port, in its own process group."""

    def __init__(self, env, log_path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.args = [
            sys.executable, "-m", "gunicorn", "otoorder.wsgi", "--bind", f"127.0.0.1:{self.port}",
            # One worker: CPython 3.11's ast keeps its recursion depth per interpreter, not per
        # thread, and two generating threads now and then abort with "AST constructor recursion
        # depth mismatch" (an error of the fuzzer, not a finding about the API).
        "--workers", "1", "--timeout", "30", "--graceful-timeout", "5",
        ]  # fmt: skip
        self.env = env
        self.process = None

    def start(self):
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            self.args, cwd=REPO, env=self.env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        wait_for(self._ready, timeout=40, message="gunicorn to answer /api/schema/")
        return self

    def _ready(self):
        if self.process.poll() is not None:
            raise AssertionError(f"gunicorn exited ({self.process.returncode}):\n{self.log_tail()}")
        try:
            return requests.get(f"{self.url}/api/schema/?format=json", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def log_tail(self, lines=80):
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self):
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        self._log.close()


@pytest.fixture
def app_server(transactional_db, broker, tmp_path):
    var_dir = tmp_path / "var"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "otoorder.settings",
        "DJANGO_ENV": "development",
        "DEBUG": "false",
        "DATABASE_URL": test_database_url(),
        "CELERY_BROKER_URL": BROKER_URL,
        "OTOORDER_VAR_DIR": str(var_dir),
        "OTOORDER_EXCHANGE_ROOT": str(var_dir / "exchange"),
        "OTOORDER_COMMAND_ALLOWLIST": str(REPO / "otoorder" / "sandbox" / "bin"),
        "EMAIL_URL": f"smtp://127.0.0.1:{free_port()}",
        "CONN_MAX_AGE": "0",
        "PYTHONUNBUFFERED": "1",
    }
    var_dir.mkdir()
    demo = subprocess.run(
        [sys.executable, "manage.py", "load_demo_data"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    server = AppServer(env, tmp_path / "gunicorn.log").start()
    yield server
    server.stop()


def token_for(server, username):
    response = requests.post(
        f"{server.url}/api/v1/auth/token/", json={"username": username, "password": DEMO_PASSWORD}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()["token"]


def place_an_order(server, token):
    """A transaction and an order of demo-staff's branch, through the API (no worker: it stays queued)."""
    headers = {"Authorization": f"Token {token}"}
    customer = Customer.objects.filter(branch__name="Filiale Mitte").order_by("last_name").first()
    template = TransactionTemplate.objects.filter(is_active=True).first()
    response = requests.post(
        f"{server.url}/api/v1/transactions/",
        json={"customer": str(customer.pk), "template": str(template.pk)},
        headers=headers,
        timeout=15,
    )
    assert response.status_code == 201, response.text
    supplier = Supplier.objects.get(company__name="Hörluchs", name="")
    body = {
        "transaction": response.json()["id"],
        "company": str(supplier.company_id),
        "supplier": str(supplier.pk),
        "items": [bte_item("right")],
    }
    response = requests.post(f"{server.url}/api/v1/orders/", json=body, headers=headers, timeout=15)
    assert response.status_code == 201, response.text


#: Dictionary → the rows whose ids it holds.
DICTIONARIES = {
    "branches": Branch.objects,
    "customers": Customer.objects,
    "templates": TransactionTemplate.objects,
    "transactions": Transaction.objects,
    "orders": EarmouldOrder.objects,
    "impressions": Impression.objects,
    "parcels": Parcel.objects,
    "companies": Company.objects,
    "suppliers": Supplier.objects,
    "definitions": InterfaceDefinition.objects,
}
#: (path regex, {parameter: dictionary}): where real ids are offered (a path's parameters for
#: all its methods: schemathesis joins the include filters of one entry with "or").
BINDINGS = [
    (r"^/api/v1/branches/\{id\}/$", {"path.id": "branches"}),
    (r"^/api/v1/customers/\{id\}/$", {"path.id": "customers"}),
    (r"^/api/v1/customers/$", {"body.branch": "branches"}),
    (r"^/api/v1/transaction-templates/\{id\}/$", {"path.id": "templates"}),
    (r"^/api/v1/transactions/\{id\}/", {"path.id": "transactions", "body.company": "companies", "body.supplier": "suppliers"}),
    (r"^/api/v1/transactions/$", {"body.customer": "customers", "body.template": "templates"}),
    (r"^/api/v1/orders/\{id\}/", {"path.id": "orders"}),
    (r"^/api/v1/orders/$",
     {"query.customer": "customers", "body.transaction": "transactions", "body.company": "companies",
      "body.supplier": "suppliers", "body.items[*].impression": "impressions", "body.original_order": "orders"}),
    (r"^/api/v1/impressions/$", {"query.customer": "customers", "body.customer": "customers"}),
    (r"^/api/v1/parcels/\{id\}/$", {"path.id": "parcels"}),
    (r"^/api/v1/parcels/$", {"body.supplier": "suppliers", "body.impressions[*]": "impressions"}),
    (r"^/api/v1/companies/\{id\}/$", {"path.id": "companies"}),
    (r"^/api/v1/suppliers/\{id\}/$", {"path.id": "suppliers"}),
    (r"^/api/v1/suppliers/$", {"query.company": "companies", "body.company": "companies"}),
    (r"^/api/v1/catalogue/$", {"query.supplier": "suppliers"}),
    (r"^/api/v1/interface-definitions/", {"path.id": "definitions", "body.supplier": "suppliers", "body.branch": "branches"}),
    (r"^/api/v1/callbacks/\{definition_id\}/$", {"path.definition_id": "definitions"}),
]  # fmt: skip


def write_config(path):
    """A schemathesis config that offers the real ids half of the time."""
    lines = []
    for name, manager in DICTIONARIES.items():
        values = ", ".join(f'"{pk}"' for pk in manager.values_list("pk", flat=True)[:50])
        if values:
            lines += [f"[dictionaries.{name}]", f"values = [{values}]", ""]
    present = {name for name, manager in DICTIONARIES.items() if manager.exists()}
    for path_regex, parameters in BINDINGS:
        bound = ", ".join(
            f'"{key}" = {{ dictionary = "{name}", probability = 0.5 }}'
            for key, name in parameters.items()
            if name in present
        )
        if bound:
            lines += [
                "[[operations]]",
                f"include-path-regex = '{path_regex}'",
                f"parameters = {{ {bound} }}",
                "",
            ]
    Path(path).write_text("\n".join(lines))
    return path


def schemathesis_run(server, token, report_dir):
    """One bounded schemathesis run; returns (exit code, its report)."""
    config = write_config(report_dir / "schemathesis.toml")
    args = [
        sys.executable, "-c", "from schemathesis.cli import schemathesis; schemathesis()",
        "--config-file", str(config), "run", f"{server.url}/api/schema/?format=json", "--url", server.url,
        "--header", f"Authorization: Token {token}",
        "--checks", CHECKS,
        "--exclude-method", "DELETE",
        "--max-time", str(FUZZ_SECONDS),
        "--request-timeout", str(REQUEST_TIMEOUT),
        # One worker: CPython 3.11's ast keeps its recursion depth per interpreter, not per
        # thread, and two generating threads now and then abort with "AST constructor recursion
        # depth mismatch" (an error of the fuzzer, not a finding about the API).
        "--workers", "1",
        "--generation-database", "none",
        "--no-color",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    result = subprocess.run(
        args, cwd=report_dir, env=env, capture_output=True, text=True, timeout=FUZZ_SECONDS + 120
    )
    return result.returncode, result.stdout + result.stderr


@pytest.mark.timeout(FUZZ_SECONDS * 2 + 300)
def test_the_api_answers_fuzzed_requests_as_its_schema_says(app_server, tmp_path):
    place_an_order(app_server, token_for(app_server, "demo-staff"))
    failures = []
    for username in ("demo-staff", "demo-admin"):
        report_dir = tmp_path / f"schemathesis-{username}"
        report_dir.mkdir()
        code, report = schemathesis_run(app_server, token_for(app_server, username), report_dir)
        if code == 0:
            print(f"--- schemathesis as {username}: no failures ---\n{report[-1500:]}")
        else:
            failures.append(f"=== schemathesis as {username} (exit {code}) ===\n{report}")
    if failures:
        pytest.fail(
            "\n\n".join(failures) + f"\n\n=== gunicorn log (tail) ===\n{app_server.log_tail()}", pytrace=False
        )
