"""Template helpers of the order pages: one colour per category of status, the same everywhere; the order's
schedule (ETA, overdue, at risk) and its tracking link."""

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from otoorder.orders import schedule
from otoorder.orders.choices import STATUS_CATEGORY, OrderStatus, StatusCategory, WorklistCount
from otoorder.vocabulary import Carrier, Side

register = template.Library()

C = StatusCategory
#: One colour per category of status (``choices.STATUS_CATEGORY``), the same on every page:
#: Bootstrap's contextual backgrounds with their contrasting text (WCAG AA), and the status's
#: name always written in the badge, so colour is never the only signal.
CATEGORY_CLASSES = {
    C.ATTENTION: "text-bg-danger",
    C.ORDERING: "text-bg-warning",
    C.AT_LAB: "text-bg-primary",
    C.IN_TRANSIT: "text-bg-info",
    C.TO_FIT: "text-bg-success",
    C.DONE: "text-bg-secondary",
    C.CANCELLED: "text-bg-dark",
}
#: The worklist's counts take the colour of the statuses they count (received: in transit).
COUNT_CLASSES = {
    **{count: CATEGORY_CLASSES[C(count)] for count in WorklistCount.values if count in C.values},
    WorklistCount.RECEIPT_DUE: CATEGORY_CLASSES[C.IN_TRANSIT],
}


def badge_class(status):
    """The badge class of an order status (its category's colour)."""
    category = STATUS_CATEGORY.get(status)
    return CATEGORY_CLASSES[category] if category else "text-bg-secondary"


@register.simple_tag
def status_badge(status, element_id=""):
    """A Bootstrap badge with the label of an order status in its category's colour."""
    category = STATUS_CATEGORY.get(status, "")
    return format_html(
        '<span class="badge status-badge {}"{} data-status="{}" data-category="{}">{}</span>',
        badge_class(status),
        format_html(' id="{}"', element_id) if element_id else "",
        status,
        category,
        OrderStatus(status).label if status in OrderStatus.values else status,
    )


@register.simple_tag
def count_class(count):
    """The badge class of one of the worklist's counts."""
    return COUNT_CLASSES.get(count, "text-bg-secondary")


@register.simple_tag
def order_ears(order):
    """The order's ears, right first, as words in the ear colours (from prefetched items)."""
    sides = sorted({item.side for item in order.items.all()}, key=lambda side: side != Side.RIGHT)
    return format_html_join(
        ", ", '<span class="ear-label ear-label-{}">{}</span>', ((side, Side(side).label) for side in sides)
    )


@register.simple_tag
def order_schedule(order):
    """The order's ETA, overdue, at risk and days late (``schedule.Schedule``), no query."""
    return schedule.schedule_of(order)


@register.simple_tag
def schedule_badges(order):
    """"überfällig (n Tage)" or "gefährdet" as badges with text (not colour alone); "" otherwise."""
    info = schedule.schedule_of(order)
    if info.overdue:
        text = ngettext("überfällig seit %(days)d Tag", "überfällig seit %(days)d Tagen", info.days_late) % {
            "days": info.days_late
        }
        return format_html(
            '<span class="badge text-bg-danger schedule-badge" data-schedule="overdue">'
            '<i class="bi bi-alarm me-1" aria-hidden="true"></i>{}</span>',
            text,
        )
    if info.at_risk:
        return format_html(
            '<span class="badge text-bg-warning schedule-badge" data-schedule="at_risk" title="{}">'
            '<i class="bi bi-hourglass-split me-1" aria-hidden="true"></i>{}</span>',
            _("Der voraussichtliche Liefertermin liegt nach dem Datum „benötigt bis“."),
            _("gefährdet"),
        )
    return ""


@register.simple_tag
def tracking_link(order):
    """The tracking number as a link to the carrier's page (opens in a new tab), else as text."""
    if not order.tracking_number:
        return ""
    url = order.tracking_url
    if not url:
        return format_html('<span class="tracking-number">{}</span>', order.tracking_number)
    carrier = Carrier(order.tracking_carrier).label
    return format_html(
        '<a href="{}" class="tracking-link" target="_blank" rel="noopener noreferrer" title="{}">{}'
        '<i class="bi bi-box-arrow-up-right ms-1" aria-hidden="true"></i></a> <span class="text-body-secondary">({})</span>',
        url,
        _("Sendungsverfolgung bei %(carrier)s öffnen") % {"carrier": carrier},
        order.tracking_number,
        carrier,
    )
