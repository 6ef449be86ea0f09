"""The return channel by polling: ask the labs about orders in flight and read their inboxes.

The periodic task ``poll_labs`` hands out one ``poll_lab`` task per definition to the queue of
its lab, which polls it within the lab's limits (:func:`poll_one`); :func:`poll_all` polls
them all in one process. For every active interface definition whose backend declares
``supports_status_poll`` or ``supports_inbox``:

* a backend with ``supports_status_poll`` (Dreve SmartOrder) is asked about a
  bounded batch of the definition's orders that are ordered/confirmed/in production/shipped
  and carry the lab's number, least recently polled first (``last_polled_at``, so a long
  list of quiet orders never starves the newer ones);
* a backend with ``supports_inbox`` (Otofaktur Otoport) reads its inbox; ``apply`` finds
  the order by its UUID among the definition's orders.

Every report goes through ``apply_status_update`` (one place, idempotent by report key), so
a run repeated or overlapping changes nothing twice. Two runs at the same time do not work
on the same definition: each definition is taken under a lock (a PostgreSQL advisory lock,
or a file lock on the one host SQLite runs on); the second run skips it.
"""

import contextlib
import fcntl
import hashlib
import logging
import os

from django.conf import settings
from django.db import connection
from django.db.models import F
from django.utils import timezone

from branches.models import InterfaceDefinition
from otoorder.backends import registry
from otoorder.backends.exceptions import BackendError, ConfigurationError, TransientError

from . import throttle
from .choices import EventSource, OrderStatus
from .lab_updates import apply_status_update
from .models import EarmouldOrder

logger = logging.getLogger(__name__)

#: The statuses in which a lab still has something to tell (its answer to a question's reply,
#: or to a cancellation, included).
POLLED_STATUSES = (
    OrderStatus.ORDERED,
    OrderStatus.CONFIRMED,
    OrderStatus.IN_PRODUCTION,
    OrderStatus.SHIPPED,
    OrderStatus.ON_HOLD,
    OrderStatus.CANCEL_REQUESTED,
    OrderStatus.CANCEL_TO_REPORT,
)
#: After this many transient errors in a row the lab is down: leave the rest for the next run.
MAX_CONSECUTIVE_TRANSIENT = 3
#: Arbitrary first key of the advisory locks of this module (the second is per definition).
LOCK_NAMESPACE = 0x6F70


def batch_size():
    return int(getattr(settings, "OTOORDER_POLL_BATCH", 100))


def pollable_definitions(definitions=None):
    """``(definition, backend class)`` of the active definitions (of ``definitions``, default
    all) whose lab can be polled."""
    definitions = InterfaceDefinition.objects.all() if definitions is None else definitions
    for definition in definitions.filter(is_active=True).order_by("pk"):
        if not definition.is_active_on():
            continue
        try:
            backend_class = registry.get_backend_class(definition.backend)
        except ConfigurationError:
            continue
        if backend_class.supports_status_poll or backend_class.supports_inbox:
            yield definition, backend_class


def poll_all():
    """One run over every pollable definition in this process; ``{definition id: reports applied}``.

    The periodic task hands the definitions out to their labs' queues instead (``poll_one``).
    """
    results = {}
    for definition, backend_class in pollable_definitions():
        with definition_lock(definition) as acquired:
            if not acquired:
                logger.info("poll: definition %s is being polled by another run; skipped", definition.pk)
                continue
            results[str(definition.pk)] = poll_definition(definition, backend_class)
    return results


def poll_one(definition_id):
    """Poll one definition within its lab's limits (task ``poll_lab``, on the lab's queue).

    Returns the number of reports applied, or None when the definition is not pollable, is
    being polled by another run, or its lab is at its limits (``throttle``): a poll is not
    deferred, the next run asks again. One poll run counts as one transfer.
    """
    found = next(pollable_definitions(InterfaceDefinition.objects.filter(pk=definition_id)), None)
    if found is None:
        return None
    definition, backend_class = found
    ticket = throttle.acquire(throttle.limits_of(definition))
    if not ticket.granted:
        logger.info("poll: definition %s: its lab is at its limits; polled in the next run", definition.pk)
        return None
    try:
        with definition_lock(definition) as acquired:
            if not acquired:
                logger.info("poll: definition %s is being polled by another run; skipped", definition.pk)
                return None
            return poll_definition(definition, backend_class)
    finally:
        ticket.release()


def poll_definition(definition, backend_class=None):
    """Poll one definition (status and/or inbox); returns the number of reports applied."""
    backend_class = backend_class or registry.get_backend_class(definition.backend)
    try:
        backend = backend_class(definition.configured_options(), timeout=_timeout())
    except BackendError as exc:
        logger.warning("poll: definition %s is not usable: %s", definition.pk, exc.message)
        return 0
    applied = 0
    if backend.supports_status_poll:
        applied += poll_orders(definition, backend)
    if backend.supports_inbox:
        try:
            applied += read_inbox(definition, backend)
        except BackendError as exc:
            # An unreachable exchange server must not keep the other labs from being polled.
            logger.warning("poll: definition %s: inbox not read: %s", definition.pk, exc.message)
    return applied


# --- status polls ---------------------------------------------------------------------------


def pollable_orders(definition):
    return EarmouldOrder.objects.filter(
        interface_definition=definition, status__in=POLLED_STATUSES
    ).exclude(external_reference="")


def next_batch(definition, size=None):
    """Up to ``size`` orders, the longest unasked first (never asked before all others).

    Every poll stamps ``last_polled_at``, so a long list of quiet orders goes round and never
    starves the newer ones, on however many workers and hosts the task runs.
    """
    size = size or batch_size()
    return list(pollable_orders(definition).order_by(F("last_polled_at").asc(nulls_first=True), "created_at", "pk")[:size])


def poll_orders(definition, backend):
    applied = transient_in_a_row = 0
    for order in next_batch(definition):
        try:
            update = backend.poll_status(order.external_reference)
        except TransientError as exc:
            logger.warning("poll: order %s of definition %s: %s", order.pk, definition.pk, exc.message)
            transient_in_a_row += 1
            if transient_in_a_row >= MAX_CONSECUTIVE_TRANSIENT:
                logger.warning("poll: definition %s: lab unreachable; the rest waits for the next run", definition.pk)
                break
            continue
        except ConfigurationError as exc:
            # Wrong credentials or address: every further request would fail the same way.
            logger.warning("poll: definition %s: %s", definition.pk, exc.message)
            break
        except BackendError as exc:
            logger.warning("poll: order %s of definition %s: %s", order.pk, definition.pk, exc.message)
            continue
        finally:
            EarmouldOrder.objects.filter(pk=order.pk).update(last_polled_at=timezone.now())
        transient_in_a_row = 0
        applied += apply_status_update(order, update, source=EventSource.LAB)
    return applied


# --- inbox files ----------------------------------------------------------------------------


class UnknownOrder(LookupError):
    """An inbox report names an order of another definition: leave the file for that one."""


def read_inbox(definition, backend):
    """Apply the inbox's reports to the definition's orders; returns how many changed one.

    A report for an order nobody here placed is logged and not applied (its file still moves
    to ``processed/``, so it is not read again); one for an order of another definition
    stays in the inbox (two definitions sharing a folder is a configuration error).
    """
    applied = 0

    def apply(order_id, update):
        nonlocal applied
        order = EarmouldOrder.objects.filter(pk=order_id, interface_definition=definition).first()
        if order is None:
            if EarmouldOrder.objects.filter(pk=order_id).exists():
                raise UnknownOrder(order_id)
            logger.warning("poll: inbox of definition %s names unknown order %s; not applied", definition.pk, order_id)
            return
        applied += apply_status_update(order, update, source=EventSource.LAB)

    backend.read_inbox(apply)
    return applied


# --- the per-definition lock ----------------------------------------------------------------


@contextlib.contextmanager
def definition_lock(definition):
    """Yield True when this run may poll ``definition``; False when another run holds it."""
    if connection.vendor == "postgresql":
        key = advisory_key(definition)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_NAMESPACE, key])
            acquired = cursor.fetchone()[0]
        try:
            yield acquired
        finally:
            if acquired:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, key])
        return
    # SQLite runs on one host only: a lock file in the var folder serves the same purpose.
    folder = os.path.join(settings.VAR_DIR, "locks")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, f"poll-{definition.pk}.lock"), "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def advisory_key(definition):
    """The second (int4) key of the definition's advisory lock."""
    return int.from_bytes(hashlib.sha256(str(definition.pk).encode()).digest()[:4], "big", signed=True)


def _timeout():
    return settings.OTOORDER_DISPATCH["TRANSPORT_TIMEOUT"]
