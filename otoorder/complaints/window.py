"""The free-remake proposal: is a complaint inside the lab's free-remake window?

One small function, computed from the goods receipt (``received_at``): 90 days for a fit
reason, 12 months for a material reason (the defaults of DOMAIN.md §8). The supplier's own
windows (branch administration) replace the defaults once the window module holds them.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from otoorder.orders.lifecycle import add_months

from .choices import ReasonCategory

FIT_DAYS = 90
MATERIAL_MONTHS = 12


@dataclass(frozen=True)
class Proposal:
    free: bool
    until: date | None
    code: str  # inside_window | outside_window | not_received

    @property
    def why(self):
        if self.code == "not_received":
            return _("Kein Wareneingang erfasst: das Fenster für die kostenlose Nachfertigung ist unbekannt.")
        if self.free:
            return _("Innerhalb des Fensters für die kostenlose Nachfertigung (bis %(date)s).") % {"date": self.until.isoformat()}
        return _("Das Fenster für die kostenlose Nachfertigung endete am %(date)s: das Labor kann berechnen.") % {
            "date": self.until.isoformat()
        }


def window_end(order, category):
    """The last day of the free-remake window of ``order`` for a reason ``category``; None
    when the earmoulds were never received."""
    if order.received_at is None:
        return None
    received = timezone.localdate(order.received_at)
    if category == ReasonCategory.MATERIAL:
        return add_months(received, MATERIAL_MONTHS)
    return received + timedelta(days=FIT_DAYS)


def proposal(order, category, today=None):
    until = window_end(order, category)
    if until is None:
        return Proposal(False, None, "not_received")
    today = today or timezone.localdate()
    inside = today <= until
    return Proposal(inside, until, "inside_window" if inside else "outside_window")
