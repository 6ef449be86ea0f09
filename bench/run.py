#!/usr/bin/env python
"""otoorder's first benchmark: dispatch throughput and API submission, each beside a yardstick.

    .venv/bin/python bench/run.py            # both parts, default sizes
    .venv/bin/python bench/run.py --help

Everything runs on 127.0.0.1: a PostgreSQL database of its own (``otoorder_bench``, dropped
and recreated), Redis db 14 as the broker, Celery workers and gunicorn as subprocesses and an
aiosmtpd sink as the lab. bench/README.md explains the figures.
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
BIN = REPO / ".venv" / "bin"
sys.path.insert(0, str(REPO))

DEFAULT_DB_URL = "postgres://postgres@127.0.0.1:5432/otoorder_bench"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
DISPATCH_TASK = "otoorder.orders.tasks.dispatch_order"
NOOP_TASK = "otoorder.noop"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1000, help="orders dispatched in part (a)")
    parser.add_argument("--noops", type=int, default=1000, help="no-op tasks of the yardstick in part (a)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes in part (a)")
    parser.add_argument("--requests", type=int, default=800, help="measured requests per endpoint in part (b)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent API clients in part (b)")
    parser.add_argument("--web-workers", type=int, default=4, help="gunicorn worker processes in part (b)")
    parser.add_argument("--page-orders", type=int, default=100_000, help="orders in the database of part (c)")
    parser.add_argument("--branches", type=int, default=50, help="branches of the chain in part (c)")
    parser.add_argument("--customers", type=int, default=20_000, help="customers in part (c)")
    parser.add_argument("--page-requests", type=int, default=400, help="measured requests per page in part (c)")
    parser.add_argument("--http-orders", type=int, default=1000, help="orders dispatched to the HTTP lab in part (a)")
    parser.add_argument("--memory-orders", type=int, default=10_000, help="orders of the worker memory figure")
    parser.add_argument(
        "--only", choices=["dispatch", "submission", "pages", "memory", "coldstart"], help="run one part only"
    )
    parser.add_argument("--timeout", type=float, default=600, help="limit of each measured phase (s)")
    return parser.parse_args()


# --- set-up: database, environment, Django -----------------------------------------------------


def bench_database_url():
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        return url
    base = os.environ.get("DATABASE_URL", "")
    if base.startswith("postgres"):
        parts = urlsplit(base)
        return urlunsplit(parts._replace(path="/otoorder_bench"))
    return DEFAULT_DB_URL


def recreate_database(url):
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def configure_environment(db_url, var_dir):
    """The environment of this process and of every subprocess it starts."""
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "otoorder.settings",
            "DJANGO_ENV": "development",
            "DEBUG": "false",
            "DATABASE_URL": db_url,
            "CELERY_BROKER_URL": REDIS_URL,
            "BENCH_PROBE_REDIS_URL": REDIS_URL,
            "OTOORDER_VAR_DIR": str(var_dir),
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": os.pathsep.join([str(REPO / "bench"), str(REPO)]),
        }
    )


def setup_django():
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def make_fixtures(clients):
    """One chain, branch, staff user, e-mail lab with our account number, customers, transactions."""
    from rest_framework.authtoken.models import Token

    from tests import factories as f

    chain = f.ChainFactory(name="Bench-Kette")
    branch = f.BranchFactory(chain=chain, name="Bench-Filiale", email="bench@hoerwelt.test")
    user = f.UserFactory(username="bench-staff")
    f.MembershipFactory(user=user, chain=chain, branch=branch)
    company = f.CompanyFactory(name="Bench-Labor")
    supplier = f.SupplierFactory(company=company, order_email="bestellung@bench-labor.test")
    f.SupplierAccountFactory(branch=branch, supplier=supplier, account_number="K-4711")
    template = f.TemplateFactory(name="Otoplastik", steps__company=company, steps__supplier=supplier)
    transactions = [
        f.TransactionFactory(customer=f.CustomerFactory(branch=branch), template=template, started_by=user)
        for _ in range(clients)
    ]
    token = Token.objects.get_or_create(user=user)[0].key
    # The HTTP lab: Dreve SmartOrder (JSON over HTTP) against a loopback server (part (a)).
    http_company = f.CompanyFactory(name="Bench-HTTP-Labor")
    http_supplier = f.SupplierFactory(company=http_company, order_email="")
    f.SupplierAccountFactory(branch=branch, supplier=http_supplier, account_number="K-0815")
    definition = f.InterfaceDefinitionFactory(
        chain=chain, backend="dreve_smartorder", supplier=http_supplier, companies=[http_company],
        options={"endpoint_url": "http://127.0.0.1:9/api/v1"}, secrets={"api_key": "bench-key"},
    )  # fmt: skip
    return {
        "user": user, "supplier": supplier, "transactions": transactions, "token": token,
        "http_supplier": http_supplier, "http_definition": definition,
    }  # fmt: skip


def items():
    from tests.factories import bte_item, ric_item

    return [bte_item("right"), ric_item("left")]


# --- subprocesses -------------------------------------------------------------------------------


class Process:
    """A subprocess in its own process group, logging to a file; stopped as a group."""

    def __init__(self, name, args, log_dir, env=None):
        self.name, self.args, self.log_path = name, args, Path(log_dir) / f"{name}.log"
        self.env = {**os.environ, **(env or {})}
        self.popen = None

    def start(self):
        self._log = open(self.log_path, "ab")
        self.popen = subprocess.Popen(
            self.args, cwd=REPO, env=self.env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        return self

    def alive_or_raise(self):
        if self.popen.poll() is not None:
            tail = self.log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{self.name} exited with {self.popen.returncode}:\n{tail}")

    def stop(self):
        if self.popen is None or self.popen.poll() is not None and not self._group_alive():
            return
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.popen.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.popen.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)  # pool children that outlived their parent
        except ProcessLookupError:
            pass
        self._log.close()

    def _group_alive(self):
        try:
            os.killpg(self.popen.pid, 0)
        except ProcessLookupError:
            return False
        return True


def wait_until(predicate, timeout, what, processes=()):
    deadline = time.monotonic() + timeout
    while not predicate():
        for process in processes:
            process.alive_or_raise()
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


def start_workers(count, log_dir, email_url):
    workers = []
    for index in range(count):
        args = [
            sys.executable, "-m", "celery", "-A", "otoorder", "worker", "-l", "info", "--pool", "prefork",
            "--concurrency", "1", "-n", f"bench{index}@%h",
            "--without-gossip", "--without-mingle", "-I", "bench_probe",
        ]  # fmt: skip
        workers.append(Process(f"worker{index}", args, log_dir, env={"EMAIL_URL": email_url}).start())
    for worker in workers:
        wait_until(lambda w=worker: b" ready." in w.log_path.read_bytes(), 60, f"{worker.name} ready", [worker])
    return workers


# --- (a) dispatch -------------------------------------------------------------------------------


class SinkHandler:
    """The loopback lab: accepts every message and counts it."""

    def __init__(self):
        self.count = 0
        self.message_ids = set()

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        for line in envelope.content.split(b"\r\n"):
            if line.lower().startswith(b"message-id:"):
                self.message_ids.add(line.split(b":", 1)[1].strip())
                break
            if not line:
                break
        return "250 2.0.0 OK"


def free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def probe(redis_client, task):
    first = redis_client.get(f"bench:first:{task}")
    last = redis_client.get(f"bench:last:{task}")
    done = int(redis_client.get(f"bench:done:{task}") or 0)
    return done, (float(first) if first else None), (float(last) if last else None)


def run_phase(redis_client, task, expected, workers_count, log_dir, email_url, timeout):
    """Start the workers on a pre-filled queue; rate = tasks / (first start → last finish)."""
    workers = start_workers(workers_count, log_dir, email_url)
    try:
        wait_until(lambda: probe(redis_client, task)[0] >= expected, timeout, f"{expected} {task}", workers)
    finally:
        for worker in workers:
            worker.stop()
    done, first, last = probe(redis_client, task)
    return {"tasks": done, "seconds": last - first, "rate": done / (last - first)}


def bench_dispatch(args, fixtures, redis_client, log_dir):
    from aiosmtpd.controller import Controller

    from otoorder.celery import noop
    from otoorder.orders.choices import OrderStatus
    from otoorder.orders.models import Attempt, EarmouldOrder
    from otoorder.orders.services import place_order

    handler = SinkHandler()
    port = free_port()
    sink = Controller(handler, hostname="127.0.0.1", port=port)
    sink.start()
    email_url = f"smtp://127.0.0.1:{port}"
    try:
        # The yardstick: the broker's and worker's own cost per task.
        redis_client.flushdb()
        for _ in range(args.noops):
            noop.delay()
        noops = run_phase(redis_client, NOOP_TASK, args.noops, args.workers, log_dir, email_url, args.timeout)

        # Orders: stored and published (queued) first, then the workers start on them.
        redis_client.flushdb()
        started = time.monotonic()
        txn, supplier, user = fixtures["transactions"][0], fixtures["supplier"], fixtures["user"]
        for _ in range(args.orders):
            place_order(transaction_obj=txn, company=supplier.company, supplier=supplier, items=items(), user=user)
        queue_seconds = time.monotonic() - started
        orders = run_phase(redis_client, DISPATCH_TASK, args.orders, args.workers, log_dir, email_url, args.timeout)
        ordered = EarmouldOrder.objects.filter(supplier=supplier, status=OrderStatus.ORDERED).count()
        attempts = Attempt.objects.filter(order__supplier=supplier).count()

        # The same through an HTTP lab: Dreve SmartOrder against the loopback lab.
        http = None
        if args.http_orders:
            http = bench_http_dispatch(args, fixtures, redis_client, log_dir, email_url)
        statements = send_statements(fixtures)
    finally:
        sink.stop()

    return {
        "orders": orders,
        "noops": noops,
        "ratio": orders["rate"] / noops["rate"],
        "http": http,
        "http_ratio": http["orders"]["rate"] / noops["rate"] if http else None,
        "statements": statements,
        "queue_seconds": queue_seconds,
        "ordered": ordered,
        "attempts": attempts,
        "mails": handler.count,
        "distinct_mails": len(handler.message_ids),
    }


def bench_http_dispatch(args, fixtures, redis_client, log_dir, email_url):
    """Orders to the HTTP lab (``dreve_smartorder``), measured as the standard process is."""
    from otoorder.orders.choices import OrderStatus
    from otoorder.orders.models import EarmouldOrder
    from otoorder.orders.services import place_order
    from tests.labs.http_lab import HttpLab, Reply

    lab = HttpLab().start()
    try:
        lab.script(Reply.json({"order_number": "D-1", "status": "received"}, status=201), repeat=True)
        definition = fixtures["http_definition"]
        definition.options = {**definition.options, "endpoint_url": f"{lab.url}/api/v1"}
        definition.save(update_fields=["options"])
        redis_client.flushdb()
        txn, supplier, user = fixtures["transactions"][0], fixtures["http_supplier"], fixtures["user"]
        for _ in range(args.http_orders):
            place_order(transaction_obj=txn, company=supplier.company, supplier=supplier, items=items(), user=user)
        orders = run_phase(redis_client, DISPATCH_TASK, args.http_orders, args.workers, log_dir, email_url, args.timeout)
    finally:
        lab.stop()
    done = EarmouldOrder.objects.filter(supplier=supplier, status__in=[OrderStatus.ORDERED, OrderStatus.CONFIRMED]).count()
    return {"orders": orders, "done": done}


def send_statements(fixtures):
    """SQL statements of one send, counted in this process (the workers run the same code):
    the standard process (mail to Django's in-memory backend) and the HTTP lab."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, override_settings

    from otoorder.orders import dispatch
    from otoorder.orders.services import place_order
    from tests.labs.http_lab import HttpLab, Reply

    control = {"SAVEPOINT", "RELEASE", "BEGIN", "COMMIT"}
    txn, user = fixtures["transactions"][0], fixtures["user"]
    counts = {}
    lab = HttpLab().start()
    try:
        lab.script(Reply.json({"order_number": "D-1", "status": "received"}, status=201), repeat=True)
        definition = fixtures["http_definition"]
        definition.options = {**definition.options, "endpoint_url": f"{lab.url}/api/v1"}
        definition.save(update_fields=["options"])
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            for name, supplier in (("standard", fixtures["supplier"]), ("http", fixtures["http_supplier"])):
                order = place_order(transaction_obj=txn, company=supplier.company, supplier=supplier, items=items(), user=user)
                with CaptureQueriesContext(connection) as captured:
                    dispatch.run(order.dispatch.pk)
                counts[name] = sum(1 for q in captured.captured_queries if q["sql"].split(None, 1)[0].upper() not in control)
    finally:
        lab.stop()
    return counts


# --- (b) submission -----------------------------------------------------------------------------


def start_web(args, log_dir):
    port = free_port()
    web = Process(
        "gunicorn",
        [str(BIN / "gunicorn"), "otoorder.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(args.web_workers)],
        log_dir,
    ).start()
    import requests

    def up():
        try:
            return requests.get(f"http://127.0.0.1:{port}/login/", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    wait_until(up, 60, "gunicorn to answer", [web])
    return web, f"http://127.0.0.1:{port}"


def load(base_url, clients, total, make_request, expected_status):
    """``clients`` threads share ``total`` requests; returns rate and latency percentiles (ms)."""
    import requests

    per_client = total // clients
    latencies, failures = [], []
    barrier = threading.Barrier(clients + 1)
    lock = threading.Lock()

    def client(index):
        session = requests.Session()
        own, bad = [], []
        make_request(session, index)  # warm-up: connection, first-request imports
        barrier.wait()
        for _ in range(per_client):
            started = time.perf_counter()
            response = make_request(session, index)
            own.append(time.perf_counter() - started)
            if response.status_code != expected_status:
                bad.append(f"{response.status_code}: {response.text[:300]}")
        with lock:
            latencies.extend(own)
            failures.extend(bad)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    quantiles = statistics.quantiles(latencies, n=100)
    succeeded = len(latencies) - len(failures)
    return {
        "requests": len(latencies),
        "failed": len(failures),
        "first_failure": failures[0] if failures else "",
        "seconds": seconds,
        # Only answers with the expected status count towards the rate.
        "rate": succeeded / seconds,
        "p50_ms": quantiles[49] * 1000,
        "p95_ms": quantiles[94] * 1000,
    }


def bench_submission(args, fixtures, log_dir):
    web, base_url = start_web(args, log_dir)
    headers = {"Authorization": f"Token {fixtures['token']}"}
    supplier = fixtures["supplier"]
    transactions = [str(txn.pk) for txn in fixtures["transactions"]]
    body = {"company": str(supplier.company_id), "supplier": str(supplier.pk), "items": items()}

    def post_order(session, index):
        payload = {**body, "transaction": transactions[index % len(transactions)]}
        return session.post(f"{base_url}/api/v1/orders/", json=payload, headers=headers, timeout=30)

    def get_backends(session, _index):
        return session.get(f"{base_url}/api/v1/backends/", headers=headers, timeout=30)

    try:
        trivial = load(base_url, args.clients, args.requests, get_backends, 200)
        orders = load(base_url, args.clients, args.requests, post_order, 201)
    finally:
        web.stop()
    return {"orders": orders, "trivial": trivial, "ratio": orders["rate"] / trivial["rate"]}


# --- report -------------------------------------------------------------------------------------


def report(args, results):
    print()
    print(f"otoorder benchmark · {os.cpu_count()} cores · PostgreSQL + Redis on 127.0.0.1")
    if "dispatch" in results:
        d = results["dispatch"]
        print(f"\n(a) dispatch: {args.workers} worker processes (prefork, concurrency 1 each), Redis broker")
        print(f"    orders → ordered (e-mail + PDF to loopback SMTP)  {d['orders']['rate']:8.1f} /s"
              f"   ({d['orders']['tasks']} in {d['orders']['seconds']:.2f} s)")
        print(f"    no-op tasks (otoorder.noop)                        {d['noops']['rate']:8.1f} /s"
              f"   ({d['noops']['tasks']} in {d['noops']['seconds']:.2f} s)")
        verdict = "meets" if d["ratio"] >= 0.2 else "BELOW"
        print(f"    ratio orders/no-op                                 {d['ratio']:8.3f}    ({verdict} target 0.2)")
        print(f"    check: {d['ordered']} ordered, {d['attempts']} attempts, {d['mails']} mails "
              f"({d['distinct_mails']} distinct Message-IDs); queueing took {d['queue_seconds']:.1f} s (not timed above)")
        if d["http"]:
            h = d["http"]
            verdict = "meets" if d["http_ratio"] >= 0.3 else "BELOW"
            print(f"    orders → HTTP lab (Dreve SmartOrder, loopback) {h['orders']['rate']:8.1f} /s"
                  f"   ({h['orders']['tasks']} in {h['orders']['seconds']:.2f} s; {h['done']} ordered)")
            print(f"    ratio HTTP orders/no-op                            {d['http_ratio']:8.3f}    ({verdict} target 0.3)")
        print(f"    SQL statements per send (BEGIN/COMMIT not counted): standard {d['statements']['standard']}, "
              f"HTTP lab {d['statements']['http']}")
    if "submission" in results:
        s = results["submission"]
        print(f"\n(b) submission: {args.clients} concurrent clients, gunicorn with {args.web_workers} sync workers, token auth")
        for label, key in (("POST /api/v1/orders/", "orders"), ("GET /api/v1/backends/ (trivial JSON)", "trivial")):
            r = s[key]
            print(f"    {label:38s} {r['rate']:8.1f} /s   p50 {r['p50_ms']:6.1f} ms   p95 {r['p95_ms']:6.1f} ms"
                  f"   ({r['requests']} requests, {r['failed']} failed)")
            if r["failed"]:
                print(f"      first failure: {' '.join(r['first_failure'].split())[:200]}")
        verdict = "meets" if s["ratio"] >= 0.25 and s["orders"]["p95_ms"] <= 50 else "BELOW"
        print(f"    ratio orders/trivial                   {s['ratio']:8.3f}   ({verdict} target 0.25 with p95 ≤ 50 ms)")
    if "pages" in results:
        p = results["pages"]
        t = p["trivial"]
        print(f"\n(c) pages at {p['orders']:,} orders ({args.branches} branches, {args.customers:,} customers; built in "
              f"{p['built_seconds']:.0f} s): {args.clients} clients, {args.page_requests} requests per page")
        print(f"    {'page':32s} {'rate':>8s} {'p50 ms':>8s} {'p95 ms':>8s} {'queries':>8s} {'ratio':>6s}  (target: ratio ≤ 3)")
        print(f"    {'trivial view (yardstick)':32s} {t['rate']:8.1f} {t['p50_ms']:8.1f} {t['p95_ms']:8.1f} {'':>8s} {'1.00':>6s}")
        for name, r in p["pages"].items():
            flag = "" if r["ratio"] <= 3 else "  ABOVE"
            print(f"    {name:32s} {r['rate']:8.1f} {r['p50_ms']:8.1f} {r['p95_ms']:8.1f} {r['queries']:8d} {r['ratio']:6.2f}{flag}"
                  + (f"   {r['failed']} failed: {r['first_failure'][:120]}" if r["failed"] else ""))
    if "memory" in results:
        m = results["memory"]
        if m.get("worker_rss_mb") is None:
            print(f"\n(d) worker memory: not measured ({m.get('note', '')})")
        else:
            print(f"\n(d) worker memory after {args.memory_orders:,} orders: {m['worker_rss_mb']:.1f} MB RSS (target ≤ 150)")
    if "coldstart" in results:
        c = results["coldstart"]
        print(f"\n(e) cold start: `make run` to the login page served in {c['seconds']:.1f} s (target ≤ 20 s)")
    print()


def summary(results):
    """The figures of issue 12 as JSON (``var/bench/summary.json``); a part not run is null."""
    d, s, p = results.get("dispatch"), results.get("submission"), results.get("pages")
    memory = results.get("memory") or {}
    return {
        "dispatch_ratio": d["ratio"] if d else None,
        "dispatch_http_ratio": d["http_ratio"] if d else None,
        "dispatch_statements": d["statements"] if d else None,
        "submission_ratio": s["ratio"] if s else None,
        "submission_p95_ms": s["orders"]["p95_ms"] if s else None,
        "pages": {
            name: {"p50_ms": r["p50_ms"], "p95_ms": r["p95_ms"], "ratio": r["ratio"], "queries": r["queries"]}
            for name, r in p["pages"].items()
        }
        if p
        else None,
        "trivial_p95_ms": p["trivial"]["p95_ms"] if p else None,
        "worker_rss_mb": memory.get("worker_rss_mb"),
        "worker_rss_note": memory.get("note"),
        "cold_start_s": results["coldstart"]["seconds"] if "coldstart" in results else None,
    }


def bench_memory(args):
    """A worker's RSS after ``--memory-orders`` orders, from bench/worker_memory.py where present."""
    # Its own process: it sets up Django on its own database, which this process already did on ours.
    with tempfile.TemporaryDirectory(prefix="otoorder-bench-memory-json-") as tmp:
        out = Path(tmp) / "memory.json"
        script = Path(__file__).with_name("worker_memory.py")
        done = subprocess.run([sys.executable, str(script), "--orders", str(args.memory_orders), "--json", str(out)])
        if done.returncode != 0 or not out.exists():
            return {"worker_rss_mb": None, "note": f"bench/worker_memory.py ended with {done.returncode}"}
        return json.loads(out.read_text(encoding="utf-8"))


def bench_cold_start(args, log_dir):
    """`make run` in a fresh var folder until the login page answers 200 (warm package caches)."""
    import requests

    with tempfile.TemporaryDirectory(prefix="otoorder-coldstart-") as var_dir:
        port, mail_port, sandbox_port = free_port(), free_port(), free_port()
        # The environment of a developer's shell: none of the bench's database, broker or settings.
        own = {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DEBUG", "CELERY_BROKER_URL", "BENCH_PROBE_REDIS_URL", "PYTHONPATH"}
        env = {k: v for k, v in os.environ.items() if k not in own}
        env.update(OTOORDER_VAR_DIR=var_dir)
        make = Process(
            "make-run",
            ["make", "run", f"PORT={port}", f"MAIL_PORT={mail_port}", f"SANDBOX_PORT={sandbox_port}"],
            log_dir,
        )
        make.env = env
        started = time.monotonic()
        make.start()
        try:

            def up():
                try:
                    return requests.get(f"http://127.0.0.1:{port}/login/", timeout=2).status_code == 200
                except requests.RequestException:
                    return False

            wait_until(up, 180, "`make run` to serve the login page", [make])
            seconds = time.monotonic() - started
        finally:
            make.stop()
    return {"seconds": seconds}


def _exit_on_sigterm(signum, frame):
    # `timeout` and CI stop us with SIGTERM: leave through the finally blocks, which stop the
    # workers and gunicorn, so that none of them keeps consuming the bench queue.
    raise SystemExit(128 + signum)


def main():
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    args = parse_args()
    db_url = bench_database_url()
    recreate_database(db_url)
    # Logs of the workers and gunicorn stay for inspection (var/ is not committed).
    log_dir = REPO / "var" / "bench"
    shutil.rmtree(log_dir, ignore_errors=True)
    log_dir.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="otoorder-bench-") as tmp:
        configure_environment(db_url, Path(tmp))
        setup_django()
        import redis

        redis_client = redis.Redis.from_url(REDIS_URL)
        redis_client.flushdb()
        fixtures = make_fixtures(args.clients)
        results = {}
        try:
            if args.only in (None, "dispatch"):
                results["dispatch"] = bench_dispatch(args, fixtures, redis_client, log_dir)
            if args.only in (None, "submission"):
                results["submission"] = bench_submission(args, fixtures, log_dir)
            if args.only in (None, "pages"):
                import pages

                results["pages"] = pages.bench_pages(args, log_dir, load, start_web)
            if args.only in (None, "memory"):
                results["memory"] = bench_memory(args)
            if args.only in (None, "coldstart"):
                results["coldstart"] = bench_cold_start(args, log_dir)
        finally:
            redis_client.flushdb()
        report(args, results)
        path = log_dir / "summary.json"
        path.write_text(json.dumps(summary(results), indent=2) + "\n")
        print(f"summary: {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()
