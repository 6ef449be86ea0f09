"""Finding orders: the filters the staff order list and the API share (open, overdue, needs
attention, supplier, a search over numbers and the customer) and the annotations a list row
carries (overdue, at risk, needs attention, unread messages of the lab), all in SQL so that a
list page costs the same number of queries however many orders it shows.

The caller scopes the queryset first (``EarmouldOrder.objects.visible_to(user)``).
"""

from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from . import choices
from .models import OrderMessage
from .schedule import annotate_schedule, flag, overdue_q

#: Longest search text and most words in it (bounded work per request).
MAX_QUERY_LENGTH = 100
MAX_QUERY_WORDS = 5
#: ``status=open``: the statuses between queued and shipped, failed, rejected, on hold.
OPEN_FILTER = "open"
#: The worklist's ``status=all``: every status, the finished and cancelled orders too.
ALL_FILTER = "all"


def needs_attention_q(today=None):
    """Staff must act: failed, rejected, a question of the lab, a cancellation to report, or late."""
    return Q(status__in=list(choices.NEEDS_ATTENTION)) | overdue_q(today)


def search_q(text):
    """Every word must match the order number, the lab's number, the tracking number, the
    customer's first or last name or the customer number (case-insensitive)."""
    condition = Q()
    for word in text.split()[:MAX_QUERY_WORDS]:
        match = (
            Q(number__icontains=word)
            | Q(external_reference__icontains=word)
            | Q(tracking_number__icontains=word)
            | Q(customer__first_name__icontains=word)
            | Q(customer__last_name__icontains=word)
        )
        if word.isdigit() and len(word) <= 10:
            match |= Q(customer__customer_number=int(word))
        condition &= match
    return condition


def count_q(count, today=None):
    """``Q`` of one count of the worklist (``choices.WorklistCount``, documented there)."""
    W = choices.WorklistCount
    if count == W.ATTENTION:
        return needs_attention_q(today)
    if count in (W.IN_TRANSIT, W.RECEIPT_DUE):
        arrived = Q(eta__lte=today or timezone.localdate())
        return Q(status=choices.OrderStatus.SHIPPED) & (arrived if count == W.RECEIPT_DUE else ~arrived | Q(eta__isnull=True))
    return Q(status__in=list(choices.statuses_of(choices.StatusCategory(count))))


def worklist_counts(queryset, today=None):
    """The worklist's counts over ``queryset`` in one query: ``{count: n}`` in the order of
    ``choices.WorklistCount``, over the worklist's statuses."""
    queryset = queryset.filter(status__in=list(choices.WORKLIST)).order_by()
    return queryset.aggregate(**{count: Count("pk", filter=count_q(count, today)) for count in choices.WorklistCount.values})


def filter_orders(
    queryset,
    *,
    status="",
    statuses=(),
    count="",
    overdue=None,
    needs_attention=None,
    supplier=None,
    prescriber=None,
    branch=None,
    q="",
    today=None,
):
    """Narrow ``queryset`` by validated filter values; ``None``/"" leaves a filter out.

    ``status`` is one status or ``open`` (the API); ``statuses`` several (the worklist, where
    ``open`` stands for the worklist's statuses, ``choices.WORKLIST``, and ``all`` for none);
    ``count`` one of the worklist's counts (``choices.WorklistCount``)."""
    if status == OPEN_FILTER:
        queryset = queryset.filter(status__in=list(choices.OPEN))
    elif status:
        queryset = queryset.filter(status=status)
    if statuses and ALL_FILTER not in statuses:
        chosen = set(statuses) - {OPEN_FILTER}
        if OPEN_FILTER in statuses:
            chosen |= choices.WORKLIST
        queryset = queryset.filter(status__in=sorted(chosen))
    if count:
        queryset = queryset.filter(count_q(count, today))
    if prescriber is not None:
        queryset = queryset.filter(prescriber=prescriber)
    if branch is not None:
        queryset = queryset.filter(branch=branch)
    if overdue is not None:
        queryset = queryset.filter(overdue_q(today)) if overdue else queryset.exclude(overdue_q(today))
    if needs_attention is not None:
        attention = needs_attention_q(today)
        queryset = queryset.filter(attention) if needs_attention else queryset.exclude(attention)
    if supplier is not None:
        queryset = queryset.filter(supplier=supplier)
    if q:
        queryset = queryset.filter(search_q(q))
    return queryset


def unread_messages():
    """The number of the lab's messages on the order that nobody of the branch read yet."""
    unread = (
        OrderMessage.objects.filter(order=OuterRef("pk"), direction=choices.MessageDirection.FROM_LAB, read_at__isnull=True)
        .order_by()
        .values("order")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(unread, output_field=IntegerField()), Value(0))


def annotate_list(queryset, today=None):
    """Adds ``is_overdue``, ``is_at_risk``, ``needs_attention`` and ``messages_unread``."""
    return annotate_schedule(queryset, today).annotate(
        needs_attention=flag(needs_attention_q(today)), messages_unread=unread_messages()
    )


#: The status column sorts in the order of the lifecycle (``OrderStatus``), not by its key.
_STATUS_POSITION = Case(
    *[When(status=status, then=Value(position)) for position, status in enumerate(choices.OrderStatus.values)],
    default=Value(len(choices.OrderStatus.values)),
    output_field=IntegerField(),
)
#: The earlier of the ETA and the date required (the deadline the days late count from).
_DEADLINE = Least(Coalesce("eta", "date_required"), Coalesce("date_required", "eta"))
#: The worklist's sortable columns: key → the ascending order on a given day.
SORTS = {
    "number": lambda today: (F("number").asc(),),
    "customer": lambda today: (F("customer__last_name").asc(), F("customer__first_name").asc()),
    "supplier": lambda today: (F("supplier__company__name").asc(), F("supplier__name").asc()),
    "status": lambda today: (_STATUS_POSITION.asc(),),
    "date_required": lambda today: (F("date_required").asc(nulls_last=True),),
    "eta": lambda today: (F("eta").asc(nulls_last=True),),
    # Fewest days late first: the orders that are not late, then the latest deadline first.
    "days_late": lambda today: (flag(overdue_q(today)).asc(), _DEADLINE.desc(nulls_last=True)),
    "created": lambda today: (F("created_at").asc(),),
}
#: Newest first, as the order list always was.
DEFAULT_SORT = "-created"


def _reversed(expression):
    expression = expression.copy()
    expression.reverse_ordering()
    return expression


def sort_orders(queryset, sort, today=None):
    """Order ``queryset`` by a key of ``SORTS``, ``-key`` for descending; the creation time
    and the primary key break ties, so pages never overlap."""
    ascending = SORTS[sort.removeprefix("-")](today)
    order = tuple(_reversed(expression) for expression in ascending) if sort.startswith("-") else ascending
    return queryset.order_by(*order, "-created_at", "pk")
