"""Authentication of the API: tokens with a lifetime, and the errors of a login.

A token is valid for ``OTOORDER_TOKEN_TTL`` (default 10 hours, one shift) from its creation;
after that every request with it answers 401 ``token_expired``. Issue and revocation:
``tokens.py``. This module imports no views: DRF imports it from the settings while
``rest_framework.views`` is being set up.
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.authentication import TokenAuthentication


def token_ttl():
    return timedelta(seconds=settings.OTOORDER_TOKEN_TTL)


def expires_at(token):
    return token.created + token_ttl()


class TokenExpired(exceptions.AuthenticationFailed):
    default_code = "token_expired"

    def __init__(self):
        super().__init__(
            _("Das Token ist abgelaufen. Bitte mit POST /api/v1/auth/token/ ein neues holen."), self.default_code
        )


class LockedOut(exceptions.APIException):
    """Too many wrong passwords for this user name: 429 with ``Retry-After`` (``otoorder/login.py``)."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"

    def __init__(self, wait, message):
        super().__init__(message, self.default_code)
        self.wait = wait


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, refusing tokens older than ``OTOORDER_TOKEN_TTL``."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if timezone.now() >= expires_at(token):
            raise TokenExpired()
        return user, token
