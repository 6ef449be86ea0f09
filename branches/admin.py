"""Django admin, for superusers only (a repair tool, not the branch administration).

Interface definitions are shown read-only and without their secrets: their rules (ties,
option schemas, encrypted secrets) are enforced in branch administration and the API.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Branch, Chain, InterfaceDefinition, Membership, SupplierAccount


def superuser_only(request):
    """Replaces ``AdminSite.has_permission``: ``is_staff`` alone does not open the admin."""
    return request.user.is_active and request.user.is_superuser


admin.site.has_permission = superuser_only
admin.site.site_header = _("otoorder – Systemverwaltung")
admin.site.site_title = _("otoorder")


class ReadOnlyAdmin(admin.ModelAdmin):
    """View-only: records whose rules live in services are never edited here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class BranchInline(admin.TabularInline):
    model = Branch
    extra = 0
    fields = ["name", "code", "city", "email"]


@admin.register(Chain)
class ChainAdmin(admin.ModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]
    inlines = [BranchInline]


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = ["name", "chain", "code", "city", "email"]
    list_filter = ["chain"]
    search_fields = ["name", "code", "city"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "chain", "branch"]
    list_filter = ["role", "chain", "branch"]
    search_fields = ["user__username"]
    autocomplete_fields = ["user"]


@admin.register(SupplierAccount)
class SupplierAccountAdmin(admin.ModelAdmin):
    list_display = ["branch", "supplier", "account_number"]
    list_filter = ["branch"]
    search_fields = ["account_number", "supplier__name", "supplier__company__name"]


@admin.register(InterfaceDefinition)
class InterfaceDefinitionAdmin(ReadOnlyAdmin):
    list_display = ["name", "backend", "chain", "branch", "active_from", "supplier", "is_active"]
    list_filter = ["backend", "chain", "branch", "is_active"]
    search_fields = ["name"]
    # ``secrets`` is deliberately absent: write-only, never shown again.
    fields = [
        "name",
        "backend",
        "chain",
        "branch",
        "active_from",
        "companies",
        "supplier",
        "options",
        "secret_names",
        "is_active",
        "max_parallel_sends",
        "sends_per_minute",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields

    @admin.display(description=_("Zugangsdaten gesetzt"))
    def secret_names(self, obj):
        return ", ".join(obj.secret_names_set()) or "—"
