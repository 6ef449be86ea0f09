from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    name = "otoorder.complaints"
    label = "complaints"
    verbose_name = _("Reklamationen")

    def ready(self):
        # A new chain starts with the standard list of complaint reasons (``signals``).
        from . import signals  # noqa: F401
