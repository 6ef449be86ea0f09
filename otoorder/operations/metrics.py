"""``GET /metrics``: otoorder's state in Prometheus' text format, computed by the database.

Web, worker and beat processes are many and on several hosts, and a scrape through the load
balancer reaches any one web process: counters kept in a process's memory (or a histogram
observed by the worker that sent) would show that process's share only. Every series here is
therefore read from the rows all processes share, in a constant number of queries
(``QUERIES``) whatever the number of orders, labs or backends:

1. orders by status (the status index);
2. the attempt log grouped by backend, purpose and outcome, with the send latency buckets as
   conditional counts of ``Attempt.duration_ms`` — one scan of the attempt log gives both the
   attempt counters and the latency histogram (cumulative since the first attempt, so
   ``rate()``/``histogram_quantile()`` work as for a process histogram);
3. the pending rows (``queued``/``sending``) of the three outboxes per lab and interface, with
   their oldest row (the ``state`` indexes; bounded by what is waiting, not by history): the
   queue depth per lab from the database, whichever broker and queue layout carries the tasks;
4. accepted callbacks (their receipts) per backend;
5. refused callbacks per backend and code (``CallbackRefusal``).

Labels carry backends, states, lab (company) names and ids — never anything of a customer.

Access (``OTOORDER_METRICS_ALLOWED_IPS`` and/or ``OTOORDER_METRICS_TOKEN``): each one configured
must match (the scraper's address, ``Authorization: Bearer <token>``); with neither configured
everyone is refused, loopback included (a reverse proxy on the same host would make every
visitor look local).
"""

import hmac
import ipaddress
import logging

from django.conf import settings
from django.db import DatabaseError
from django.db.models import CharField, Count, Min, Q, Sum, Value
from django.db.models.functions import Coalesce, NullIf
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from otoorder.orders.choices import DispatchState, OrderStatus
from otoorder.orders.models import (
    Attempt,
    CallbackReceipt,
    CallbackRefusal,
    Cancellation,
    Dispatch,
    EarmouldOrder,
    OrderMessage,
)

logger = logging.getLogger(__name__)

#: Database queries of one scrape, whatever the data (asserted by the tests).
QUERIES = 5
#: Upper bounds of the send latency buckets, in seconds (the transport timeout is 30 s).
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
PENDING = (DispatchState.QUEUED, DispatchState.SENDING)
#: The three outboxes: the order itself, cancellations, staff's answers to labs' questions.
OUTBOXES = (("order", Dispatch), ("cancellation", Cancellation), ("message", OrderMessage))
QUEUE_LABELS = ["kind", "supplier", "lab", "interface", "backend"]


def _bucket_name(bound):
    return f"le_{int(bound * 1000)}"


def _pending_rows(kind, model):
    return (
        model.objects.filter(state__in=PENDING)
        .annotate(
            kind=Value(kind, output_field=CharField()),
            lab=Coalesce(
                NullIf("order__supplier__name", Value("")), "order__supplier__company__name", output_field=CharField()
            ),
        )
        .values("kind", "order__supplier_id", "lab", "order__interface_definition_id", "order__backend", "state")
        .annotate(depth=Count("pk"), oldest=Min("created_at"))
        .order_by()
    )


class DatabaseCollector:
    """Collects every series from the database at scrape time (``QUERIES`` queries)."""

    def collect(self):
        now = timezone.now()
        yield self._orders()
        yield from self._attempts()
        yield from self._queues(now)
        yield from self._callbacks()

    def _orders(self):
        family = GaugeMetricFamily("otoorder_orders", "Orders by status.", labels=["status"])
        counts = dict(EarmouldOrder.objects.order_by().values_list("status").annotate(n=Count("pk")))
        for status in OrderStatus.values:
            family.add_metric([status], counts.get(status, 0))
        return family

    def _attempts(self):
        buckets = {
            _bucket_name(bound): Count("pk", filter=Q(duration_ms__lte=int(bound * 1000))) for bound in LATENCY_BUCKETS
        }
        rows = (
            Attempt.objects.order_by()
            .values("order__backend", "purpose", "outcome")
            .annotate(n=Count("pk"), total_ms=Coalesce(Sum("duration_ms"), 0), **buckets)
        )
        attempts = CounterMetricFamily(
            "otoorder_dispatch_attempts",
            "Attempts to hand something to a lab, by backend, purpose (order, cancellation, message) and outcome.",
            labels=["backend", "purpose", "outcome"],
        )
        latency = {}
        for row in rows:
            backend = row["order__backend"]
            attempts.add_metric([backend, row["purpose"], row["outcome"]], row["n"])
            sums = latency.setdefault(backend, {"n": 0, "total_ms": 0, **dict.fromkeys(buckets, 0)})
            for key in sums:
                sums[key] += row[key]
        histogram = HistogramMetricFamily(
            "otoorder_send_duration_seconds",
            "Duration of the attempts to hand something to a lab (the attempt log's timing), by backend.",
            labels=["backend"],
        )
        for backend, sums in sorted(latency.items()):
            histogram.add_metric(
                [backend],
                buckets=[(str(bound), sums[_bucket_name(bound)]) for bound in LATENCY_BUCKETS] + [("+Inf", sums["n"])],
                sum_value=sums["total_ms"] / 1000,
            )
        return attempts, histogram

    def _queues(self, now):
        first, *others = [_pending_rows(kind, model) for kind, model in OUTBOXES]
        depth = GaugeMetricFamily(
            "otoorder_queue_depth",
            "Outbox rows waiting for or being carried to the lab (queued/sending), per lab and interface.",
            labels=[*QUEUE_LABELS, "state"],
        )
        oldest = {}
        for row in first.union(*others, all=True):
            labels = [
                row["kind"],
                str(row["order__supplier_id"] or ""),
                row["lab"] or "",
                str(row["order__interface_definition_id"] or ""),
                row["order__backend"],
            ]
            depth.add_metric([*labels, row["state"]], row["depth"])
            key = tuple(labels)
            oldest[key] = min(oldest.get(key, row["oldest"]), row["oldest"])
        age = GaugeMetricFamily(
            "otoorder_queue_oldest_age_seconds",
            "Age of the oldest pending outbox row, per lab and interface.",
            labels=QUEUE_LABELS,
        )
        for labels, created in sorted(oldest.items()):
            age.add_metric(list(labels), max(0.0, (now - created).total_seconds()))
        orders = [created for labels, created in oldest.items() if labels[0] == "order"]
        overall = GaugeMetricFamily(
            "otoorder_oldest_queued_order_age_seconds",
            "Age of the oldest order not yet handed to its lab (0 when none waits).",
            value=max(0.0, (now - min(orders)).total_seconds()) if orders else 0.0,
        )
        return depth, age, overall

    def _callbacks(self):
        accepted = CounterMetricFamily(
            "otoorder_callbacks_accepted", "Lab callbacks accepted, by backend.", labels=["backend"]
        )
        for backend, count in (
            CallbackReceipt.objects.order_by()
            .values_list("interface_definition__backend")
            .annotate(n=Count("pk"))
        ):
            accepted.add_metric([backend], count)
        refused = CounterMetricFamily(
            "otoorder_callbacks_refused",
            "Lab callbacks refused, by backend (empty: no such definition) and reason.",
            labels=["backend", "reason"],
        )
        for backend, code, count in CallbackRefusal.objects.order_by("backend", "code").values_list(
            "backend", "code", "count"
        ):
            refused.add_metric([backend, code], count)
        return accepted, refused


def exposition():
    """The text of one scrape."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector())
    return generate_latest(registry)


def _address(value):
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    return address.ipv4_mapped or address if address.version == 6 else address


def allowed(request):
    """Every configured condition holds; nothing configured → nobody."""
    networks, token = settings.OTOORDER_METRICS_ALLOWED_IPS, settings.OTOORDER_METRICS_TOKEN
    if not networks and not token:
        return False
    if networks:
        address = _address(request.META.get("REMOTE_ADDR", ""))
        if address is None or not any(address in ipaddress.ip_network(network) for network in networks):
            return False
    if token:
        scheme, _space, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            return False
    return True


@require_safe
def metrics(request):
    if not allowed(request):
        return HttpResponse(_("Kein Zugriff auf die Metriken."), status=403, content_type="text/plain; charset=utf-8")
    try:
        body = exposition()
    except DatabaseError:
        logger.exception("metrics: database query failed")
        return HttpResponse(
            _("Die Datenbank ist nicht erreichbar."), status=503, content_type="text/plain; charset=utf-8"
        )
    response = HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
