"""``GET /healthz`` (liveness) and ``GET /readyz`` (readiness), answered before everything else.

Both are answered by ``HealthMiddleware``, the first middleware: no session, no login, no
language prefix, no host check (a load balancer's probe may name the host by its address) and
no HTTPS redirect (probes speak plain HTTP inside the network). Neither says anything personal.

* ``/healthz``: the process answers requests. No database, no broker: a web process whose
  database is down is still alive, and restarting it would not help.
* ``/readyz``: can this process do its work? The database (``SELECT 1``), the broker (a
  connection, for Redis with a PING) and the file storage (``default_storage``, local or
  S3-compatible: a lookup of a name that does not exist) are checked side by side, each
  bounded by ``OTOORDER_READY_TIMEOUT`` seconds. JSON with each check's state and latency in
  milliseconds; 200 when all are up, 503 when one is not (the load balancer stops sending
  requests to this process until it is ready again).
"""

import os
import threading
import time
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import connections
from django.http import JsonResponse

from otoorder.celery import app as celery_app

LIVE_PATH = "/healthz"
READY_PATH = "/readyz"
#: Looked up (never written) in the storage: its absence is the expected answer.
PROBE_NAME = "otoorder-readyz-probe"


def check_database():
    connection = connections["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        # The check runs in a thread of its own: its connection must not outlive it.
        connection.close()


def check_broker():
    with celery_app.connection_for_write() as connection:
        # One try, no retry loop (kombu would otherwise wait between tries).
        connection.ensure_connection(max_retries=0, interval_start=0)
        channel = connection.default_channel
        client = getattr(channel, "client", None)
        if client is not None and hasattr(client, "ping"):
            client.ping()


def check_storage():
    storage = default_storage
    storage.exists(PROBE_NAME)
    if isinstance(storage, FileSystemStorage):
        # A local folder answers "does not exist" even when it cannot be written: the folder
        # (or, before the first upload, its nearest existing parent) must be writable.
        folder = Path(storage.location)
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if not (folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)):
            raise PermissionError("storage folder not writable")


CHECKS = {"database": check_database, "broker": check_broker, "storage": check_storage}


def _run(check, result):
    started = time.monotonic()
    try:
        check()
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; reported by type only
        result["error"] = type(exc).__name__
    result["latency_ms"] = round((time.monotonic() - started) * 1000, 1)


def readiness(checks=None, timeout=None):
    """``(ready, report)``: every check run in a thread of its own, all within ``timeout`` s."""
    checks = CHECKS if checks is None else checks
    timeout = settings.OTOORDER_READY_TIMEOUT if timeout is None else timeout
    results = {name: {} for name in checks}
    threads = {
        name: threading.Thread(target=_run, args=(check, results[name]), name=f"readyz-{name}", daemon=True)
        for name, check in checks.items()
    }
    started = time.monotonic()
    for thread in threads.values():
        thread.start()
    report = {}
    for name, thread in threads.items():
        thread.join(max(0.0, timeout - (time.monotonic() - started)))
        result = dict(results[name])
        if thread.is_alive() or "latency_ms" not in result:
            # Still waiting: a hanging dependency is a dependency that is down.
            report[name] = {"state": "down", "latency_ms": round(timeout * 1000, 1), "error": "timeout"}
        elif "error" in result:
            report[name] = {"state": "down", **result}
        else:
            report[name] = {"state": "up", **result}
    ready = all(entry["state"] == "up" for entry in report.values())
    return ready, report


def _no_store(response):
    response["Cache-Control"] = "no-store"
    return response


def healthz(request):
    return _no_store(JsonResponse({"status": "ok"}))


def readyz(request):
    ready, report = readiness()
    body = {"status": "ok" if ready else "unavailable", "checks": report}
    return _no_store(JsonResponse(body, status=200 if ready else 503))


class HealthMiddleware:
    """Answers ``GET``/``HEAD`` of ``/healthz`` and ``/readyz`` before any other middleware."""

    VIEWS = {LIVE_PATH: healthz, READY_PATH: readyz}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        view = self.VIEWS.get(request.path_info.rstrip("/") or "/")
        if view is None:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            response = JsonResponse({"status": "method_not_allowed"}, status=405)
            response["Allow"] = "GET, HEAD"
            return response
        return view(request)
