from django.urls import path

from . import views

app_name = "transactions"
urlpatterns = [
    path("", views.customer_list, name="customer_list"),
    path("neu/", views.customer_create, name="customer_create"),
    path("<uuid:pk>/", views.customer_detail, name="customer_detail"),
    path("<uuid:pk>/vorgang-starten/", views.transaction_start, name="transaction_start"),
    path("<uuid:pk>/nachbestellen/", views.customer_reorder, name="customer_reorder"),
    path("<uuid:pk>/folgebestellung/", views.follow_up_order, name="follow_up_order"),
    path("<uuid:pk>/folgebestellung/vorschau/", views.follow_up_preview, name="follow_up_preview"),
    path("vorgang/<uuid:pk>/", views.transaction_detail, name="transaction_detail"),
    path("vorgang/<uuid:pk>/bestellservice/", views.order_service, name="order_service"),
    path(
        "vorgang/<uuid:pk>/bestellservice/vorschau/",
        views.order_service_preview,
        name="order_service_preview",
    ),
]
