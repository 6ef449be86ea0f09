from django.db import models
from django.utils.translation import gettext_lazy as _

from otoorder.orders.choices import ComplaintOutcome as Outcome  # noqa: F401 (the API and forms use it from here)
from otoorder.orders.choices import CostBearer  # noqa: F401
from otoorder.orders.choices import ReasonCategory  # noqa: F401 (remake orders carry the category too)


class ComplaintStatus(models.TextChoices):
    OPEN = "open", _("offen")
    REPORTED = "reported", _("an Labor gemeldet")
    DECIDED = "decided", _("Entscheidung des Labors")
    DONE = "done", _("erledigt")


#: The standard reasons every chain starts with: (code, German label, category).
STANDARD_REASONS = (
    ("fit_pressure", "passt nicht / drückt", ReasonCategory.FIT),
    ("feedback", "Rückkopplung", ReasonCategory.FIT),
    ("retention", "Halt", ReasonCategory.FIT),
    ("material_breakage", "Material/Bruch", ReasonCategory.MATERIAL),
    ("wrong_execution", "falsche Ausführung", ReasonCategory.MATERIAL),
    ("loss", "Verlust", ReasonCategory.MATERIAL),
)
