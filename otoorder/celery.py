"""The Celery application: configuration comes from Django's settings (CELERY_* names)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "otoorder.settings")

app = Celery("otoorder")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="otoorder.noop")
def noop():
    """A task that does nothing: the benchmark's yardstick for the broker's own overhead."""
    return None
