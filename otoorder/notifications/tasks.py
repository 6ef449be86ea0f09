"""Beat tasks of the notifications: overdue orders (hourly) and the daily e-mail digest."""

from celery import shared_task

from . import digest, overdue


@shared_task(name="otoorder.notifications.tasks.notify_overdue", ignore_result=True)
def notify_overdue():
    return overdue.notify_overdue()


@shared_task(name="otoorder.notifications.tasks.send_digests", ignore_result=True)
def send_digests():
    return digest.send_digests()
