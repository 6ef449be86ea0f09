from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    name = "otoorder.complaints"
    label = "complaints"
    verbose_name = _("Reklamationen")

    def ready(self):
        # A new chain starts with the standard list of complaint reasons (``signals``).
        from otoorder.orders.signals import lab_complaint_decision

        from . import services, signals  # noqa: F401

        # A lab's decision on a remake, reported through its interface, decides the complaint.
        lab_complaint_decision.connect(services.on_lab_decision, dispatch_uid="complaints.lab_decision")
