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
            duplicates = Customer.objects.duplicates_for(self.context["request"].user, attrs)
            if duplicates:
                shown = [customer for customer, visible in duplicates if visible]
                raise DuplicateCustomer(shown, len(duplicates) - len(shown))
        return attrs
