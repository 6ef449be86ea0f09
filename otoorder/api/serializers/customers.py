"""Customers of the branches the user sees.
"""

from rest_framework import serializers

from branches.models import Branch
from otoorder.transactions.models import Customer

from ..exceptions import DuplicateCustomer
from .common import ScopedRelatedField


def _visible_branches(request):
    return Branch.objects.visible_to(request.user)


class CustomerSerializer(serializers.ModelSerializer):
    branch = ScopedRelatedField(scope=_visible_branches, queryset=Branch.objects.all())
    confirm_duplicate = serializers.BooleanField(
        write_only=True,
        required=False,
        default=False,
        help_text="Create the customer although the chain has one of the same name and birth date "
        "(else 409 duplicate_customer).",
    )

    class Meta:
        model = Customer
        fields = ["id", "customer_number", "branch", "first_name", "last_name", "birth_date", "created_at", "confirm_duplicate"]
        read_only_fields = ["customer_number", "created_at"]
        extra_kwargs = {"birth_date": {"required": False, "allow_null": True}}

    def validate(self, attrs):
        attrs = super().validate(attrs)
        confirmed = attrs.pop("confirm_duplicate", False)
        if self.instance is None and not confirmed:
            namesakes = list(
                Customer.objects.namesakes(
                    branch=attrs.get("branch"),
                    first_name=attrs.get("first_name"),
                    last_name=attrs.get("last_name"),
                    birth_date=attrs.get("birth_date"),
                )[:5]
            )
            if namesakes:
                request = self.context["request"]
                visible = set(Customer.objects.visible_to(request.user).filter(pk__in=[c.pk for c in namesakes]).values_list("pk", flat=True))
                shown = [customer for customer in namesakes if customer.pk in visible]
                raise DuplicateCustomer(shown, len(namesakes) - len(shown))
        return attrs
