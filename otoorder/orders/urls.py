from django.urls import path

from . import attachment_views, impression_views, views

app_name = "orders"
urlpatterns = [
    path("", views.order_list, name="order_list"),
    path("<uuid:pk>/", views.order_detail, name="order_detail"),
    path("<uuid:pk>/erneut-senden/", views.order_resend, name="order_resend"),
    path("<uuid:pk>/bestaetigen/", views.order_confirm, name="order_confirm"),
    path("<uuid:pk>/stornieren/", views.order_cancel, name="order_cancel"),
    path("<uuid:pk>/stornierung-gemeldet/", views.order_cancel_report, name="order_cancel_report"),
    path("<uuid:pk>/nachricht/", views.order_message, name="order_message"),
    path("<uuid:pk>/rueckfrage/", views.order_question, name="order_question"),
    path("<uuid:pk>/wareneingang/", views.order_receive, name="order_receive"),
    path("<uuid:pk>/seriennummer/", views.order_serial, name="order_serial"),
    path("<uuid:pk>/anpassung/", views.order_fit, name="order_fit"),
    path("<uuid:pk>/abschliessen/", views.order_close, name="order_close"),
    path("<uuid:pk>/reklamation/", views.order_remake, name="order_remake"),
    path("<uuid:pk>/portal/", views.portal_handoff, name="portal_handoff"),
    path("<uuid:pk>/bestellformular.pdf", views.order_pdf, name="order_pdf"),
    path("abdruecke/kunde/<uuid:customer_pk>/", impression_views.customer_impressions, name="customer_impressions"),
    path(
        "abdruecke/kunde/<uuid:customer_pk>/<str:side>/neu/",
        impression_views.impression_create,
        name="impression_create",
    ),
    path("abdruecke/<uuid:pk>/", impression_views.impression_detail, name="impression_detail"),
    path("abdruecke/<uuid:pk>/datei/", impression_views.impression_file, name="impression_file"),
    path("<uuid:pk>/anhaenge/", attachment_views.attachment_upload, name="attachment_upload"),
    path("anhaenge/<uuid:pk>/", attachment_views.attachment_download, name="attachment_download"),
]
