#!/usr/bin/env python
"""The lab scorecards (otoorder/orders/scorecard.py) at 100,000 orders.

    .venv/bin/python bench/scorecard.py              # 100,000 orders, ~1-2 minutes to build
    .venv/bin/python bench/scorecard.py --orders 20000

A PostgreSQL database of its own (``otoorder_bench_scorecard``, dropped and recreated; same
server and user as ``DATABASE_URL`` or ``BENCH_DATABASE_URL``). The orders are made with
``bulk_create`` (no ears: the scorecard does not read them) over one year, ten branches of a
chain and five labs: every order ordered, 90 % shipped, 80 % received, half with a date
required, 3 % remakes of an earlier order (two in five for fit, two for material, one without
category), 2 % with a failed send, 1 % with a refused cancellation. Printed: the build time, then the time of the chain-wide scorecard of the whole
year (every lab), of one branch, and of one lab as the API asks it, each the median of
``--repeat`` runs, with the number of queries.
"""

import argparse
import datetime
import random
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import run  # bench/run.py: database and environment

LABS, BRANCHES = 5, 10
BATCH = 5000


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=100_000, help="orders in the database")
    parser.add_argument("--repeat", type=int, default=5, help="runs per measured scorecard")
    return parser.parse_args()


def database_url():
    parts = urlsplit(run.bench_database_url())
    return urlunsplit(parts._replace(path="/otoorder_bench_scorecard"))


def build(count, rng):
    from django.utils import timezone

    from otoorder.orders import choices
    from otoorder.orders.models import Attempt, Cancellation, EarmouldOrder
    from tests import factories as f

    chain = f.ChainFactory(name="Bench-Kette")
    branches = [f.BranchFactory(chain=chain, name=f"Bench-Filiale {n}") for n in range(BRANCHES)]
    labs = [f.SupplierFactory(company=f.CompanyFactory(name=f"Bench-Labor {n}")) for n in range(LABS)]
    user = f.UserFactory(username="bench-admin")
    template = f.TemplateFactory(name="Otoplastik")
    transactions = [
        f.TransactionFactory(customer=f.CustomerFactory(branch=branch), template=template, started_by=user)
        for branch in branches
    ]
    start = timezone.now() - datetime.timedelta(days=365)
    made = []
    for first in range(0, count, BATCH):
        batch = []
        for n in range(first, min(first + BATCH, count)):
            transaction_obj = transactions[n % BRANCHES]
            lab = labs[rng.randrange(LABS)]
            ordered = start + datetime.timedelta(minutes=rng.randrange(365 * 24 * 60))
            shipped = ordered + datetime.timedelta(hours=rng.uniform(24, 24 * 15)) if rng.random() < 0.9 else None
            received = shipped + datetime.timedelta(hours=rng.uniform(12, 96)) if shipped and rng.random() < 0.9 else None
            remake = made and rng.random() < 0.03
            batch.append(
                EarmouldOrder(
                    number=f"BS-{n:07d}",
                    transaction=transaction_obj,
                    customer=transaction_obj.customer,
                    branch=transaction_obj.branch,
                    company=lab.company,
                    supplier=lab,
                    backend="standard",
                    status=choices.OrderStatus.RECEIVED if received else choices.OrderStatus.ORDERED,
                    order_type=choices.OrderType.REMAKE if remake else choices.OrderType.NEW,
                    original_order_id=rng.choice(made) if remake else None,
                    reason_category=rng.choice(("fit", "fit", "material", "material", "")) if remake else "",
                    ordered_at=ordered,
                    shipped_at=shipped,
                    received_at=received,
                    date_required=(ordered + datetime.timedelta(days=rng.randrange(5, 14))).date()
                    if rng.random() < 0.5
                    else None,
                )
            )
        orders = EarmouldOrder.objects.bulk_create(batch)
        made.extend(order.pk for order in orders[:: 50])
        Attempt.objects.bulk_create(
            Attempt(
                order=order,
                number=1,
                started_at=order.ordered_at,
                outcome=choices.AttemptOutcome.PERMANENT_ERROR,
            )
            for order in orders
            if rng.random() < 0.02
        )
        Cancellation.objects.bulk_create(
            Cancellation(order=order, previous_status=order.status, outcome=choices.CancellationOutcome.REFUSED)
            for order in orders
            if rng.random() < 0.01
        )
    return branches, labs


def measure(label, repeat, function):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            result = function()
            times.append(time.perf_counter() - began)
    print(f"{label:<46} {statistics.median(times) * 1000:8.1f} ms   {len(queries)} queries   {len(result)} labs")
    return result


def main():
    args = parse_args()
    db_url = database_url()
    run.recreate_database(db_url)
    with tempfile.TemporaryDirectory(prefix="otoorder-bench-scorecard-") as tmp:
        run.configure_environment(db_url, Path(tmp))
        run.setup_django()
        from django.db import connection
        from django.utils import timezone

        from otoorder.orders import scorecard

        began = time.perf_counter()
        branches, labs = build(args.orders, random.Random(8))
        built = time.perf_counter() - began
        print(f"built {args.orders:,} orders in {built:.1f} s ({args.orders / built:,.0f} orders/s, bulk_create)")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        today = timezone.localdate()
        date_from, date_to = today - datetime.timedelta(days=365), today
        every_branch = [branch.pk for branch in branches]
        print(f"scorecard of {date_from} – {date_to} on {connection.vendor}, median of {args.repeat} runs:")
        scores = measure(
            "chain-wide, every lab (page, CSV)", args.repeat,
            lambda: scorecard.compute(date_from, date_to, every_branch),
        )
        measure("one branch, every lab", args.repeat, lambda: scorecard.compute(date_from, date_to, every_branch[:1]))
        measure(
            "chain-wide, one lab (API)", args.repeat,
            lambda: scorecard.compute(date_from, date_to, every_branch, supplier_id=labs[0].pk),
        )
        print(f"orders counted: {sum(score.orders for score in scores):,}; "
              f"e.g. {scores[0].supplier}: median {scores[0].shipped_median_days} d to shipped, "
              f"p90 {scores[0].received_p90_days} d to received, on time {scores[0].on_time_rate}, "
              f"remakes within the window {scores[0].remake_rate} (fit {scores[0].fit_remake_rate}, "
              f"material {scores[0].material_remake_rate}, without category {scores[0].uncategorised_remake_rate})")


if __name__ == "__main__":
    main()
