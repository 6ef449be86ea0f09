from django.apps import AppConfig

from . import checks  # noqa: F401 - registers the production checks


class OtoorderConfig(AppConfig):
    """The project package as an app: its system checks and the login lock-out's log record."""

    name = "otoorder"
    verbose_name = "otoorder"

    def ready(self):
        from . import login  # noqa: F401 - connects the lock-out log (needs the models)
