from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "otoorder.api"
    label = "api"
    verbose_name = "API"
