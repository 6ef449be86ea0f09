"""otoorder's settings for the processes of the multi-host test (``test_multihost.py``).

Only one thing differs from production: kombu's Redis transport hands a message that a dead
worker held to another worker after ``visibility_timeout`` seconds (an hour in production),
and looks for such messages every second, so that the test sees that redelivery within its
run. The redelivered task finds its outbox row still claimed and does nothing; the sweeper
takes the row back after the sending deadline and the order is sent once more, with the
same idempotency key.
"""

from otoorder.settings import *  # noqa: F403
from otoorder.settings import REDIS_TRANSPORT_OPTIONS

VISIBILITY_TIMEOUT = 4

CELERY_BROKER_TRANSPORT_OPTIONS = {
    **REDIS_TRANSPORT_OPTIONS,
    "visibility_timeout": VISIBILITY_TIMEOUT,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}

# Passwords are not the subject here (the suite's ``fast_password_hasher`` does the same): the
# production hasher costs seconds per login on a busy test machine.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
