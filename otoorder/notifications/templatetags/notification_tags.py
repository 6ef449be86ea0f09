"""The bell of the navigation: ``{% notification_bell %}`` (one indexed count query)."""

from django import template

from ..services import bell_context, unread_count
from ..texts import message, tracking_link

register = template.Library()


@register.inclusion_tag("notifications/_bell.html", takes_context=True)
def notification_bell(context):
    request = context.get("request")
    return bell_context(unread_count(getattr(request, "user", None)))


@register.filter
def notification_text(notification):
    """The notification's sentence in the active language."""
    return message(notification)


@register.filter
def notification_tracking_url(notification):
    """The tracking page of a shipped notification, or ""."""
    return tracking_link(notification)
