"""Who may call what. Scoping of data (which rows a user sees) lives in the querysets of the
views, through ``visible_to(user)`` of ``branches.access``; these classes only gate whole
endpoints and objects.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

from branches.scope import admin_scope


def request_admin_scope(request):
    """The user's AdminScope, computed once per request."""
    scope = getattr(request, "_otoorder_admin_scope", None)
    if scope is None:
        scope = admin_scope(request.user)
        request._otoorder_admin_scope = scope
    return scope


class IsAdministrator(BasePermission):
    """Branch or chain administrators (branch administration); staff are refused."""

    message = _("Nur Filial- oder Kettenadministratoren haben hier Zugriff.")

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated) and request_admin_scope(request).exists


class CanAdminDefinition(BasePermission):
    """Branch admins change only definitions restricted to their branch."""

    message = _(
        "Diese Schnittstellendefinition gilt über Ihre Filiale hinaus; "
        "nur die Kettenadministration darf sie ändern."
    )

    def has_object_permission(self, request, view, obj):
        if request.method in SAFE_METHODS:
            return True
        return request_admin_scope(request).can_admin_definition(obj)


class ChainAdminCanWrite(BasePermission):
    """Everyone signed in may read; only chain administrators create (companies, suppliers)."""

    message = _("Nur Kettenadministratoren dürfen Firmen und Lieferanten anlegen.")

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in SAFE_METHODS or request_admin_scope(request).is_chain_admin()
