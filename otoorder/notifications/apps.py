from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "otoorder.notifications"
    label = "notifications"
    verbose_name = _("Benachrichtigungen")

    def ready(self):
        # The receiver that turns order events into notifications (``signals``).
        from . import signals  # noqa: F401
