"""``/api/v1/auth/token/``: a login issues a new token, ``DELETE`` revokes it.

* ``POST`` with ``username`` and ``password`` issues a new token and revokes the user's
  previous one (one token per user: a new login ends the old one); it is valid for
  ``OTOORDER_TOKEN_TTL`` (``authentication.py``).
* ``DELETE`` (with the token or a session) revokes the caller's token at once.
* Logins go through django-axes (``AUTHENTICATION_BACKENDS``): after ``AXES_FAILURE_LIMIT``
  wrong passwords for one user name every try is refused, the right password too, until the
  cool-off (``OTOORDER_LOGIN_COOLOFF``) passed: 429 ``locked_out`` with ``Retry-After``.
"""

from django.contrib.auth import authenticate, get_user_model
from django.db import transaction
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from otoorder.login import cool_off_seconds, lockout_message

from . import serializers as s
from .authentication import LockedOut, expires_at
from .exceptions import InvalidCredentials
from .views import ERROR


class IssuedTokenSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True)
    expires_at = serializers.DateTimeField(
        read_only=True, help_text=gettext_lazy("Ende der Gültigkeit (OTOORDER_TOKEN_TTL).")
    )


def issue_token(user):
    """A new token for ``user``; the previous one (if any) stops working."""
    with transaction.atomic():
        # Two logins of one user at once: the second waits here instead of colliding.
        get_user_model().objects.select_for_update().get(pk=user.pk)
        Token.objects.filter(user=user).delete()
        return Token.objects.create(user=user)


class TokenView(APIView):
    """``POST`` with ``username`` and ``password`` → a new token; ``DELETE`` revokes your token."""

    def _is_login(self):
        return getattr(getattr(self, "request", None), "method", "") == "POST"

    def get_authenticators(self):
        return [] if self._is_login() else super().get_authenticators()

    def get_permissions(self):
        return [AllowAny()] if self._is_login() else super().get_permissions()

    @extend_schema(
        request=s.TokenRequestSerializer,
        responses={
            200: IssuedTokenSerializer,
            400: OpenApiResponse(ERROR, description="`invalid` or `invalid_credentials`."),
            429: OpenApiResponse(
                ERROR,
                description="`locked_out`: too many wrong passwords for this user name; "
                "`Retry-After` gives the seconds to wait.",
            ),
        },
        auth=[],
        summary="API-Token holen",
        description=(
            "Issues a new token, valid for `OTOORDER_TOKEN_TTL` (default 10 hours); a token issued "
            "before to the same user stops working. After 5 wrong passwords for one user name "
            "every try (the right password too) answers 429 `locked_out` until the cool-off passed."
        ),
    )
    def post(self, request):
        serializer = s.TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # django-axes counts and refuses on Django's request, where its middleware looks.
        django_request = request._request
        user = authenticate(
            django_request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if getattr(django_request, "axes_locked_out", False):
            wait = cool_off_seconds(serializer.validated_data["username"])
            raise LockedOut(wait, lockout_message(wait))
        if user is None or not user.is_active:
            raise InvalidCredentials()
        token = issue_token(user)
        return Response({"token": token.key, "expires_at": expires_at(token)})

    @extend_schema(
        request=None,
        responses={204: None, 401: OpenApiResponse(ERROR, description="`not_authenticated` or `token_expired`.")},
        summary="API-Token widerrufen",
        description="Revokes the caller's token at once; further requests with it answer 401.",
    )
    def delete(self, request):
        Token.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
