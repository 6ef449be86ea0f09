"""API of goods receipt, fitting and closing: ``POST /api/v1/orders/{id}/receive/``,
``/fit/`` and ``/close/``.

Input serializers only shape the request; the rules are ``otoorder.orders.lifecycle``.
The order is looked up through the viewset (scoped to the user's branches: another
branch's order answers 404). A refused transition answers 409, invalid input 400.
"""

from rest_framework import serializers

from otoorder.orders import lifecycle

from . import serializers as s


class ReceiveSerializer(serializers.Serializer):
    """``{"serials": {"right": "R-123", "left": "L-456"}}``: the serial number per ear."""

    serials = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=50), required=False, default=dict
    )
    received_at = serializers.DateTimeField(required=False, allow_null=True)


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
        view.get_object(), user=request.user, serials=data["serials"], received_at=data.get("received_at")
    )


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
