from django.urls import path

from . import views

app_name = "orders"
urlpatterns = [
    path("", views.order_list, name="order_list"),
    path("<uuid:pk>/", views.order_detail, name="order_detail"),
    path("<uuid:pk>/status/", views.order_status, name="order_status"),
    path("<uuid:pk>/erneut-senden/", views.order_resend, name="order_resend"),
    path("<uuid:pk>/bestaetigen/", views.order_confirm, name="order_confirm"),
    path("<uuid:pk>/stornieren/", views.order_cancel, name="order_cancel"),
    path("<uuid:pk>/portal/", views.portal_handoff, name="portal_handoff"),
    path("<uuid:pk>/bestellformular.pdf", views.order_pdf, name="order_pdf"),
]
