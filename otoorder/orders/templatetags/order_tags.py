"""Template helpers of the order pages: one colour per status, the same everywhere."""

from django import template
from django.utils.html import format_html

from otoorder.orders.choices import OrderStatus

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
    S.CANCEL_REQUESTED: "text-bg-warning",
    S.CANCEL_TO_REPORT: "text-bg-warning",
    S.ON_HOLD: "text-bg-warning",
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
