"""Lab scorecards (Laborkennzahlen): per supplier, for a period and a set of branches.

An order belongs to the period by the day it was ordered (or created, for orders that never
reached the lab: rejected or failed sends). Per lab:

- ``orders``: orders ordered in the period;
- turnaround ordered → shipped and ordered → received, median and 90th percentile in days
  (continuous percentile, as PostgreSQL's ``percentile_cont``);
- ``on_time_rate``: among orders with a date required that were received, the share received
  on or before that date;
- ``remake_rate`` and its split by reason category (``fit_remake_rate``,
  ``material_remake_rate``, ``uncategorised_remake_rate``): remake orders of the period whose
  original order went to this lab and which were ordered within that lab's free-remake window
  (``orders.warranty``: from the original's delivery, goods receipt else shipping day, both
  last days inclusive), over the lab's delivered (received) orders of the period. A fit remake
  counts within the fit window (``Supplier.remake_fit_days``), a material remake within the
  material window (``Supplier.remake_material_months``); a remake without a category
  ("ohne Kategorie": raised before complaints had reasons, or by hand) counts within the fit
  window, the shorter one, as ``warranty.window_reasons`` judges a remake of unknown cause.
  Remakes ordered after their window closed are not counted (the lab may charge them);
- ``rejected``: orders the lab rejected (status ``rejected_by_lab``);
- ``failed_sends``: send attempts that failed (rejected, transient or permanent error);
- ``cancellations_refused``: cancellations the lab refused.

Everything is computed by the database in a constant number of queries, whatever the number
of orders: grouped aggregates; the percentiles with ``percentile_cont … WITHIN GROUP`` on
PostgreSQL, and from one ordered values query per figure where the database has no percentile
(SQLite).
"""

import datetime
from dataclasses import asdict, dataclass

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DateField,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    Func,
    Q,
    Value,
)
from django.db.models.functions import Coalesce, NullIf, TruncDate
from django.utils.translation import gettext as _

from . import choices
from .models import Attempt, Cancellation, EarmouldOrder

S = choices.OrderStatus

#: Attempt outcomes that are a failed send.
FAILED_OUTCOMES = (
    choices.AttemptOutcome.REJECTED,
    choices.AttemptOutcome.TRANSIENT_ERROR,
    choices.AttemptOutcome.PERMANENT_ERROR,
)

#: The longest period a scorecard covers (forms and API refuse longer ones).
MAX_PERIOD_DAYS = 731

SECONDS_PER_DAY = 86400


class PercentileCont(Aggregate):
    """PostgreSQL's ``percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)``."""

    function = "percentile_cont"
    #: Django appends ``FILTER (WHERE …)`` after this template, where PostgreSQL wants it.
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()

    def __init__(self, expression, fraction, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


class DatePlus(Func):
    """``day`` plus ``amount`` (an integer expression) days or months, as a date; a month
    added to the 31st ends on the month's last day on PostgreSQL (as ``relativedelta``), while
    SQLite's ``date()`` rolls over into the next month."""

    arity = 2
    output_field = DateField()
    UNITS = ("days", "months")

    def __init__(self, day, amount, unit, **extra):
        if unit not in self.UNITS:
            raise ValueError(f"unit must be one of {self.UNITS}")
        self.unit = unit
        super().__init__(day, amount, **extra)

    def _compiled(self, compiler, connection):
        day_sql, day_params = compiler.compile(self.source_expressions[0])
        amount_sql, amount_params = compiler.compile(self.source_expressions[1])
        return day_sql, amount_sql, (*day_params, *amount_params)

    def as_sql(self, compiler, connection, **extra_context):
        # PostgreSQL (the production database); SQLite (the embedded default) below.
        day_sql, amount_sql, params = self._compiled(compiler, connection)
        return f"CAST(({day_sql}) + make_interval({self.unit} => CAST({amount_sql} AS integer)) AS date)", params

    def as_sqlite(self, compiler, connection, **extra_context):
        day_sql, amount_sql, params = self._compiled(compiler, connection)
        return f"date({day_sql}, '+' || ({amount_sql}) || ' {self.unit}')", params


@dataclass
class LabScore:
    supplier_id: str
    supplier: str
    orders: int = 0
    shipped_median_days: float | None = None
    shipped_p90_days: float | None = None
    received_median_days: float | None = None
    received_p90_days: float | None = None
    received: int = 0
    with_date_required: int = 0
    on_time: int = 0
    on_time_rate: float | None = None
    remakes: int = 0
    remake_rate: float | None = None
    fit_remakes: int = 0
    fit_remake_rate: float | None = None
    material_remakes: int = 0
    material_remake_rate: float | None = None
    uncategorised_remakes: int = 0
    uncategorised_remake_rate: float | None = None
    rejected: int = 0
    failed_sends: int = 0
    cancellations_refused: int = 0

    def as_dict(self):
        return asdict(self)


#: The figures in table and CSV order, with their keys.
FIGURES = (
    "orders",
    "shipped_median_days",
    "shipped_p90_days",
    "received_median_days",
    "received_p90_days",
    "on_time_rate",
    "remake_rate",
    "fit_remake_rate",
    "material_remake_rate",
    "uncategorised_remake_rate",
    "rejected",
    "failed_sends",
    "cancellations_refused",
)


def percentile(sorted_values, fraction):
    """Continuous percentile (linear interpolation, as ``percentile_cont``) of sorted values."""
    if not sorted_values:
        return None
    position = fraction * (len(sorted_values) - 1)
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def _days(value):
    if value is None:
        return None
    if isinstance(value, datetime.timedelta):
        value = value.total_seconds()
    return round(value / SECONDS_PER_DAY, 2)


def _orders_in_period(date_from, date_to, branch_ids, supplier_id=None):
    # The day in the current time zone (no datetime arithmetic: any valid date is safe).
    orders = EarmouldOrder.objects.order_by().annotate(
        period_at=Coalesce("ordered_at", "created_at", output_field=DateTimeField())
    ).filter(period_at__date__gte=date_from, period_at__date__lte=date_to, branch_id__in=list(branch_ids))
    if supplier_id is not None:
        orders = orders.filter(supplier_id=supplier_id)
    return orders


SHIPPED = ExpressionWrapper(F("shipped_at") - F("ordered_at"), output_field=DurationField())
RECEIVED = ExpressionWrapper(F("received_at") - F("ordered_at"), output_field=DurationField())
HAS_SHIPPED = Q(ordered_at__isnull=False, shipped_at__isnull=False)
HAS_RECEIVED = Q(ordered_at__isnull=False, received_at__isnull=False)


def _has_percentile():
    return connection.vendor == "postgresql"


def compute(date_from, date_to, branch_ids, supplier_id=None):
    """The scorecards of every lab (or of ``supplier_id``) with orders of ``branch_ids`` in the
    period, ordered by lab name (case-insensitive): a list of ``LabScore``. A constant number of queries: 4 on
    PostgreSQL, 6 elsewhere."""
    branch_ids = list(branch_ids)
    orders = _orders_in_period(date_from, date_to, branch_ids, supplier_id)
    received_in_time = Q(HAS_RECEIVED, date_required__isnull=False)
    aggregates = {
        "orders": Count("pk", filter=Q(ordered_at__isnull=False)),
        "received": Count("pk", filter=HAS_RECEIVED),
        "with_date_required": Count("pk", filter=received_in_time),
        # Received on or before the date required (the day counted in the current time zone).
        "on_time": Count("pk", filter=received_in_time & Q(received_at__date__lte=F("date_required"))),
        "rejected": Count("pk", filter=Q(status=S.REJECTED_BY_LAB)),
    }
    if _has_percentile():
        aggregates |= {
            "shipped_median": PercentileCont(SHIPPED, 0.5, filter=HAS_SHIPPED),
            "shipped_p90": PercentileCont(SHIPPED, 0.9, filter=HAS_SHIPPED),
            "received_median": PercentileCont(RECEIVED, 0.5, filter=HAS_RECEIVED),
            "received_p90": PercentileCont(RECEIVED, 0.9, filter=HAS_RECEIVED),
        }
    rows = (
        orders.annotate(lab=Coalesce(NullIf("supplier__name", Value("")), "supplier__company__name"))
        .values("supplier_id", "lab")
        .annotate(**aggregates)
        .order_by("lab", "supplier_id")
    )
    scores = {}
    for row in rows:
        score = LabScore(supplier_id=str(row["supplier_id"]), supplier=row["lab"])
        for key in ("orders", "received", "with_date_required", "on_time", "rejected"):
            setattr(score, key, row[key])
        if _has_percentile():
            score.shipped_median_days = _days(row["shipped_median"])
            score.shipped_p90_days = _days(row["shipped_p90"])
            score.received_median_days = _days(row["received_median"])
            score.received_p90_days = _days(row["received_p90"])
        scores[row["supplier_id"]] = score
    if not scores:
        return []
    if not _has_percentile():
        for name, expression, condition in (("shipped", SHIPPED, HAS_SHIPPED), ("received", RECEIVED, HAS_RECEIVED)):
            _percentiles_from_values(scores, orders, name, expression, condition)

    for row in _remakes_within_window(date_from, date_to, branch_ids, list(scores)):
        score = scores[row["original_order__supplier_id"]]
        score.fit_remakes, score.material_remakes = row["fit"], row["material"]
        score.uncategorised_remakes = row["uncategorised"]
        score.remakes = score.fit_remakes + score.material_remakes + score.uncategorised_remakes

    failed = (
        Attempt.objects.order_by()
        .filter(order__in=orders.values("pk"), outcome__in=FAILED_OUTCOMES)
        .values("order__supplier_id")
        .annotate(n=Count("pk"))
    )
    for row in failed:
        scores[row["order__supplier_id"]].failed_sends = row["n"]

    refused = (
        Cancellation.objects.order_by()
        .filter(order__in=orders.values("pk"), outcome=choices.CancellationOutcome.REFUSED)
        .values("order__supplier_id")
        .annotate(n=Count("pk"))
    )
    for row in refused:
        scores[row["order__supplier_id"]].cancellations_refused = row["n"]

    for score in scores.values():
        score.on_time_rate = round(score.on_time / score.with_date_required, 4) if score.with_date_required else None
        for prefix in ("", "fit_", "material_", "uncategorised_"):
            remakes = getattr(score, f"{prefix}remakes")
            setattr(score, f"{prefix}remake_rate", round(remakes / score.received, 4) if score.received else None)
    # By name as a reader sorts (the database's collation may put "audia" after "Otoplastik Nord").
    return sorted(scores.values(), key=lambda score: (score.supplier.casefold(), score.supplier_id))


def _remakes_within_window(date_from, date_to, branch_ids, supplier_ids):
    """One grouped query: per lab of the original order, the remakes of the period ordered
    within its free-remake window, by reason category (fit, material, none)."""
    delivered = Coalesce(
        TruncDate("original_order__received_at"), TruncDate("original_order__shipped_at"), output_field=DateField()
    )
    category = choices.ReasonCategory
    return (
        _orders_in_period(date_from, date_to, branch_ids)
        .filter(order_type=choices.OrderType.REMAKE, original_order__supplier_id__in=supplier_ids)
        .annotate(
            remake_day=TruncDate("period_at"),
            fit_until=DatePlus(delivered, F("original_order__supplier__remake_fit_days"), "days"),
            material_until=DatePlus(delivered, F("original_order__supplier__remake_material_months"), "months"),
        )
        .values("original_order__supplier_id")
        .annotate(
            fit=Count("pk", filter=Q(reason_category=category.FIT, remake_day__lte=F("fit_until"))),
            material=Count("pk", filter=Q(reason_category=category.MATERIAL, remake_day__lte=F("material_until"))),
            uncategorised=Count(
                "pk", filter=Q(remake_day__lte=F("fit_until")) & ~Q(reason_category__in=category.values)
            ),
        )
    )


def _percentiles_from_values(scores, orders, name, expression, condition):
    """One ordered values query for a figure of every lab; the percentiles from the sorted
    durations (databases without ``percentile_cont``)."""
    values = {}
    rows = (
        orders.filter(condition)
        .annotate(duration=expression)
        .order_by("supplier_id", "duration")
        .values_list("supplier_id", "duration")
    )
    for supplier_id, duration in rows:
        values.setdefault(supplier_id, []).append(duration.total_seconds())
    for supplier_id, durations in values.items():
        setattr(scores[supplier_id], f"{name}_median_days", _days(percentile(durations, 0.5)))
        setattr(scores[supplier_id], f"{name}_p90_days", _days(percentile(durations, 0.9)))


def period_error(date_from, date_to):
    """Why a period cannot be a scorecard's (German, for forms and the API), or ``None``."""
    if date_to < date_from:
        return _("Das Ende des Zeitraums liegt vor seinem Beginn.")
    if (date_to - date_from).days >= MAX_PERIOD_DAYS:
        return _("Der Zeitraum darf höchstens %(days)d Tage umfassen.") % {"days": MAX_PERIOD_DAYS}
    return None


def default_period(today):
    """The last 90 days up to ``today``."""
    return today - datetime.timedelta(days=89), today
