from django.urls import path

app_name = "branches"
urlpatterns = []
