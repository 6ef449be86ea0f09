"""Customers of the branches the user sees.
"""

from rest_framework import serializers

from branches.models import Branch
from otoorder.transactions.models import Customer

from .common import ScopedRelatedField


def _visible_branches(request):
    return Branch.objects.visible_to(request.user)


class CustomerSerializer(serializers.ModelSerializer):
    branch = ScopedRelatedField(scope=_visible_branches, queryset=Branch.objects.all())

    class Meta:
        model = Customer
        fields = ["id", "customer_number", "branch", "first_name", "last_name", "birth_date", "created_at"]
        read_only_fields = ["customer_number", "created_at"]
        extra_kwargs = {"birth_date": {"required": False, "allow_null": True}}
