import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "otoorder.settings")
application = get_wsgi_application()

from otoorder.checks import refuse_unsafe_production  # noqa: E402 - needs the settings above

# gunicorn runs no system checks: production on the embedded defaults stops here.
refuse_unsafe_production()
