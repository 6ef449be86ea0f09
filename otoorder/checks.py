"""System checks that keep production off the embedded development defaults.

Development runs on SQLite in ``var/`` and on kombu's filesystem broker, so that ``make run``
needs no server. In production (``DJANGO_ENV=production``) those defaults would lose orders
(a file broker is not shared between machines, SQLite locks under several workers), so they
are errors:

* ``otoorder.E001`` — ``DATABASE_URL`` is not set;
* ``otoorder.E002`` — the database is SQLite;
* ``otoorder.E003`` — the Celery broker is the filesystem (or in-memory) transport.

The checks run with every ``manage.py`` command that runs system checks (``check``,
``check --deploy``, ``migrate``, …). gunicorn and Celery run no system checks, so
``otoorder/wsgi.py`` and ``otoorder/celery.py`` call ``refuse_unsafe_production()`` at start
and the process ends with the same messages.
"""

import os

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

#: Broker transports that live inside one machine or one process.
EMBEDDED_BROKERS = ("filesystem", "memory")


@checks.register("otoorder")
def production_defaults(app_configs=None, **kwargs):
    if not getattr(settings, "PRODUCTION", False):
        return []
    errors = []
    if not os.environ.get("DATABASE_URL"):
        errors.append(
            checks.Error(
                "DATABASE_URL is not set: production needs its PostgreSQL database.",
                hint="Set DATABASE_URL=postgres://user:password@host:5432/otoorder.",
                id="otoorder.E001",
            )
        )
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        errors.append(
            checks.Error(
                "The database is SQLite: it is for development only and not allowed in production.",
                hint="Point DATABASE_URL at PostgreSQL.",
                id="otoorder.E002",
            )
        )
    scheme = str(getattr(settings, "CELERY_BROKER_URL", "") or "filesystem://").split(":", 1)[0].lower()
    if scheme in EMBEDDED_BROKERS:
        errors.append(
            checks.Error(
                f"The Celery broker is kombu's {scheme} transport: it is for development only and "
                "not allowed in production.",
                hint="Set CELERY_BROKER_URL=redis://host:6379/0.",
                id="otoorder.E003",
            )
        )
    return errors


def refuse_unsafe_production():
    """Raise ``ImproperlyConfigured`` with every error of ``production_defaults``."""
    errors = production_defaults()
    if errors:
        raise ImproperlyConfigured(
            "otoorder refuses to start in production:\n"
            + "\n".join(f"  {error.id}: {error.msg} HINT: {error.hint}" for error in errors)
        )
