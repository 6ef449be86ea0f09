"""Finding orders: the filters the staff order list and the API share (open, overdue, needs
attention, supplier, a search over numbers and the customer) and the annotations a list row
carries (overdue, at risk, needs attention, unread messages of the lab), all in SQL so that a
list page costs the same number of queries however many orders it shows.

The caller scopes the queryset first (``EarmouldOrder.objects.visible_to(user)``).
"""

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from . import choices
from .models import OrderMessage
from .schedule import annotate_schedule, flag, overdue_q

#: Longest search text and most words in it (bounded work per request).
MAX_QUERY_LENGTH = 100
MAX_QUERY_WORDS = 5
#: ``status=open``: the statuses between queued and shipped, failed, rejected, on hold.
OPEN_FILTER = "open"


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


def filter_orders(queryset, *, status="", overdue=None, needs_attention=None, supplier=None, q="", today=None):
    """Narrow ``queryset`` by validated filter values; ``None``/"" leaves a filter out."""
    if status == OPEN_FILTER:
        queryset = queryset.filter(status__in=list(choices.OPEN))
    elif status:
        queryset = queryset.filter(status=status)
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
