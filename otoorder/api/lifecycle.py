"""API of goods receipt, fitting and closing: ``POST /api/v1/orders/{id}/receive/``,
``/serial/`` (corrections after the receipt), ``/fit/`` and ``/close/``.

Input serializers only shape the request; the rules are ``otoorder.orders.lifecycle``.
The order is looked up through the viewset (scoped to the user's branches: another
branch's order answers 404). A refused transition answers 409, invalid input 400.
"""

from rest_framework import serializers

from otoorder.orders import lifecycle
from otoorder.vocabulary import Side

from . import serializers as s


class ReceiveSerializer(serializers.Serializer):
    """``{"serials": {"right": "R-123"}, "without_serial": ["left"]}``: every ear of the order
    has its serial number or is named in ``without_serial``."""

    serials = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=50), required=False, default=dict
    )
    without_serial = serializers.ListField(
        child=serializers.ChoiceField(choices=Side.choices),
        required=False,
        default=list,
        max_length=2,
        help_text="Ears whose earmould carries no serial number (instead of a serial in `serials`).",
    )
    received_at = serializers.DateTimeField(required=False, allow_null=True)


class SerialSerializer(serializers.Serializer):
    """A serial number added or corrected after the goods receipt (empty: the ear has none)."""

    side = serializers.ChoiceField(choices=Side.choices)
    serial = serializers.CharField(allow_blank=True, max_length=50)


class FitSerializer(serializers.Serializer):
    fitted_on = serializers.DateField(required=False, allow_null=True, help_text="Standard: heute")
    warranty_months = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=120, help_text="Standard: OTOORDER_WARRANTY_MONTHS"
    )


class CloseSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


def _valid(serializer_class, request):
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def receive(view, request):
    data = _valid(ReceiveSerializer, request)
    return lifecycle.receive(
        view.get_object(),
        user=request.user,
        serials=data["serials"],
        without_serial=data["without_serial"],
        received_at=data.get("received_at"),
    )


def correct_serial(view, request):
    order = view.get_object()  # another branch's order: 404 before the body is read
    data = _valid(SerialSerializer, request)
    return lifecycle.correct_serial(order, user=request.user, side=data["side"], serial=data["serial"])


def fit(view, request):
    data = _valid(FitSerializer, request)
    return lifecycle.fit(
        view.get_object(),
        user=request.user,
        fitted_on=data.get("fitted_on"),
        warranty_months=data.get("warranty_months"),
    )


def close(view, request):
    data = _valid(CloseSerializer, request)
    return lifecycle.close(view.get_object(), user=request.user, reason=data.get("reason", ""))


def detail(view, order):
    """The order after the step, read again through the viewset's scoped queryset."""
    view.action = "retrieve"
    return s.OrderSerializer(view.get_queryset().get(pk=order.pk), context=view.get_serializer_context()).data
