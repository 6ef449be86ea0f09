"""A send within the lab's limits, or later: what the outbox tasks run (``tasks``).

Before the outbox claims a row (``outbox.run``) the lab's ticket is taken (``throttle``). A
lab at its limit gets nothing from this worker process now: the task is published again with
a countdown (``defer``) and the process is free for the next task, perhaps for another lab.
The row stays ``queued`` and untouched, so its idempotency key, attempt count and retry
horizon are what they were; a lost re-publication is the sweeper's as any other. The wait
follows the lab's interval when that is what holds it, else it grows (0.5 s, 1 s, 2 s, …
``DEFER_MAX_SECONDS``), jittered, so that many waiting rows do not knock at once.
"""

import logging
import random

from django.utils import timezone

from . import outbox as outboxes
from . import throttle
from .choices import DispatchState

logger = logging.getLogger(__name__)

DEFER_BASE_SECONDS = 0.5
#: Longest wait for a free slot; far below the sweeper's ``QUEUED_DEADLINE`` (60 s).
DEFER_MAX_SECONDS = 8.0


def limits_for(outbox, row_id):
    """Whether the row is due, and its lab's ``throttle.Limits``: ``(due, limits)``.

    A row that is gone, not ``queued`` or not yet due is not sent by this message (as
    ``outbox.claim`` would decide); a row without an interface definition (the standard
    process without one) has no lab limits (``limits`` None).
    """
    found = (
        outbox.model.objects.filter(pk=row_id, state=DispatchState.QUEUED, due_at__lte=timezone.now())
        .values_list(
            "order__interface_definition_id",
            "order__interface_definition__max_parallel_sends",
            "order__interface_definition__sends_per_minute",
        )
        .first()
    )
    if found is None:
        return False, None
    lab, parallel, per_minute = found
    if lab is None:
        return True, None
    return True, throttle.Limits(lab=str(lab), parallel=parallel, per_minute=per_minute)


def run(outbox, row_id, deferrals=0):
    """Carry the row if its lab has room (``outbox.run``), else publish it again for later.

    Returns what ``outbox.run`` returned, or None (nothing to do, or deferred).
    """
    due, limits = limits_for(outbox, row_id)
    if not due:
        return None
    if limits is None:
        return outboxes.run(outbox, row_id)
    ticket = throttle.acquire(limits)
    if not ticket.granted:
        defer(outbox, row_id, ticket, deferrals, limits)
        return None
    try:
        return outboxes.run(outbox, row_id)
    finally:
        ticket.release()


def defer_seconds(ticket, deferrals):
    """How long a row waits for its lab: the interval's rest, or a growing jittered wait."""
    if ticket.wait is not None:
        return ticket.wait + random.uniform(0, DEFER_BASE_SECONDS)
    step = min(DEFER_MAX_SECONDS, DEFER_BASE_SECONDS * 2 ** min(deferrals, 10))
    return random.uniform(step / 2, step)


def defer(outbox, row_id, ticket, deferrals, limits):
    countdown = defer_seconds(ticket, deferrals)
    logger.info(
        "%s %s waits %.1f s for lab %s (%s)",
        outbox.noun, row_id, countdown, limits.lab, "all slots taken" if ticket.busy else "rate limit",
    )
    outboxes.enqueue(outbox, row_id, countdown=countdown, deferrals=deferrals + 1)
