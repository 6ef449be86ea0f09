"""Which queue a task goes to: one queue per interface backend (docs/operations.md, "Queues").

Orders, cancellations and answers to a lab, and the status poll of a definition, go to the
queue of the lab's backend (``lab.<backend>``, ``settings.OTOORDER_LAB_QUEUES``); everything
else (the sweeper, the poll run that hands out the polls, notifications) to ``celery``. A
worker started without ``-Q`` consumes every queue; ``-Q lab.dreve_smartorder`` makes one
that serves those labs only. Labs of one backend share its queue: what keeps one of them
from holding the others up is its own limit (``throttle``, ``lanes``).

Celery asks ``route_task`` (``CELERY_TASK_ROUTES``) for every task it publishes; the task's
first argument is the row's (or definition's) id, and one query finds its backend.
"""

from django.conf import settings

from branches.models import InterfaceDefinition

from . import cancellation, dispatch, lab_messages

#: The task that polls one definition (``tasks.poll_lab``); published by name.
POLL_TASK = "otoorder.orders.tasks.poll_lab"
#: The outbox kinds by task name.
OUTBOXES = {kind.task: kind for kind in (dispatch.ORDERS, cancellation.CANCELLATIONS, lab_messages.MESSAGES)}


def queue_name(backend):
    """The queue of ``backend``'s labs; an unknown key (a backend gone) goes to ``celery``."""
    return settings.OTOORDER_LAB_QUEUES.get(backend, settings.CELERY_TASK_DEFAULT_QUEUE)


def backend_of(task_name, row_id):
    """The backend key the task's row (or definition) talks to, or None."""
    if task_name == POLL_TASK:
        return InterfaceDefinition.objects.filter(pk=row_id).values_list("backend", flat=True).first()
    kind = OUTBOXES.get(task_name)
    if kind is None:
        return None
    return kind.model.objects.filter(pk=row_id).values_list("order__backend", flat=True).first()


def route_task(name, args, kwargs, options, task=None, **kw):
    """Celery's router: ``{"queue": "lab.<backend>"}`` for a lab's task, else None (default)."""
    if options.get("queue") or not args or (name != POLL_TASK and name not in OUTBOXES):
        return None
    backend = backend_of(name, args[0])
    if backend is None:
        return None
    return {"queue": queue_name(backend)}
