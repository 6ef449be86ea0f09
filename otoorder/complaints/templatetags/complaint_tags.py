"""The order page's complaints panel: the order's complaints (one query with their reasons)
and the link to raise one when the order may be complained about (``services.can_complain``)."""

from django import template

from otoorder.complaints import services
from otoorder.complaints.models import Complaint

register = template.Library()


@register.inclusion_tag("orders/_complaints.html")
def order_complaints(order):
    return {
        "order": order,
        "complaints": list(Complaint.objects.filter(order=order).select_related("reason", "remake_order")),
        "can_complain": services.can_complain(order),
    }
