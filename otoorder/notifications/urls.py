from django.urls import path

from . import views

app_name = "notifications"
urlpatterns = [
    path("", views.notification_list, name="list"),
    path("glocke/", views.bell, name="bell"),
    path("gelesen/", views.notification_read_all, name="read_all"),
    path("einstellungen/", views.preferences, name="preferences"),
    path("<int:pk>/oeffnen/", views.notification_open, name="open"),
    path("<int:pk>/gelesen/", views.notification_read, name="read"),
]
