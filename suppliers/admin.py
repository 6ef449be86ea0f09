from django.contrib import admin

from .models import Company, Supplier


class SupplierInline(admin.TabularInline):
    model = Supplier
    extra = 0
    fields = ["name", "order_method", "order_email", "fax_number", "is_active"]


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    inlines = [SupplierInline]


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):
    list_display = ["display_name", "company", "order_method", "order_email", "is_active"]
    list_filter = ["order_method", "is_active"]
    search_fields = ["name", "company__name", "order_email"]
