from django.contrib import admin

from .models import Complaint, ComplaintReason


@admin.register(ComplaintReason)
class ComplaintReasonAdmin(admin.ModelAdmin):
    list_display = ["label", "code", "category", "chain", "active", "position"]
    list_filter = ["chain", "category", "active"]


@admin.register(Complaint)
class ComplaintAdmin(admin.ModelAdmin):
    list_display = ["order", "reason", "status", "outcome", "cost_bearer", "amount", "created_at"]
    list_filter = ["status", "outcome", "cost_bearer"]
    raw_id_fields = ["order", "remake_order"]
    readonly_fields = ["created_by", "created_at", "decided_at", "closed_at"]
