"""Settings of otoorder, read from the environment (django-environ).

Two modes:

* ``DJANGO_ENV=development`` (the default, used by ``make run``): SQLite in ``var/``, a Celery
  broker on kombu's filesystem transport in ``var/broker`` (no server needed), demo mode on.
* ``DJANGO_ENV=production``: every secret must come from the environment; PostgreSQL via
  ``DATABASE_URL``, Redis via ``CELERY_BROKER_URL``; HTTPS-only cookies and HSTS, so that
  ``manage.py check --deploy`` is clean.
"""

import ipaddress
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.utils.translation import gettext_lazy as _

from otoorder.backends.registry import BACKENDS as _BACKENDS
from otoorder.storage import default_storage_settings

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("OTOORDER_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
PRODUCTION = DJANGO_ENV == "production"

if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY")
    # Salt of the key that encrypts lab credentials (django-fernet-encrypted-fields).
    SALT_KEY = env.list("OTOORDER_SECRET_SALT")
    DEBUG = False
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="otoorder-development-only-not-secret")
    SALT_KEY = env.list("OTOORDER_SECRET_SALT", default=["otoorder-development-salt"])
    DEBUG = env.bool("DEBUG", default=True)
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])

# Demo logins and the sandbox lab exist only outside production, whatever the environment says.
DEMO_MODE = (not PRODUCTION) and env.bool("OTOORDER_DEMO_MODE", default=True)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    "otoorder.apps.OtoorderConfig",
    "suppliers",
    "branches",
    "otoorder.transactions",
    "otoorder.orders",
    "otoorder.complaints",
    "otoorder.notifications",
    "otoorder.api",
    "otoorder.sandbox",
]

MIDDLEWARE = [
    # First: /healthz and /readyz answer load balancers and orchestrators before anything else
    # (no host check, no HTTPS redirect, no session; otoorder/operations/health.py).
    "otoorder.operations.health.HealthMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a login refused for a locked user name into its answer (otoorder/login.py).
    "axes.middleware.AxesMiddleware",
]

if PRODUCTION:
    # Production serves the collected, compressed static files itself (collectstatic first);
    # in development runserver and the test live server serve them from the finders.
    MIDDLEWARE.insert(2, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "otoorder.urls"
WSGI_APPLICATION = "otoorder.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "otoorder.context_processors.otoorder",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'otoorder.sqlite3'}"),
}
DATABASES["default"].setdefault("ATOMIC_REQUESTS", False)
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Web, worker and beat share the file: wait for locks instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses every login of a locked user name before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling (otoorder/login.py): 5 wrong passwords for one user name lock that name
# (HTML login and POST /api/v1/auth/token/) for OTOORDER_LOGIN_COOLOFF seconds.
AXES_FAILURE_LIMIT = 5
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_COOLOFF_TIME = timedelta(seconds=env.int("OTOORDER_LOGIN_COOLOFF", default=15 * 60))
# Tries during the lock-out are not counted: the lock ends when Retry-After says.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "otoorder.login.lockout_response"
# axes warns when the IP address is not a lock-out parameter. By design it is not: the staff
# of a branch share one address, and one mistyping colleague must not lock out the branch.
# The lock is per user name, whatever address, agent or cookie a try comes with.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
LOGIN_URL = "login"
# The start page: the open-orders worklist.
LOGIN_REDIRECT_URL = "orders:order_list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "de"
LANGUAGES = [("de", _("Deutsch")), ("en", _("Englisch"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Berlin")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Front-end assets come from the npm registry at install time (package.json) and are served
# from here; nothing third-party is committed.
STATICFILES_DIRS = [
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", BASE_DIR / "node_modules" / "bootstrap-icons" / "font"),
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
    ("vendor/chart.js", BASE_DIR / "node_modules" / "chart.js" / "dist"),
    ("vendor/three/build", BASE_DIR / "node_modules" / "three" / "build"),
    ("vendor/three/jsm", BASE_DIR / "node_modules" / "three" / "examples" / "jsm"),
    BASE_DIR / "static",
]
#: Seconds one call to the object store may take (connect, and each read), when there is one.
OTOORDER_STORAGE_TIMEOUT = env.float("OTOORDER_STORAGE_TIMEOUT", default=5.0)
STORAGES = {
    # The private folder below (embedded default) or, with OTOORDER_STORAGE_URL, an S3-compatible
    # object store shared by every host (otoorder/storage.py: the URL's form).
    "default": default_storage_settings(env.str("OTOORDER_STORAGE_URL", default=""), timeout=OTOORDER_STORAGE_TIMEOUT),
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Uploaded files (scans, attachments, complaint photos) hold health data: kept outside the web
# root (or in a private bucket) and served only through views that check the branch.
MEDIA_ROOT = Path(env.str("OTOORDER_PRIVATE_ROOT", default=str(VAR_DIR / "private")))

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
# Required fields say so to screen readers too (aria-required, otoorder/form_rendering.py).
FORM_RENDERER = "otoorder.form_rendering.FormRenderer"

# --- E-mail (standard ordering process) ---------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="smtp://127.0.0.1:2525")
vars().update(EMAIL_CONFIG)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="bestellung@otoorder.invalid")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Celery -------------------------------------------------------------------------------
BROKER_DIR = VAR_DIR / "broker"
#: Seconds any one broker operation (connect, a publish's commands) may take. A broker that
#: hangs must not hang the API: a publish after commit gives up after this and leaves the
#: order to the sweeper (docs/operations.md, "When something is down").
BROKER_TIMEOUT = env.float("OTOORDER_BROKER_TIMEOUT", default=1.0)
#: Options of kombu's Redis transport. No dispatch countdown (at most 15 minutes) comes near
#: the visibility timeout, so that a message that a dead worker held is redelivered only
#: after our own sweeper had its chance.
REDIS_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "socket_timeout": BROKER_TIMEOUT,
    "socket_connect_timeout": BROKER_TIMEOUT,
}
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "out"),
        "data_folder_out": str(BROKER_DIR / "out"),
        "control_folder": str(BROKER_DIR / "control"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
    }
    # The embedded broker needs no server, only its folders.
    for folder in ("out", "control", "processed"):
        (BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = dict(REDIS_TRANSPORT_OPTIONS)
#: Queues (docs/operations.md, "Queues"): ``celery`` for the periodic work, and one per
#: interface backend for what talks to labs (``otoorder/orders/routing.py``). A worker
#: without ``-Q`` consumes them all; ``-Q lab.dreve_smartorder`` one that serves those labs.
CELERY_TASK_DEFAULT_QUEUE = "celery"
OTOORDER_LAB_QUEUES = {key: f"lab.{key}" for key in _BACKENDS}
CELERY_TASK_QUEUES = {name: {} for name in [CELERY_TASK_DEFAULT_QUEUE, *OTOORDER_LAB_QUEUES.values()]}
CELERY_TASK_ROUTES = ("otoorder.orders.routing.route_task",)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_BROKER_CONNECTION_TIMEOUT = BROKER_TIMEOUT
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
#: A prefork child is replaced after the task during which its resident memory passed this
#: (MB; 0 = never): long runs stay bounded whatever a library keeps (bench/worker_memory.py).
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env.int("OTOORDER_WORKER_MAX_MEMORY_MB", default=200) * 1024 or None
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "sweep-dispatches": {
        "task": "otoorder.orders.tasks.sweep_dispatches",
        "schedule": env.float("OTOORDER_SWEEP_INTERVAL", default=30.0),
    },
    # Status polls and inbox files of the labs (otoorder/orders/polling.py).
    "poll-labs": {
        "task": "otoorder.orders.tasks.poll_labs",
        "schedule": env.float("OTOORDER_POLL_INTERVAL", default=300.0),
    },
    # Overdue orders: one notification per order, user and day (later runs of the day add nothing).
    "notify-overdue": {
        "task": "otoorder.notifications.tasks.notify_overdue",
        "schedule": crontab(minute=5),
    },
    # The daily e-mail digest of notifications (one mail per user and day).
    "send-digests": {
        "task": "otoorder.notifications.tasks.send_digests",
        "schedule": crontab(minute=0, hour=env.int("OTOORDER_DIGEST_HOUR", default=7)),
    },
}
#: Seconds between two looks of an open page at its bell's unread count (htmx polling).
OTOORDER_NOTIFICATION_POLL_SECONDS = env.int("OTOORDER_NOTIFICATION_POLL_SECONDS", default=30)
#: Where otoorder answers, for the links in e-mails (the digest); without it they carry none.
OTOORDER_BASE_URL = env.str("OTOORDER_BASE_URL", default="")
#: Orders asked about per definition and poll run (the rest follow in the next runs).
OTOORDER_POLL_BATCH = env.int("OTOORDER_POLL_BATCH", default=100)

# --- Dispatch policy ------------------------------------------------------------------------
OTOORDER_DISPATCH = {
    # Transient failures are retried for a time, not a number of attempts: until the horizon
    # after the round's first attempt, with exponential backoff (jittered, with a floor) whose
    # waits are capped at 15 minutes, well below Redis' visibility timeout of one hour.
    "RETRY_HORIZON": timedelta(seconds=env.float("OTOORDER_DISPATCH_RETRY_HORIZON", default=24 * 3600.0)),
    "BACKOFF_BASE_SECONDS": env.float("OTOORDER_DISPATCH_BACKOFF_BASE", default=15.0),
    "BACKOFF_MAX_SECONDS": min(env.float("OTOORDER_DISPATCH_BACKOFF_MAX", default=900.0), 900.0),
    # A row still `queued` this long after it was due was never picked up (broker down at
    # commit, message lost); a row `sending` this long belongs to a dead worker.
    "QUEUED_DEADLINE": timedelta(seconds=env.float("OTOORDER_QUEUED_DEADLINE", default=60.0)),
    "SENDING_DEADLINE": timedelta(seconds=env.float("OTOORDER_SENDING_DEADLINE", default=300.0)),
    # Timeout of one call to a lab.
    "TRANSPORT_TIMEOUT": env.float("OTOORDER_TRANSPORT_TIMEOUT", default=30.0),
}

# --- Impressions and earmoulds -------------------------------------------------------------
#: Largest scan file accepted (STL/PLY), in bytes.
OTOORDER_SCAN_MAX_BYTES = env.int("OTOORDER_SCAN_MAX_BYTES", default=50 * 1024 * 1024)
#: Scans attached to an e-mailed order (standard process), in MB (MiB) for all scans of one
#: e-mail together. A scan beyond it is not attached: the PDF tells the lab that the branch
#: sends it separately, and the order's history tells staff. 0 attaches none.
OTOORDER_MAIL_SCAN_LIMIT_MB = env.float("OTOORDER_MAIL_SCAN_LIMIT_MB", default=10.0)
#: The official openTRANS 2.1 schema (not shipped): egger ERP orders are validated against it
#: before sending when set; by default the copy beside the checkout, if there (the tests need it).
_OPENTRANS_XSD_BESIDE = BASE_DIR.parent / "shared" / "schemas" / "opentrans-2.1" / "opentrans_2_1.xsd"
OTOORDER_OPENTRANS_XSD = env.str("OTOORDER_OPENTRANS_XSD", default=str(_OPENTRANS_XSD_BESIDE) if _OPENTRANS_XSD_BESIDE.is_file() else "")
#: Warranty of a fitted earmould, in months from the fitting date.
OTOORDER_WARRANTY_MONTHS = env.int("OTOORDER_WARRANTY_MONTHS", default=12)

# --- Live status of the order pages (otoorder/orders/live.py) ------------------------------
#: Seconds between the status checks of a page that shows an open order (at least 1 s), of an
#: order page while the order is being sent, and of a page in a hidden browser tab.
OTOORDER_LIVE = {
    "INTERVAL": max(env.float("OTOORDER_LIVE_INTERVAL", default=5.0), 1.0),
    "IN_FLIGHT_INTERVAL": max(env.float("OTOORDER_LIVE_IN_FLIGHT_INTERVAL", default=2.0), 1.0),
    "HIDDEN_INTERVAL": max(env.float("OTOORDER_LIVE_HIDDEN_INTERVAL", default=60.0), 1.0),
}

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "otoorder.api.authentication.ExpiringTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "otoorder.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # JSON only: DRF's browsable API needs inline scripts and styles (refused by our
    # Content-Security-Policy) and mixes languages; the OpenAPI schema documents the API.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "otoorder.api.schema.ErrorResponsesSchema",
    "EXCEPTION_HANDLER": "otoorder.api.exceptions.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "otoorder.api.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 100,
}
#: Lifetime of an API token in seconds from its issue (default 10 hours, one shift).
OTOORDER_TOKEN_TTL = env.int("OTOORDER_TOKEN_TTL", default=10 * 60 * 60)
SPECTACULAR_SETTINGS = {
    "TITLE": "otoorder API",
    "DESCRIPTION": "Earmould ordering for hearing-aid branches.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # One name per choice set, so that the schema has no duplicate enums.
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "otoorder.orders.choices.OrderStatus",
        # Impressions had the name first; notifications have a "kind" of their own.
        "KindEnum": "otoorder.vocabulary.ImpressionKind",
        "NotificationKindEnum": "otoorder.notifications.choices.Kind",
        # One name for the ear wherever it appears (items, impressions, serials, parcels).
        "SideEnum": "otoorder.vocabulary.Side",
        "ComplaintOutcomeEnum": "otoorder.orders.choices.ComplaintOutcome",
    },
}

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Content-Security-Policy on every response (django-csp): scripts, styles, fonts and images
# only from our own origin (front-end assets are served locally); no inline script or style
# in the templates. The one exception is the scan viewer's import map (data, not code), admitted
# by the nonce of its response. No form-action: the portal hand-off redirects to the portal.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Operations: health, metrics, logs (otoorder/operations/, docs/operations.md) ------------
#: Seconds each dependency of ``GET /readyz`` (database, broker, storage) may take.
OTOORDER_READY_TIMEOUT = min(max(env.float("OTOORDER_READY_TIMEOUT", default=1.5), 0.1), 5.0)
#: Who may read ``GET /metrics``: addresses or networks (``10.0.0.0/8``) of the scraper and/or a
#: bearer token. Each one configured must match; with neither configured everyone is refused.
OTOORDER_METRICS_ALLOWED_IPS = [
    str(ipaddress.ip_network(value.strip(), strict=False))
    for value in env.list("OTOORDER_METRICS_ALLOWED_IPS", default=[])
    if value.strip()
]
OTOORDER_METRICS_TOKEN = env.str("OTOORDER_METRICS_TOKEN", default="")
#: ``plain`` (default) or ``json``: one JSON object per line (python-json-logger) with the order's
#: UUID as ``order_id`` while a worker carries an order (otoorder/logcontext.py).
OTOORDER_LOG_FORMAT = env.str("OTOORDER_LOG_FORMAT", default="plain").strip().lower()
if OTOORDER_LOG_FORMAT not in ("plain", "json"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("OTOORDER_LOG_FORMAT must be 'plain' or 'json'.")
# In JSON mode a worker keeps Django's handlers (below) instead of installing Celery's own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = OTOORDER_LOG_FORMAT != "json"

# Logs never carry personal data: our own loggers log ids only.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"order": {"()": "otoorder.logcontext.OrderContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": OTOORDER_LOG_FORMAT, "filters": ["order"]}
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # axes: its start banner and per-try records stay out; lock-outs are logged by otoorder.login.
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # Celery's task logger does not propagate: in JSON mode it writes through ours too.
        **({"celery.task": {"handlers": ["console"]}} if OTOORDER_LOG_FORMAT == "json" else {}),
    },
}
