from django.urls import path

app_name = "transactions"
urlpatterns = []
