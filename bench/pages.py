"""Part (c) of ``bench/run.py``: the staff pages at 100,000 orders.

The bench database gets (with ``bulk_create``, not timed) one chain of ``--branches`` branches
(default 50), ``--customers`` customers (20,000) spread over them, one transaction each,
``--page-orders`` orders (100,000) over three years with both ears, and one customer with 60
orders (the long history of the customer page). The newest few percent are open (ordered,
confirmed, shipped, a few failed), the rest fitted or closed, as in a chain that has used
otoorder for years. After ``ANALYZE`` every page is requested under ``--clients`` concurrent
clients (each a logged-in session) beside the trivial view; the number of SQL statements of
each page is counted in this process with Django's test client.
"""

import datetime
import random

ORDERS_OF_ONE_CUSTOMER = 60
BATCH = 5000
SURNAMES = (
    "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer Richter Klein "
    "Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange Schmitt Werner Krause Meier Lehmann"
).split()
FIRST_NAMES = "Erika Hans Anna Peter Maria Klaus Ursula Jürgen Monika Wolfgang Petra Dieter Sabine Uwe Helga".split()


def build(*, orders, branches, customers, rng):
    """The chain, its users and lab, customers, transactions, orders with both ears."""
    from django.db import connection
    from django.utils import timezone

    from branches.models import Role
    from otoorder.orders import choices
    from otoorder.orders.models import EarmouldOrder, OrderEvent, OrderItem
    from otoorder.transactions.models import Customer, Transaction
    from tests import factories as f

    chain = f.ChainFactory(name="Seiten-Kette")
    branch_list = [f.BranchFactory(chain=chain, name=f"Seiten-Filiale {n:02d}") for n in range(branches)]
    staff = f.UserFactory(username="pages-staff")
    f.MembershipFactory(user=staff, chain=chain, branch=branch_list[0])
    admin = f.UserFactory(username="pages-admin")
    f.MembershipFactory(user=admin, chain=chain, branch=None, role=Role.CHAIN_ADMIN)
    labs = [f.SupplierFactory(company=f.CompanyFactory(name=f"Bench-Labor {n}")) for n in range(5)]
    template = f.TemplateFactory(name="Otoplastik")

    people = Customer.objects.bulk_create(
        Customer(
            branch=branch_list[n % branches],
            customer_number=100001 + n,
            first_name=rng.choice(FIRST_NAMES),
            last_name=rng.choice(SURNAMES),
        )
        for n in range(customers)
    )
    transactions = Transaction.objects.bulk_create(
        Transaction(customer=person, branch=person.branch, template=template, name="Otoplastik", started_by=staff)
        for person in people
    )
    # The customer of the long history: in the staff member's branch.
    long_history = transactions[0]

    now = timezone.now()
    span = 3 * 365 * 24 * 60
    S = choices.OrderStatus
    open_statuses = [S.QUEUED, S.ORDERED, S.CONFIRMED, S.IN_PRODUCTION, S.SHIPPED, S.RECEIVED, S.FAILED, S.ON_HOLD]
    made = 0
    for first in range(0, orders, BATCH):
        batch = []
        for n in range(first, min(first + BATCH, orders)):
            txn = long_history if n % (orders // ORDERS_OF_ONE_CUSTOMER) == 0 else transactions[rng.randrange(len(transactions))]
            age = rng.randrange(span)
            created = now - datetime.timedelta(minutes=age)
            lab = labs[rng.randrange(len(labs))]
            if age < 20 * 24 * 60:  # the last 20 days: open
                status = rng.choice(open_statuses)
            else:
                status = S.CLOSED if rng.random() < 0.7 else S.FITTED
            batch.append(
                EarmouldOrder(
                    number=f"BN-{n:07d}",
                    transaction=txn,
                    customer_id=txn.customer_id,
                    branch_id=txn.branch_id,
                    company=lab.company,
                    supplier=lab,
                    backend="standard",
                    status=status,
                    ordered_at=created + datetime.timedelta(minutes=1) if status != S.QUEUED else None,
                    eta=(created + datetime.timedelta(days=10)).date(),
                    date_required=(created + datetime.timedelta(days=12)).date() if rng.random() < 0.5 else None,
                    created_by=staff,
                )
            )
        stored = EarmouldOrder.objects.bulk_create(batch)
        # created_at is auto_now_add: spread it over the three years afterwards.
        OrderItem.objects.bulk_create(
            OrderItem(order=order, side=side, style="full_shell", material="acrylic")
            for order in stored
            for side in ("right", "left")
        )
        made += len(stored)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE orders_earmouldorder SET created_at = COALESCE(ordered_at, now()) - interval '1 minute',"
            " updated_at = COALESCE(ordered_at, now())"
        )
    order = EarmouldOrder.objects.filter(branch=branch_list[0], status=S.ORDERED).order_by("-created_at").first()
    OrderEvent.objects.bulk_create(
        OrderEvent(order=order, from_status=a, to_status=b, source=choices.EventSource.WORKER, actor=staff)
        for a, b in (("", S.QUEUED), (S.QUEUED, S.SENDING), (S.SENDING, S.ORDERED))
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "staff": staff,
        "admin": admin,
        "branch": branch_list[0],
        "supplier": labs[0],
        "order": order,
        "customer": long_history.customer,
        "orders": made,
    }


def pages(data):
    """name → (user, path): every page the issue names."""
    branch, customer = data["branch"], data["customer"]
    return {
        "worklist": ("staff", "/bestellungen/"),
        "order_list_filtered": ("staff", f"/bestellungen/?status=all&supplier={data['supplier'].pk}"),
        "order_list_chain_admin": ("admin", "/bestellungen/?status=all"),
        "order_list_chain_admin_branch": ("admin", f"/bestellungen/?status=all&branch={branch.pk}"),
        "api_order_list": ("staff", "/api/v1/orders/"),
        "order_page": ("staff", f"/bestellungen/{data['order'].pk}/"),
        "customer_page": ("staff", f"/kunden/{customer.pk}/"),
        "customer_search": ("staff", f"/kunden/?q={customer.last_name}"),
        "scorecard": ("admin", "/filialverwaltung/laborkennzahlen/"),
    }


def sessions(data):
    from django.test import Client

    keys = {}
    for role in ("staff", "admin"):
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(data[role])
        keys[role] = client.cookies["sessionid"].value
    return keys


def count_queries(data):
    """SQL statements of each page in this process (Django's test client), and its status."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    counts = {}
    for name, (role, path) in pages(data).items():
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(data[role])
        client.get(path)  # warm-up: caches of the first request
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        counts[name] = {"queries": len(captured), "status": response.status_code}
    return counts


def bench_pages(args, log_dir, load, start_web):
    import time

    started = time.monotonic()
    data = build(orders=args.page_orders, branches=args.branches, customers=args.customers, rng=random.Random(12))
    built = time.monotonic() - started
    counts = count_queries(data)
    keys = sessions(data)
    web, base_url = start_web(args, log_dir)
    results = {}
    try:

        def getter(path, role):
            def get(session, _index):
                session.cookies.set("sessionid", keys[role], domain="127.0.0.1")
                return session.get(f"{base_url}{path}", timeout=60)

            return get

        trivial = load(base_url, args.clients, args.page_requests, getter("/api/v1/backends/", "staff"), 200)
        for name, (role, path) in pages(data).items():
            measured = load(base_url, args.clients, args.page_requests, getter(path, role), 200)
            results[name] = {**measured, **counts[name], "ratio": measured["p95_ms"] / trivial["p95_ms"]}
    finally:
        web.stop()
    return {"trivial": trivial, "pages": results, "built_seconds": built, "orders": data["orders"]}
