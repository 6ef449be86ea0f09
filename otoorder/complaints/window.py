"""The free-remake proposal: is a complaint inside the lab's free-remake window?

The window is the supplier's (branch administration; defaults 90 days for fit, 12 months for
material, DOMAIN.md §8), counted from delivery by ``orders.warranty``: a fit reason asks the
fit window, a material reason the material window.
"""

from dataclasses import dataclass
from datetime import date

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from otoorder.orders import warranty

from .choices import ReasonCategory


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
            return _("Innerhalb des Fensters für die kostenlose Nachfertigung (bis %(date)s).") % {"date": date_format(self.until, "SHORT_DATE_FORMAT")}
        return _("Das Fenster für die kostenlose Nachfertigung endete am %(date)s: das Labor kann berechnen.") % {
            "date": date_format(self.until, "SHORT_DATE_FORMAT")
        }


def window_end(order, category):
    """The last day of the free-remake window of ``order`` for a reason ``category``; None
    when the earmoulds were never delivered."""
    found = warranty.windows(order)
    return found.material_until if category == ReasonCategory.MATERIAL else found.fit_until


def proposal(order, category, today=None):
    until = window_end(order, category)
    if until is None:
        return Proposal(False, None, "not_received")
    today = today or timezone.localdate()
    inside = today <= until
    return Proposal(inside, until, "inside_window" if inside else "outside_window")
