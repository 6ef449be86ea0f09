"""Who is told what: notifications from order events and overdue orders.

``kind_of(event)`` decides whether an order event concerns staff (the contract with the
cancellation and question code: ``OrderEvent.to_status`` and ``data["code"]``); ``notify``
writes one notification per recipient in one bulk insert. Recipients are the members of the
order's branch (staff and branch admins), not the whole chain; whoever caused the event is
not told about it.
"""

import logging
import uuid

from django.conf import settings

from branches.models import Membership, Role
from otoorder.orders.choices import CANCELLING, CancellationOutcome, EventSource, MessageDirection, OrderStatus
from otoorder.orders.models import Cancellation, OrderEvent, OrderMessage

from .choices import Kind
from .models import Notification
from .texts import LAB_TEXT_MAX

logger = logging.getLogger(__name__)

S = OrderStatus
#: The roles that are told about their branch's orders.
RECIPIENT_ROLES = (Role.STAFF, Role.BRANCH_ADMIN)
#: Event codes (``OrderEvent.data["code"]``) written by the cancellation and question code.
CANCEL_ACCEPTED, CANCEL_REFUSED, LAB_QUESTION, LAB_RESUMED = (
    "cancel_accepted",
    "cancel_refused",
    "lab_question",
    "lab_resumed",
)
#: Keys under which an event's ``data["params"]`` may carry the lab's own words.
LAB_WORDS = ("lab_text", "text", "reason", "question")


def _params(event):
    data = event.data if isinstance(event.data, dict) else {}
    return data.get("params") if isinstance(data.get("params"), dict) else {}


def kind_of(event):
    """The kind of notification an order event causes, or None."""
    data = event.data if isinstance(event.data, dict) else {}
    code, params = data.get("code"), _params(event)
    to, came_from = event.to_status, event.from_status
    if code == CANCEL_REFUSED:
        return Kind.CANCEL_REFUSED
    if code == CANCEL_ACCEPTED:
        if params.get("immediate"):
            return None  # cancelled before any lab had it: nobody else needs to hear of it
        return Kind.LAB_CANCELLED if params.get("by_lab") else Kind.CANCEL_ACCEPTED
    if code == LAB_QUESTION:
        return Kind.LAB_QUESTION  # also a further question while the order is on hold already
    if to == S.CANCELLED:
        if came_from in CANCELLING:
            return Kind.CANCEL_ACCEPTED
        return Kind.LAB_CANCELLED if event.source == EventSource.LAB else None
    if to == S.ON_HOLD:
        return Kind.LAB_QUESTION
    if to == S.SHIPPED:
        return Kind.SHIPPED
    if to == S.REJECTED_BY_LAB:
        return Kind.REJECTED
    if to == S.FAILED:
        return Kind.SEND_FAILED
    # The lab resuming after a question, or a refused cancellation going back, is no new
    # confirmation.
    if to == S.CONFIRMED and code != LAB_RESUMED and came_from not in {S.ON_HOLD, *CANCELLING}:
        return Kind.CONFIRMED
    return None


def _lab_words(event):
    data = event.data if isinstance(event.data, dict) else {}
    params = _params(event)
    for key in LAB_WORDS:
        for source in (params, data):
            value = source.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
    return ""


def _is_uuid(value):
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return value is not None


def params_for(kind, order, event=None):
    """The facts a notification keeps: the lab's name and, per kind, its words or numbers."""
    params = {"lab": order.supplier.display_name}
    words = _lab_words(event) if event is not None else ""
    if kind == Kind.SHIPPED:
        if order.tracking_number:
            params["tracking"] = order.tracking_number
        if order.tracking_carrier:
            params["carrier"] = order.tracking_carrier
    elif kind == Kind.LAB_QUESTION and not words:
        # The event names its message; without one, the lab's latest question.
        questions = OrderMessage.objects.filter(order=order, direction=MessageDirection.FROM_LAB)
        named = _params(event).get("message") if event is not None else None
        question = (questions.filter(pk=named).first() if _is_uuid(named) else None) or questions.order_by(
            "-created_at"
        ).first()
        words = question.text if question else ""
    elif kind == Kind.CANCEL_REFUSED and not words:
        refusal = (
            Cancellation.objects.filter(order=order, outcome=CancellationOutcome.REFUSED).order_by("-sequence").first()
        )
        words = refusal.lab_answer if refusal else ""
    if words and kind in {Kind.LAB_QUESTION, Kind.CANCEL_REFUSED, Kind.REJECTED, Kind.LAB_CANCELLED}:
        params["text"] = words[:LAB_TEXT_MAX]
    return params


def recipient_ids(branch_ids, *, exclude=None):
    """``{branch id: [user ids]}``: the active staff and branch admins of these branches."""
    rows = Membership.objects.filter(
        branch_id__in=branch_ids, role__in=RECIPIENT_ROLES, user__is_active=True
    ).values_list("branch_id", "user_id")
    people = {}
    for branch_id, user_id in rows:
        if user_id != exclude:
            people.setdefault(branch_id, []).append(user_id)
    return people


def notify(order, kind, params, *, event=None, day=None, exclude=None):
    """One notification of ``kind`` for every recipient of ``order``'s branch, in one insert.

    A repeated call for the same event (or the same overdue day) adds nothing: the unique
    constraints turn it into no-ops."""
    users = recipient_ids([order.branch_id], exclude=exclude).get(order.branch_id, [])
    rows = [
        Notification(recipient_id=user_id, order=order, kind=kind, params=params, event=event, day=day)
        for user_id in users
    ]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def notify_event(event_id):
    """Notifications for one order event (after its transaction committed)."""
    event = OrderEvent.objects.select_related("order__supplier__company").filter(pk=event_id).first()
    if event is None:
        return 0
    kind = kind_of(event)
    if kind is None:
        return 0
    count = notify(event.order, kind, params_for(kind, event.order, event), event=event, exclude=event.actor_id)
    logger.info("event %s of order %s: %s notifications (%s)", event.pk, event.order_id, count, kind)
    return count


def unread_count(user):
    """The bell: one query on the partial index of unread notifications."""
    return Notification.objects.for_user(user).unread().count()


#: More unread notifications than this show as "99+".
BELL_MAX = 99


def bell_context(count):
    """What the bell shows (navigation and its polled fragment)."""
    return {
        "unread": count,
        "unread_shown": f"{BELL_MAX}+" if count > BELL_MAX else str(count),
        "poll_seconds": max(1, int(settings.OTOORDER_NOTIFICATION_POLL_SECONDS)),
    }
