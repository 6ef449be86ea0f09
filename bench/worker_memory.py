#!/usr/bin/env python
"""The worker's memory over a long run: 10,000 orders through a real Celery worker.

    .venv/bin/python bench/worker_memory.py                 # 10,000 orders, ~10 minutes on 2 cores
    .venv/bin/python bench/worker_memory.py --orders 2000   # shorter

A worker as the Procfile starts it (prefork, ``--concurrency 2``, the project's settings, so
``CELERY_WORKER_MAX_MEMORY_PER_CHILD`` from ``OTOORDER_WORKER_MAX_MEMORY_MB``, default 200 MB)
sends every order through the standard process (PDF order form, SMTP to an aiosmtpd sink on
127.0.0.1) while this process places them (``place_order``). The resident memory (RSS) of the
worker's process tree (main process and pool children, read with psutil) is printed when the
worker is ready, after the first 100 orders (everything imported, caches warm), at its peak and
after the last order; pool children that were replaced are counted.

Own database ``otoorder_bench_memory`` (dropped and recreated, same server as ``DATABASE_URL``
or ``BENCH_DATABASE_URL``) and Redis ``BENCH_MEMORY_REDIS_URL`` (default db 13 on
127.0.0.1:6379, flushed before and after). ``measure()`` is what ``bench/run.py --only memory``
calls (its own process: it sets Django up on its database). bench/README.md has the last figures.
"""

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO))

import run as bench  # noqa: E402 - bench/run.py: database, environment, processes, fixtures, sink

REDIS_URL = os.environ.get("BENCH_MEMORY_REDIS_URL", "redis://127.0.0.1:6379/13")
WARM_ORDERS = 100
MB = 1024 * 1024


def database_url():
    url = bench.bench_database_url()
    return urlunsplit(urlsplit(url)._replace(path="/otoorder_bench_memory"))


class TreeMemory:
    """RSS of a process and its descendants, sampled once a second in a thread (peak kept)."""

    def __init__(self, pid):
        import psutil

        self.root = psutil.Process(pid)
        self.peak = 0.0
        self.children_seen = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def processes(self):
        import psutil

        try:
            return [self.root, *self.root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def rss_mb(self):
        import psutil

        total = 0
        for process in self.processes():
            try:
                total += process.memory_info().rss
            except psutil.NoSuchProcess:
                continue
            if process.pid != self.root.pid:
                self.children_seen.add(process.pid)
        return total / MB

    def _sample(self):
        while not self._stop.wait(1.0):
            self.peak = max(self.peak, self.rss_mb())

    def start(self):
        self.peak = self.rss_mb()
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join()


def send_and_measure(orders, concurrency, timeout):
    """Send ``orders`` through one worker (Django set up on the bench database)."""
    from aiosmtpd.controller import Controller

    from otoorder.orders.choices import OrderStatus
    from otoorder.orders.models import EarmouldOrder
    from otoorder.orders.services import place_order

    fixtures = bench.make_fixtures(1)
    txn, supplier, user = fixtures["transactions"][0], fixtures["supplier"], fixtures["user"]
    handler = bench.SinkHandler()
    port = bench.free_port()
    sink = Controller(handler, hostname="127.0.0.1", port=port)
    sink.start()
    log_dir = REPO / "var" / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    args = [
        sys.executable, "-m", "celery", "-A", "otoorder", "worker", "-l", "warning", "--pool", "prefork",
        "--concurrency", str(concurrency), "-Q", "celery", "-n", "memory@%h", "--without-gossip", "--without-mingle",
    ]  # fmt: skip
    worker = bench.Process("worker-memory", args, log_dir, env={"EMAIL_URL": f"smtp://127.0.0.1:{port}"})
    worker.log_path.unlink(missing_ok=True)
    worker.start()
    import psutil

    def ready():
        # -l warning prints no banner: ready once the pool children exist and the main process idles.
        return len(psutil.Process(worker.popen.pid).children()) >= concurrency

    def ordered():
        return EarmouldOrder.objects.filter(status=OrderStatus.ORDERED).count()

    try:
        bench.wait_until(ready, 60, "the worker's pool", [worker])
        time.sleep(2)  # let the children finish importing before the first figure
        memory = TreeMemory(worker.popen.pid).start()
        before = memory.rss_mb()
        first_children = {p.pid for p in memory.processes()[1:]}
        started = time.monotonic()
        warm = None
        for number in range(1, orders + 1):
            place_order(transaction_obj=txn, company=supplier.company, supplier=supplier, items=bench.items(), user=user)
            if number == WARM_ORDERS:
                bench.wait_until(lambda: ordered() >= WARM_ORDERS, timeout, f"{WARM_ORDERS} orders sent", [worker])
                warm = memory.rss_mb()
        bench.wait_until(lambda: ordered() >= orders, timeout, f"{orders} orders sent", [worker])
        seconds = time.monotonic() - started
        time.sleep(1.5)  # a last sample after the last task
        after = memory.rss_mb()
        memory.stop()
        last_children = {p.pid for p in memory.processes()[1:]}
        replaced = len(memory.children_seen - last_children) if memory.children_seen else 0
        per_process = {p.pid: round(p.memory_info().rss / MB, 1) for p in memory.processes()}
    finally:
        worker.stop()
        sink.stop()
    return {
        "orders": orders,
        "concurrency": concurrency,
        "seconds": seconds,
        "rate": orders / seconds,
        "worker_rss_mb_ready": before,
        "worker_rss_mb_warm": warm if warm is not None else before,
        "worker_rss_mb_peak": max(memory.peak, after),
        "worker_rss_mb": after,
        "per_process_mb": per_process,
        "children_replaced": replaced,
        "children_at_start": len(first_children),
        "mails": handler.count,
        "max_memory_per_child_kb": _max_memory_setting(),
    }


def _max_memory_setting():
    from django.conf import settings

    return settings.CELERY_WORKER_MAX_MEMORY_PER_CHILD


def report(result):
    limit = result["max_memory_per_child_kb"]
    lines = [
        ("max memory per child", f"{limit / 1024:.0f} MB" if limit else "off"),
        (
            "orders sent (e-mail + PDF)",
            f"{result['orders']:,} in {result['seconds']:.0f} s ({result['rate']:.1f} /s), {result['mails']:,} mails",
        ),
        ("worker RSS (main + children), ready", f"{result['worker_rss_mb_ready']:.1f} MB"),
        (f"after the first {WARM_ORDERS} orders", f"{result['worker_rss_mb_warm']:.1f} MB"),
        ("peak (sampled each second)", f"{result['worker_rss_mb_peak']:.1f} MB"),
        (
            f"after {result['orders']:,} orders",
            f"{result['worker_rss_mb']:.1f} MB   per process: "
            + ", ".join(f"{mb} MB" for mb in result["per_process_mb"].values()),
        ),
        ("pool children replaced", str(result["children_replaced"])),
    ]
    print()
    print(f"otoorder worker memory · {os.cpu_count()} cores · one worker, prefork --concurrency {result['concurrency']}")
    for label, value in lines:
        print(f"    {label:38s} {value}")
    print()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=10000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--json", help="also write the figures to this file (bench/run.py reads them)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, bench._exit_on_sigterm)
    result = measure(args.orders, args.concurrency, args.timeout)
    report(result)
    if args.json:
        Path(args.json).write_text(json.dumps(result, default=str), encoding="utf-8")


def measure(orders=10000, concurrency=2, timeout=3600.0):
    """Own database and broker, one worker, ``orders`` sent; the RSS figures in MB
    (``worker_rss_mb``: after the last order). Call it before Django is set up."""
    db_url = database_url()
    bench.recreate_database(db_url)
    with tempfile.TemporaryDirectory(prefix="otoorder-bench-memory-") as tmp:
        bench.configure_environment(db_url, Path(tmp))
        os.environ.update({"CELERY_BROKER_URL": REDIS_URL, "BENCH_PROBE_REDIS_URL": REDIS_URL})
        bench.setup_django()
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        client.flushdb()
        try:
            return send_and_measure(orders, concurrency, timeout)
        finally:
            client.flushdb()
            shutil.rmtree(Path(tmp), ignore_errors=True)


if __name__ == "__main__":
    main()
