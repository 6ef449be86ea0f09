"""Real services for the integration tests: Redis, PostgreSQL, Celery workers, an SMTP lab.

Nothing of our own is patched here. The test process and the worker subprocesses share
PostgreSQL (pytest-django's test database, so tests use ``transaction=True`` and the worker
sees committed rows) and Redis db 15 as the broker. Labs are real servers on 127.0.0.1.

Services that are not reachable skip the tests locally and fail them in CI (``CI=true``).
"""

import asyncio
import contextlib
import email
import email.policy
import os
import signal
import socket
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
import kombu.pools
import redis
from aiosmtpd.controller import Controller
from django.conf import settings as django_settings
from django.db import connection

from otoorder import celery_app
from tests.waiting import wait_for

REPO = Path(__file__).resolve().parents[2]
#: The Redis server of the tests: host and port of ``CELERY_BROKER_URL`` (``make test`` sets it),
#: so that parallel test runs can each use a server of their own; the database numbers are ours.
_BROKER = urlsplit(os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/15")
REDIS_HOST, REDIS_PORT, REDIS_DB = _BROKER.hostname or "127.0.0.1", _BROKER.port or 6379, 15
BROKER_URL = f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}"
IN_CI = os.environ.get("CI", "").lower() == "true"

#: The dispatch policy of both the worker (as environment) and the test process (as settings):
#: small numbers so that retries and the sweeper act within seconds.
POLICY_ENV = {
    "OTOORDER_DISPATCH_BACKOFF_BASE": "0.2",
    "OTOORDER_DISPATCH_BACKOFF_MAX": "1",
    "OTOORDER_QUEUED_DEADLINE": "1",
    "OTOORDER_SENDING_DEADLINE": "3",
    "OTOORDER_TRANSPORT_TIMEOUT": "10",
}


def _unavailable(reason):
    if IN_CI:
        pytest.fail(f"integration service unavailable in CI: {reason}", pytrace=False)
    pytest.skip(f"integration service unavailable: {reason}")


@pytest.fixture(scope="session")
def real_services():
    """Redis and PostgreSQL must answer; otherwise skip (fail in CI)."""
    try:
        redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        _unavailable(f"Redis at {REDIS_HOST}:{REDIS_PORT}: {exc}")
    if connection.vendor != "postgresql":
        _unavailable("DATABASE_URL does not point at PostgreSQL")


@pytest.fixture(autouse=True)
def _integration_services(real_services):
    """Every test here needs the real services (checked once per session)."""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- broker ----------------------------------------------------------------------------------


def use_broker(url):
    """Make this process publish to ``url``, dropping pooled connections to the old broker.

    Celery reads the ``CELERY_BROKER_URL`` environment variable before its configuration,
    so that is what is set (the worker subprocesses get their own environment).
    """
    os.environ["CELERY_BROKER_URL"] = url
    celery_app.conf.broker_transport_options = dict(django_settings.REDIS_TRANSPORT_OPTIONS)
    _drop_connections()
    assert celery_app.connection_for_write().as_uri(include_password=True) == url


def _drop_connections():
    celery_app._pool = None
    amqp = celery_app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None
    kombu.pools.reset()


@contextlib.contextmanager
def broker_on(db):
    """Redis ``db``, empty, as the broker of this process, for the block; yields a client on it."""
    previous = os.environ.get("CELERY_BROKER_URL")
    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=db)
    client.flushdb()
    use_broker(f"redis://{REDIS_HOST}:{REDIS_PORT}/{db}")
    try:
        yield client
    finally:
        client.flushdb()
        if previous is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = previous
        _drop_connections()


@pytest.fixture
def broker(real_services):
    """Redis db 15, empty, as the broker of this process; returns a Redis client on it."""
    with broker_on(REDIS_DB) as client:
        yield client


@pytest.fixture
def dispatch_policy(settings):
    """The same small policy in the test process (``sweep()`` and ``resend`` read it here)."""
    settings.OTOORDER_DISPATCH = {
        **settings.OTOORDER_DISPATCH,
        "BACKOFF_BASE_SECONDS": float(POLICY_ENV["OTOORDER_DISPATCH_BACKOFF_BASE"]),
        "BACKOFF_MAX_SECONDS": float(POLICY_ENV["OTOORDER_DISPATCH_BACKOFF_MAX"]),
        "QUEUED_DEADLINE": timedelta(seconds=float(POLICY_ENV["OTOORDER_QUEUED_DEADLINE"])),
        "SENDING_DEADLINE": timedelta(seconds=float(POLICY_ENV["OTOORDER_SENDING_DEADLINE"])),
    }
    return settings.OTOORDER_DISPATCH


# --- the SMTP lab ----------------------------------------------------------------------------


class SmtpLab:
    """An aiosmtpd server on 127.0.0.1 that plays a lab's mail system.

    ``script`` holds the answers to the next DATA commands, one per message: ``"451"``
    (transient refusal), ``"550"`` (permanent refusal) or ``"stall"`` (hold the answer until
    ``release`` is set or the client goes away). With an empty script it accepts. Only
    messages answered with 250 count as ``accepted``; a stalled message whose client went
    away is in ``abandoned``.
    """

    def __init__(self, port=None):
        self.port = port or free_port()
        self.script = []
        self.accepted = []
        self.abandoned = []
        self.refused = []
        self.stalled = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._controller = None

    @property
    def url(self):
        return f"smtp://127.0.0.1:{self.port}"

    def start(self):
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self):
        if self._controller is not None:
            self.release.set()
            self._controller.stop()
            self._controller = None

    def answer_next(self, *answers):
        with self._lock:
            self.script.extend(answers)

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            action = self.script.pop(0) if self.script else "accept"
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        if action == "451":
            self.refused.append(message)
            return "451 4.3.0 Lab mail system busy, try again later"
        if action == "550":
            self.refused.append(message)
            return "550 5.7.1 Order address does not accept messages"
        if action == "stall":
            self.stalled.set()
            try:
                while not self.release.is_set():
                    await asyncio.sleep(0.02)
            except asyncio.CancelledError:
                # The client went away before it saw an answer: the message was not accepted.
                self.abandoned.append(message)
                raise
        self.accepted.append(message)
        return "250 2.0.0 Message accepted"


@pytest.fixture
def smtp_lab():
    lab = SmtpLab().start()
    yield lab
    lab.stop()


# --- Celery workers --------------------------------------------------------------------------


def test_database_url():
    """The URL of the database this test process uses (pytest-django's test database)."""
    s = connection.settings_dict
    user = quote(s.get("USER") or "", safe="")
    password = quote(s.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    return f"postgres://{auth}{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


test_database_url.__test__ = False


class Worker:
    """A ``celery worker`` subprocess in its own process group (killed as a group)."""

    def __init__(self, name, env, log_path, extra_args=()):
        self.name = name
        self.env = env
        self.log_path = log_path
        self.args = [
            sys.executable, "-m", "celery", "-A", "otoorder", "worker", "-l", "info", "--pool", "prefork",
            "--concurrency", "1", "-n", f"{name}@%h",
            "--without-gossip", "--without-mingle", *extra_args,
        ]  # fmt: skip
        self.process = None

    def start(self, timeout=40.0):
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            self.args, cwd=REPO, env=self.env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        wait_for(self._ready, timeout=timeout, message=f"worker {self.name} to be ready")
        return self

    def _ready(self):
        if self.process.poll() is not None:
            raise AssertionError(f"worker {self.name} exited ({self.process.returncode}):\n{self.log_tail()}")
        return b" ready." in self.log_path.read_bytes()

    def log_tail(self, lines=40):
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def kill(self, sig=signal.SIGKILL):
        """Signal the whole process group (main process and pool children)."""
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self):
        if self.process is None:
            return
        if self.process.poll() is None:
            self.kill(signal.SIGTERM)
            try:
                self.process.wait(timeout=8)
            except subprocess.TimeoutExpired:
                pass
        # Pool children may outlive their parent: make sure the group is gone.
        self.kill(signal.SIGKILL)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self._log.close()


@pytest.fixture
def start_worker(transactional_db, broker, dispatch_policy, tmp_path):
    """``start_worker(email_url=..., name=..., beat=False, queues=None, **env)`` → a ready ``Worker``.

    Every worker is stopped (its process group killed) before the database is flushed.
    """
    workers = []

    def start(*, email_url, name=None, beat=False, concurrency=1, queues=None, **extra_env):
        """``queues``: the queues the worker consumes (``-Q``); by default all of them."""
        name = name or f"w{len(workers) + 1}"
        env = {
            **os.environ,
            **POLICY_ENV,
            "DJANGO_SETTINGS_MODULE": "otoorder.settings",
            "DJANGO_ENV": "development",
            "DATABASE_URL": test_database_url(),
            "CELERY_BROKER_URL": BROKER_URL,
            "EMAIL_URL": email_url,
            "OTOORDER_VAR_DIR": str(tmp_path / name),
            "CONN_MAX_AGE": "0",
            "PYTHONUNBUFFERED": "1",
            **{key: str(value) for key, value in extra_env.items()},
        }
        (tmp_path / name).mkdir(exist_ok=True)
        extra = ["--concurrency", str(concurrency)] if concurrency != 1 else []
        if queues:
            extra += ["-Q", ",".join(queues)]
        if beat:
            extra += ["-B", "--schedule", str(tmp_path / name / "celerybeat-schedule")]
        worker = Worker(name, env, tmp_path / f"{name}.log", extra)
        workers.append(worker)
        return worker.start()

    yield start
    for worker in workers:
        worker.stop()


# --- orders ----------------------------------------------------------------------------------


def both_ears():
    from tests.factories import bte_item, ric_item

    return [bte_item("right"), ric_item("left")]


def wait_for_status(order, *statuses, timeout=25.0):
    """Reload ``order`` until its status is one of ``statuses``; returns the fresh order."""

    def reached():
        order.refresh_from_db()
        return order.status in statuses

    try:
        wait_for(reached, timeout=timeout, message=f"order {order.pk} to reach {statuses}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; it is {order.status!r}") from None
    return order
