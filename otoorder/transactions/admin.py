"""Django admin (superusers only, see ``branches.admin``): templates are edited here;
customers and transactions are looked at, not changed, outside the application."""

from django.contrib import admin

from branches.admin import ReadOnlyAdmin

from .models import Customer, Step, TemplateStep, Transaction, TransactionTemplate


class TemplateStepInline(admin.TabularInline):
    model = TemplateStep
    extra = 0
    fields = ["position", "step_type", "title", "predefined_company", "predefined_supplier"]


@admin.register(TransactionTemplate)
class TransactionTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    inlines = [TemplateStepInline]


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin):
    list_display = ["customer_number", "branch", "created_at"]
    list_filter = ["branch"]
    search_fields = ["=customer_number"]


class StepInline(admin.TabularInline):
    model = Step
    extra = 0
    can_delete = False
    fields = ["position", "step_type", "title", "predefined_company", "predefined_supplier", "done_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = ["name", "branch", "created_at"]
    list_filter = ["branch"]
    inlines = [StepInline]
