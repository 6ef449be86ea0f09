from django.apps import AppConfig

from . import checks  # noqa: F401 - registers the production checks


class OtoorderConfig(AppConfig):
    """The project package as an app: its system checks (``otoorder/checks.py``)."""

    name = "otoorder"
    verbose_name = "otoorder"
