"""The API fuzzed against its own OpenAPI schema, as staff and as chain admin.

The application runs as in production: gunicorn on loopback against PostgreSQL (pytest-django's
test database, filled by ``load_demo_data``) with Redis as the broker (no worker: orders stay
queued). Schemathesis reads ``/api/schema/`` and sends generated valid and invalid requests to
every operation, authenticated with the token of ``demo-staff`` and then of ``demo-admin``
from ``POST /api/v1/auth/token/``. Its checks:

- ``not_a_server_error`` — no 5xx, whatever the input;
- ``status_code_conformance`` — every status code answered is declared for the operation;
- ``response_schema_conformance`` — every answer (errors included) matches its declared body.

Each run has a fixed time budget (``FUZZ_SECONDS``), so the test takes about two minutes. Left
out: ``DELETE`` (revoking the run's own token or removing the data it works on ends the run,
not the API). The token endpoint is fuzzed with generated user names only, so the lock-out
after wrong passwords can never lock the demo logins the runs use.

On a failure the test prints schemathesis' report (with a ``curl`` line per finding) and the
tail of the server log (the traceback of a 500).
"""

import os
import signal
import subprocess
import sys

import pytest
import requests

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
            "--workers", "2", "--timeout", "30", "--graceful-timeout", "5",
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


def schemathesis_run(server, token, report_dir):
    """One bounded schemathesis run; returns (exit code, its report)."""
    args = [
        sys.executable, "-c", "from schemathesis.cli import schemathesis; schemathesis()",
        "run", f"{server.url}/api/schema/?format=json", "--url", server.url,
        "--header", f"Authorization: Token {token}",
        "--checks", CHECKS,
        "--exclude-method", "DELETE",
        "--max-time", str(FUZZ_SECONDS),
        "--request-timeout", str(REQUEST_TIMEOUT),
        "--workers", "2",
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
