"""Django admin (superusers only, see ``branches.admin``): orders and their history are
read-only here; status changes go through ``otoorder.orders.services`` and nowhere else."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from branches.admin import ReadOnlyAdmin

from .models import Attempt, Dispatch, EarmouldOrder, Impression, OrderEvent, OrderItem


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OrderItemInline(ReadOnlyInline):
    model = OrderItem


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fields = ["created_at", "from_status", "to_status", "source", "actor", "message"]


class AttemptInline(ReadOnlyInline):
    model = Attempt
    fields = ["number", "started_at", "duration_ms", "outcome", "permanent", "error", "worker"]


@admin.register(EarmouldOrder)
class EarmouldOrderAdmin(ReadOnlyAdmin):
    list_display = ["number", "status", "branch", "company", "supplier", "backend", "created_at"]
    list_filter = ["status", "backend", "branch"]
    search_fields = ["=number", "external_reference"]
    exclude = ["customer"]
    inlines = [OrderItemInline, OrderEventInline, AttemptInline]


@admin.register(OrderEvent)
class OrderEventAdmin(ReadOnlyAdmin):
    list_display = ["order", "created_at", "from_status", "to_status", "source", "actor"]
    list_filter = ["source", "to_status"]
    search_fields = ["=order__number"]


@admin.register(Dispatch)
class DispatchAdmin(ReadOnlyAdmin):
    list_display = ["order", "state", "attempt_count", "due_at", "claimed_at", "last_enqueued_at"]
    list_filter = ["state"]


@admin.register(Attempt)
class AttemptAdmin(ReadOnlyAdmin):
    list_display = ["order", "number", "started_at", "outcome", "permanent", "duration_ms"]
    list_filter = ["outcome", "permanent"]


@admin.register(Impression)
class ImpressionAdmin(ReadOnlyAdmin):
    list_display = ["customer_id", "side", "kind", "reference", "created_at"]
    list_filter = ["side", "kind"]
    # The file's name only: the admin's link would be the storage's URL (with an object store,
    # a signed link to the store itself); scans leave only through the branch-checked view.
    exclude = ["file"]
    readonly_fields = ["stored_name"]

    @admin.display(description=_("Scan-Datei"))
    def stored_name(self, impression):
        return impression.file.name or "–"
