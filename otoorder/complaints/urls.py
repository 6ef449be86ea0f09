from django.urls import path

from . import views

app_name = "complaints"

urlpatterns = [
    path("", views.complaint_list, name="complaint_list"),
    path("bestellung/<uuid:pk>/neu/", views.complaint_create, name="complaint_create"),
    path("<uuid:pk>/", views.complaint_detail, name="complaint_detail"),
    path("<uuid:pk>/gemeldet/", views.complaint_report, name="complaint_report"),
    path("<uuid:pk>/entscheidung/", views.complaint_decide, name="complaint_decide"),
    path("<uuid:pk>/erledigt/", views.complaint_close, name="complaint_close"),
    path("foto/<uuid:pk>/", views.photo_download, name="photo_download"),
    path("gruende/", views.reason_list, name="reason_list"),
    path("gruende/<int:pk>/", views.reason_list, name="reason_edit"),
]
