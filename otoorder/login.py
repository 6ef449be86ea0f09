"""The login lock-out (django-axes) as staff and API clients see it, and its log record.

After ``AXES_FAILURE_LIMIT`` (5) wrong passwords for one user name, every login with that
name is refused, the right password too, until ``OTOORDER_LOGIN_COOLOFF`` seconds have
passed since the last counted failure. Tries during the lock-out are not counted, so the
lock ends when announced (``Retry-After``).

* HTML login: the login page again, status 429, with a German message.
* ``POST /api/v1/auth/token/``: 429 ``locked_out`` with ``Retry-After`` in the API's error
  format (raised by the view itself, ``otoorder/api/tokens.py``); this response passes.

The log record names the user id (or "unknown user name") and the path, never the user name
and never the password; axes' own records mask the user name (``AXES_SENSITIVE_PARAMETERS``).
"""

import logging
import math

from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Max
from django.dispatch import receiver
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import ngettext

logger = logging.getLogger(__name__)


def cool_off_seconds(username=None):
    """Seconds until the lock-out of ``username`` ends (the whole cool-off without a name)."""
    cool_off = settings.AXES_COOLOFF_TIME
    if username is not None:
        last = AccessAttempt.objects.filter(username=username).aggregate(last=Max("attempt_time"))["last"]
        if last is not None:
            return max(1, math.ceil((last + cool_off - timezone.now()).total_seconds()))
    return math.ceil(cool_off.total_seconds())


def lockout_message(seconds):
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext(
        "Zu viele falsche Anmeldeversuche für diesen Benutzernamen. Die Anmeldung ist für %(minutes)d Minute gesperrt.",
        "Zu viele falsche Anmeldeversuche für diesen Benutzernamen. Die Anmeldung ist für %(minutes)d Minuten gesperrt.",
        minutes,
    ) % {"minutes": minutes}


def _username(credentials):
    return (credentials or {}).get(get_user_model().USERNAME_FIELD)


def lockout_response(request, original_response=None, credentials=None):
    """``AXES_LOCKOUT_CALLABLE``: the answer to a login refused for a locked user name."""
    if request.path.startswith("/api/") and original_response is not None and original_response.status_code == 429:
        return original_response  # the API's own 429 locked_out (otoorder/api/tokens.py)
    username = _username(credentials)
    seconds = cool_off_seconds(username)
    form = AuthenticationForm(request, initial={"username": username or ""})
    response = render(
        request,
        "registration/login.html",
        {"form": form, "locked_out": lockout_message(seconds), "next": request.POST.get("next", "")},
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response


@receiver(user_locked_out, dispatch_uid="otoorder.login.log_lockout")
def log_lockout(sender, request=None, username=None, **kwargs):
    users = get_user_model().objects.filter(**{get_user_model().USERNAME_FIELD: username})
    user_id = users.values_list("pk", flat=True).first()
    logger.warning(
        "login locked out after repeated failures: %s, path %s",
        f"user id {user_id}" if user_id is not None else "unknown user name",
        getattr(request, "path", "-"),
    )
