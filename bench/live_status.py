#!/usr/bin/env python
"""The cost of the live status (otoorder/orders/live.py): rate of the status check and the
server's CPU with a hundred open order pages.

    .venv/bin/python bench/live_status.py            # default sizes, ~2 minutes
    .venv/bin/python bench/live_status.py --help

gunicorn (``otoorder.wsgi``, ``DEBUG=false``) on a free port of 127.0.0.1 against a PostgreSQL
database of its own (``otoorder_bench_live``, dropped and recreated; same server and user as
``DATABASE_URL`` or ``BENCH_DATABASE_URL``). Redis (``BENCH_REDIS_URL``, default db 14 on
127.0.0.1:6379) only takes the dispatch tasks of the orders made for the run; no worker runs.

(1) Rates: ``--clients`` threads, each with the session of a logged-in staff member, ask the
    order page's status check of open orders: with the version the page shows (**304**, the
    path of every poll while nothing changes), with a stale one (**200**, the page's content
    region rendered again: the path after a change), and the 304 of the order list and of the
    customer page; beside them the yardstick ``GET /api/v1/backends/`` (a static JSON list
    behind the same login) and the whole order page (what a reload by hand costs).
(2) Pollers: ``--pages`` open order pages (one thread each, each its own order) poll at the
    configured interval for ``--seconds``, as htmx does, while a lab reports a new status for
    ``--changes`` orders per second (``lab_updates.apply_status_update``). Measured from /proc:
    CPU seconds of the gunicorn processes and of their PostgreSQL backends per wall second.
bench/README.md explains the figures.
"""

import argparse
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import run  # bench/run.py: database, environment, subprocesses, load generator

REPO = run.REPO
VERSION = re.compile(r"[?&]amp;live=([0-9a-f]{20})|[?&]live=([0-9a-f]{20})")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="measured requests per check in (1)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients in (1)")
    parser.add_argument("--web-workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--pages", type=int, default=100, help="open order pages polling in (2)")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of (2)")
    parser.add_argument("--interval", type=float, help="seconds between two checks of a page (default: the setting)")
    parser.add_argument("--changes", type=float, default=1.0, help="lab reports per second in (2)")
    return parser.parse_args()


def database_url():
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        url = run.DEFAULT_DB_URL
    return urlunsplit(urlsplit(url)._replace(path="/otoorder_bench_live"))


# --- fixtures --------------------------------------------------------------------------------


def make_fixtures(pages):
    """A branch with one staff member, a customer per page, each with one order at the lab."""
    from django.test import Client

    from tests import factories as f
    from tests.lifecycle_fixtures import ordered_order

    chain = f.ChainFactory(name="Bench-Kette")
    branch = f.BranchFactory(chain=chain, name="Bench-Filiale", email="bench@hoerwelt.test")
    user = f.UserFactory(username="bench-staff")
    f.MembershipFactory(user=user, chain=chain, branch=branch)
    company = f.CompanyFactory(name="Bench-Labor")
    supplier = f.SupplierFactory(company=company, order_email="bestellung@bench-labor.test")
    template = f.TemplateFactory(name="Otoplastik", steps__company=company, steps__supplier=supplier)
    orders = []
    for _ in range(pages):
        txn = f.TransactionFactory(customer=f.CustomerFactory(branch=branch), template=template, started_by=user)
        orders.append(ordered_order(txn, supplier, user))
    client = Client()
    client.force_login(user)
    return {"orders": orders, "session": client.cookies["sessionid"].value}


# --- CPU from /proc ---------------------------------------------------------------------------


def cpu_seconds(pid):
    """utime + stime of a live process, in seconds (None once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def group_pids(pgid):
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(fields[2]) == pgid:
            pids.append(int(entry.name))
    return pids


class CpuMeter:
    """Samples the CPU time of the server's processes once a second: gunicorn's process group
    and the PostgreSQL backends connected to the bench database (not this process's own).
    A process that ends between two samples keeps what was last seen of it."""

    def __init__(self, web_pgid, own_backend):
        from django.db import connection

        self.web_pgid, self.own_backend, self.connection = web_pgid, own_backend, connection
        self.first, self.last = {}, {}
        self.stop_event = threading.Event()

    def _backends(self):
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid() AND pid <> %s",
                [self.own_backend],
            )
            return [row[0] for row in cursor.fetchall()]

    def sample(self):
        for kind, pids in (("web", group_pids(self.web_pgid)), ("db", self._backends())):
            for pid in pids:
                seconds = cpu_seconds(pid)
                if seconds is None:
                    continue
                self.first.setdefault((kind, pid), seconds)
                self.last[(kind, pid)] = seconds

    def start(self):
        self.sample()
        self.started = time.monotonic()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.stop_event.wait(1.0):
            self.sample()
        self.connection.close()  # this thread's own connection

    def stop(self):
        self.stop_event.set()
        self.thread.join()
        self.sample()
        wall = time.monotonic() - self.started
        used = {"web": 0.0, "db": 0.0}
        for key, last in self.last.items():
            used[key[0]] += last - self.first[key]
        return {"wall": wall, "web": used["web"], "db": used["db"]}


# --- (2) pollers -----------------------------------------------------------------------------


def version_of(text):
    match = VERSION.search(text)
    return (match.group(1) or match.group(2)) if match else None


def poll(base_url, session_key, order, interval, window, stats, lock):
    """One open order page: opened, then a check every ``interval`` seconds, as htmx does."""
    import requests

    session = requests.Session()
    session.cookies.set("sessionid", session_key, domain="127.0.0.1")
    url = f"{base_url}/bestellungen/{order.pk}/"
    version = version_of(session.get(url, timeout=30).text)
    own = {"304": 0, "200": 0, "other": 0, "latency": []}
    window["opened"].wait()
    window["go"].wait()
    until = window["until"]
    next_at = time.monotonic() + random.uniform(0, interval)  # pages were opened at different times
    while True:
        pause = next_at - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        if time.monotonic() >= until:
            break
        started = time.perf_counter()
        response = session.get(url, params={"live": version}, timeout=30)
        own["latency"].append(time.perf_counter() - started)
        if response.status_code == 304:
            own["304"] += 1
        elif response.status_code == 200:
            own["200"] += 1
            version = version_of(response.text) or version
        else:
            own["other"] += 1
        next_at += interval
    with lock:
        for key in ("304", "200", "other"):
            stats[key] += own[key]
        stats["latency"].extend(own["latency"])


def lab(orders, per_second, until):
    """Reports the next status of a random order every 1/per_second seconds."""
    from django.db import close_old_connections

    from otoorder.backends.labstatus import StatusUpdate
    from otoorder.orders.lab_updates import apply_status_update

    following = {"ordered": "confirmed", "confirmed": "in_production", "in_production": "shipped"}
    reports = 0
    next_at = time.monotonic()
    while per_second > 0 and time.monotonic() < until:
        order = random.choice(orders)
        order.refresh_from_db(fields=["status"])
        target = following.get(order.status)
        if target:
            apply_status_update(order, StatusUpdate(status=target, external_status=target))
            reports += 1
        next_at += 1 / per_second
        pause = next_at - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    close_old_connections()
    return reports


def bench_pollers(args, fixtures, base_url, web, interval):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        own_backend = cursor.fetchone()[0]
    stats = {"304": 0, "200": 0, "other": 0, "latency": []}
    lock = threading.Lock()
    # Every page opens (one full page each) before the measurement starts.
    window = {"opened": threading.Barrier(args.pages + 1), "go": threading.Event()}
    threads = [
        threading.Thread(target=poll, args=(base_url, fixtures["session"], order, interval, window, stats, lock), daemon=True)
        for order in fixtures["orders"][: args.pages]
    ]
    for thread in threads:
        thread.start()
    window["opened"].wait()
    meter = CpuMeter(web.popen.pid, own_backend)
    meter.start()
    window["until"] = until = time.monotonic() + args.seconds
    window["go"].set()
    reports = lab(fixtures["orders"][: args.pages], args.changes, until)
    time.sleep(max(0.0, until - time.monotonic()))
    cpu = meter.stop()
    for thread in threads:
        thread.join()
    latencies = sorted(stats["latency"])
    return {
        **cpu,
        "checks": stats["304"] + stats["200"] + stats["other"],
        "304": stats["304"],
        "200": stats["200"],
        "other": stats["other"],
        "reports": reports,
        "p50_ms": latencies[len(latencies) // 2] * 1000 if latencies else 0.0,
        "p95_ms": latencies[int(len(latencies) * 0.95)] * 1000 if latencies else 0.0,
    }


# --- (1) rates -------------------------------------------------------------------------------


def bench_rates(args, fixtures, base_url):
    import requests

    orders = fixtures["orders"]
    cookies = {"sessionid": fixtures["session"]}
    probe = requests.Session()
    probe.cookies.update(cookies)
    versions = {order.pk: version_of(probe.get(f"{base_url}/bestellungen/{order.pk}/", timeout=30).text) for order in orders}
    list_version = version_of(probe.get(f"{base_url}/bestellungen/", timeout=30).text)
    customer = orders[0].customer_id
    customer_version = version_of(probe.get(f"{base_url}/kunden/{customer}/", timeout=30).text)
    assert all(versions.values()) and list_version and customer_version, "a page without live status"

    def order_check(stale):
        def request(session, index):
            session.cookies.update(cookies)
            order = orders[random.randrange(len(orders))]
            version = "0" if stale else versions[order.pk]
            return session.get(f"{base_url}/bestellungen/{order.pk}/", params={"live": version}, timeout=30)

        return request

    def list_check(session, _index):
        session.cookies.update(cookies)
        return session.get(f"{base_url}/bestellungen/", params={"page": 1, "live": list_version}, timeout=30)

    def customer_check(session, _index):
        session.cookies.update(cookies)
        return session.get(f"{base_url}/kunden/{customer}/", params={"live": customer_version}, timeout=30)

    def order_page(session, _index):
        session.cookies.update(cookies)
        order = orders[random.randrange(len(orders))]
        return session.get(f"{base_url}/bestellungen/{order.pk}/", timeout=30)

    def trivial(session, _index):
        session.cookies.update(cookies)
        return session.get(f"{base_url}/api/v1/backends/", timeout=30)

    return {
        "trivial": run.load(base_url, args.clients, args.requests, trivial, 200),
        "page": run.load(base_url, args.clients, args.requests, order_page, 200),
        "order_304": run.load(base_url, args.clients, args.requests, order_check(stale=False), 304),
        "order_200": run.load(base_url, args.clients, args.requests, order_check(stale=True), 200),
        "list_304": run.load(base_url, args.clients, args.requests, list_check, 304),
        "customer_304": run.load(base_url, args.clients, args.requests, customer_check, 304),
    }


# --- report ----------------------------------------------------------------------------------


def report(args, interval, rates, pollers):
    print()
    print(f"otoorder live status · {os.cpu_count()} cores · gunicorn {args.web_workers} sync workers · PostgreSQL on 127.0.0.1")
    print(f"\n(1) status checks: {args.clients} concurrent clients, {args.requests} measured requests per line")
    labels = (
        ("yardstick: GET /api/v1/backends/", "trivial"),
        ("order page reloaded (whole page)", "page"),
        ("order page, unchanged → 304", "order_304"),
        ("order page, changed → 200 region", "order_200"),
        ("order list, unchanged → 304", "list_304"),
        ("customer page, unchanged → 304", "customer_304"),
    )
    for label, key in labels:
        r = rates[key]
        print(f"    {label:34s} {r['rate']:8.1f} /s   p50 {r['p50_ms']:6.1f} ms   p95 {r['p95_ms']:6.1f} ms"
              f"   ({r['failed']} failed)")
        if r["failed"]:
            print(f"      first failure: {' '.join(r['first_failure'].split())[:200]}")
    p = pollers
    busy = (p["web"] + p["db"]) / p["wall"]
    print(f"\n(2) {args.pages} open order pages, a check every {interval:g} s each, {args.changes:g} lab report(s)/s,"
          f" {p['wall']:.0f} s")
    print(f"    checks answered                    {p['checks']:8d}   ({p['304']} × 304, {p['200']} × 200, {p['other']} other;"
          f" {p['checks'] / p['wall']:.1f} /s)   lab reports {p['reports']}")
    print(f"    latency                            p50 {p['p50_ms']:6.1f} ms   p95 {p['p95_ms']:6.1f} ms")
    print(f"    server CPU per check               {(p['web'] + p['db']) / max(p['checks'], 1) * 1000:8.1f} ms")
    print(f"    server CPU: gunicorn               {p['web'] / p['wall']:8.3f} CPU-s per s")
    print(f"                PostgreSQL backends    {p['db'] / p['wall']:8.3f} CPU-s per s")
    print(f"                together               {busy:8.3f} CPU-s per s   ({busy / os.cpu_count() * 100:.1f} % of {os.cpu_count()} cores)")
    print()


def main():
    signal.signal(signal.SIGTERM, run._exit_on_sigterm)
    args = parse_args()
    db_url = database_url()
    run.recreate_database(db_url)
    log_dir = REPO / "var" / "bench-live"
    shutil.rmtree(log_dir, ignore_errors=True)
    log_dir.mkdir(parents=True)
    redis_url = os.environ.get("BENCH_REDIS_URL", run.REDIS_URL)
    with tempfile.TemporaryDirectory(prefix="otoorder-bench-live-") as tmp:
        run.configure_environment(db_url, Path(tmp))
        # Persistent connections for the whole run, so that every backend's CPU is seen.
        os.environ.update({"CELERY_BROKER_URL": redis_url, "CONN_MAX_AGE": "3600"})
        if args.interval:
            os.environ["OTOORDER_LIVE_INTERVAL"] = str(args.interval)
        run.setup_django()
        from django.conf import settings

        interval = settings.OTOORDER_LIVE["INTERVAL"]
        import redis

        redis_client = redis.Redis.from_url(redis_url)
        fixtures = make_fixtures(max(args.pages, 1))
        web, base_url = run.start_web(args, log_dir)
        try:
            rates = bench_rates(args, fixtures, base_url)
            pollers = bench_pollers(args, fixtures, base_url, web, interval)
        finally:
            web.stop()
            redis_client.flushdb()
        report(args, interval, rates, pollers)


if __name__ == "__main__":
    main()
