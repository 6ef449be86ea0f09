"""Template helpers of the order pages: one colour per status, the same everywhere; the order's
schedule (ETA, overdue, at risk) and its tracking link."""

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from otoorder.orders import schedule
from otoorder.orders.choices import OrderStatus
from otoorder.vocabulary import Carrier

register = template.Library()

S = OrderStatus
BADGE_CLASSES = {
    S.DRAFT: "text-bg-secondary",
    S.QUEUED: "text-bg-info",
    S.SENDING: "text-bg-info",
    S.AWAITING_MANUAL: "text-bg-warning",
    S.AWAITING_PORTAL: "text-bg-warning",
    S.ORDERED: "text-bg-primary",
    S.CONFIRMED: "text-bg-primary",
    S.IN_PRODUCTION: "text-bg-primary",
    S.SHIPPED: "text-bg-primary",
    S.RECEIVED: "text-bg-success",
    S.FITTED: "text-bg-success",
    S.CLOSED: "text-bg-success",
    S.FAILED: "text-bg-danger",
    S.REJECTED_BY_LAB: "text-bg-danger",
    S.CANCELLED: "text-bg-dark",
}


@register.simple_tag
def status_badge(status, element_id=""):
    """A Bootstrap badge with the German label of an order status."""
    return format_html(
        '<span class="badge status-badge {}"{} data-status="{}">{}</span>',
        BADGE_CLASSES.get(status, "text-bg-secondary"),
        format_html(' id="{}"', element_id) if element_id else "",
        status,
        OrderStatus(status).label if status in OrderStatus.values else status,
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
