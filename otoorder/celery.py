"""The Celery application: configuration comes from Django's settings (CELERY_* names)."""

import os

from celery import Celery
from celery.signals import beat_init, task_postrun, task_prerun, worker_init
from django.core.exceptions import ImproperlyConfigured

from otoorder import logcontext
from otoorder.checks import refuse_unsafe_production as check_production

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "otoorder.settings")

app = Celery("otoorder")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@beat_init.connect
def refuse_unsafe_production(**kwargs):
    """Worker and beat run no system checks: production on the embedded defaults stops here.

    Celery logs and swallows an ``Exception`` from a signal handler; ``SystemExit`` ends the process.
    """
    try:
        check_production()
    except ImproperlyConfigured as exc:
        raise SystemExit(str(exc)) from None


@task_prerun.connect
@task_postrun.connect
def forget_order(**kwargs):
    """A task starts and ends with no order bound to its log records (``otoorder.logcontext``)."""
    logcontext.clear()


@app.task(name="otoorder.noop")
def noop():
    """A task that does nothing: the benchmark's yardstick for the broker's own overhead."""
    return None
